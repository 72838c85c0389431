import pytest
import torch

from nashlib import shapes as models
from nashlib.speed import components as profiling
from nashlib.speed import timing


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
                                cache=models.empty_cache())
    assert torch.equal(plain, hooked)


def test_shares_by_stacks_one_table_per_value_in_order():
    row = {c: 1.0 for c in profiling.COMPONENTS}
    rows = [dict(row, mode="greedy"), dict(row, mode="beam 2", **{"FFN": 9.0})]
    s = profiling.shares_by(rows, "mode", order=["beam 2", "greedy"])
    assert list(dict.fromkeys(s["mode"])) == ["beam 2", "greedy"]
    assert s.groupby("mode").share.sum().tolist() == pytest.approx([1.0, 1.0])
    assert s.set_index(["mode", "component"]).seconds[("beam 2", "FFN")] == 9.0


def test_speed_tables_pair_rounds_and_compare_with_the_paper():
    import pandas as pd

    from nashlib.results import paper
    from nashlib.speed import bench, tables

    samples = pd.DataFrame(dict(config=["base", "fast"] * 3, repeat=[0, 0, 1, 1, 2, 2],
                                wall_s=[2.0, 1.0, 4.0, 1.0, 3.0, 2.0]))
    assert tables.speedups_against(samples, ["fast", "base"], ["base", "fast"]) == pytest.approx([2.0, 0.5])
    t = tables.table1_speed({"NASH-3": 3.0, "NASH-2": 2.0}, paper.table1()).set_index("model")
    assert t.within_paper_range.tolist() == [True, False] and t.paper_min["NASH-3"] == 2.42
    assert tables.paper_range(paper.table1(), "T5-base shape") == (1.0, 1.0)
    alloc = pd.DataFrame(dict(allocator=["glibc defaults"] * 2 + ["settings"] * 2, path=["fast", "stock"] * 2,
                              wall_median_s=[2.0, 4.0, 1.0, 2.0]))
    r = bench.allocator_ratios(alloc)
    assert (r["cache change alone"], r["allocator settings alone"], r["both"]) == (2.0, 2.0, 4.0)
