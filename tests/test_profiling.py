import pytest
import torch

from nashlib import models, profiling, timing


@pytest.fixture(scope="module")
def model():
    return models.build_t5("tiny", seed=0)


def test_every_module_kind_has_a_component(model):
    comp = profiling.component_map(model)
    assert set(comp.values()) <= set(profiling.COMPONENTS)
    attn = model.decoder.block[1].layer[1].EncDecAttention
    assert comp[attn.q] == "attention projections" and comp[attn] == "attention scores & softmax"
    assert comp[model.decoder.final_layer_norm] == "layer norm"
    assert comp[model.lm_head] == "LM head"
    assert comp[model.encoder.embed_tokens] == "embedding"


@pytest.mark.parametrize("beams", [1, 2])
def test_profile_adds_up_and_removes_its_hooks(model, beams):
    inputs = timing.random_inputs(512, 2, 6)
    result = profiling.profile_generation(model, inputs, new_tokens=3, beams=beams)
    parts = sum(result[c] for c in profiling.COMPONENTS)
    assert parts == pytest.approx(result["total"], rel=1e-6)
    assert all(result[c] >= 0 for c in profiling.COMPONENTS if c != "generation loop (search, logits)")
    assert result["layer norm"] > 0 and result["FFN"] > 0 and result["LM head"] > 0
    assert (result["beam cache reorder"] > 0) == (beams > 1)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_shares_sum_to_one():
    rows = [{c: float(i + 1) for i, c in enumerate(profiling.COMPONENTS)}] * 2
    s = profiling.shares(rows)
    assert s.share.sum() == pytest.approx(1.0)
    assert list(s.component) == list(profiling.COMPONENTS)


def test_hooked_and_plain_generation_agree(model):
    inputs = timing.random_inputs(512, 2, 6)
    plain = timing.generation_call(model, inputs, new_tokens=3, beams=2)()
    with profiling.ComponentProfiler(model), torch.inference_mode():
        hooked = model.generate(**inputs, num_beams=2, min_new_tokens=3, max_new_tokens=3,
                                past_key_values=models.empty_cache())
    assert torch.equal(plain, hooked)
