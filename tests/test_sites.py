import pytest
import torch
from transformers import BartConfig, BartForConditionalGeneration

from nashlib import shapes as models
from nashlib.pruning.masks import PruningMasks


def test_mask_sizes_follow_the_model():
    model = models.build_t5("tiny-odd", seed=0)
    masks = PruningMasks(model, types=("heads", "ffn_units", "mha_layer", "ffn_layer", "hidden"),
                         parts=("encoder", "decoder"))
    n = {k: m.n for k, m in masks.masks.items()}
    assert n["encoder_self_heads"] == 3 * 3 and n["decoder_cross_heads"] == 3 * 3
    assert n["encoder_ffn_ffn_units"] == 3 * 96 and n["decoder_ffn_ffn_layer"] == 3 and n["hidden"] == 48


def test_full_sizes_count_real_shapes():
    s = models.shape("tiny-gated")
    masks = PruningMasks(models.build_t5("tiny-gated"), types=(), parts=())
    head, unit = 4 * s.d_model * s.d_kv, 3 * s.d_model
    assert masks.full_sizes() == {"encoder": s.num_layers * (s.num_heads * head + s.d_ff * unit),
                                  "decoder": s.num_layers * (2 * s.num_heads * head + s.d_ff * unit)}


def test_actual_sparsity_counts_closed_units():
    model = models.build_t5("tiny", seed=0)
    masks = PruningMasks(model, types=("heads", "ffn_units"), parts=("encoder",))
    with torch.no_grad():
        masks.masks["encoder_self_heads"].log_alpha.fill_(10.0)
        masks.masks["encoder_self_heads"].log_alpha[:4] = -5.0  # all 4 heads of layer 0
        masks.masks["encoder_ffn_ffn_units"].log_alpha.fill_(10.0)
    rep = masks.sparsity_report()
    s = models.shape("tiny")
    full = s.num_layers * (s.num_heads * 4 * s.d_model * s.d_kv + s.d_ff * 2 * s.d_model)
    assert rep["encoder_actual"] == pytest.approx(4 * 4 * s.d_model * s.d_kv / full)
    assert rep["decoder_actual"] == 0.0


def test_expected_sparsity_is_differentiable():
    masks = PruningMasks(models.build_t5("tiny"), types=("heads", "ffn_units", "hidden"), parts=("encoder",))
    s = masks.expected_sparsity("encoder")
    s.backward()
    assert all(m.log_alpha.grad is not None and m.log_alpha.grad.abs().sum() > 0 for m in masks.masks.values())
    with pytest.raises(ValueError, match="scope='all'"):
        masks.expected_sparsity("all")


def test_masks_act_through_hooks_and_detach_cleanly():
    model = models.build_t5("tiny", seed=0)
    ids = torch.randint(2, 500, (2, 5))
    with torch.no_grad():
        plain = model(input_ids=ids, decoder_input_ids=ids).logits
    masks = PruningMasks(model, types=("heads", "ffn_units"), parts=("encoder",)).eval()
    with torch.no_grad():
        for m in masks.masks.values():
            m.log_alpha.fill_(-5.0)  # everything closed: the encoder adds nothing to its embeddings
        with masks:
            closed = model(input_ids=ids, decoder_input_ids=ids).logits
    assert not torch.allclose(plain, closed)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids, decoder_input_ids=ids).logits, plain)


def test_one_draw_per_forward_in_training():
    model = models.build_t5("tiny", seed=0)
    masks = PruningMasks(model, types=("heads",), parts=("encoder", "decoder")).train()
    with torch.no_grad():
        masks.masks["encoder_self_heads"].log_alpha.zero_()  # even odds: two draws differ
    seen = []
    model.encoder.block[0].layer[0].SelfAttention.o.register_forward_pre_hook(
        lambda m, a: seen.append(masks.z("encoder_self_heads").clone()))
    ids = torch.randint(2, 500, (1, 4))
    with masks:
        model(input_ids=ids, decoder_input_ids=ids)
        model(input_ids=ids, decoder_input_ids=ids)
    assert len(seen) == 2 and not torch.equal(seen[0], seen[1])


@pytest.mark.parametrize("kwargs,match", [(dict(types=("rows",)), "unknown mask type 'rows'"),
                                          (dict(parts=("middle",)), "unknown part 'middle'")])
def test_bad_mask_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PruningMasks(models.build_t5("tiny"), **kwargs)


def test_bart_heads_and_units_but_not_hidden():
    bart = BartForConditionalGeneration(BartConfig(vocab_size=100, d_model=16, encoder_layers=2, decoder_layers=2,
                                                   encoder_attention_heads=4, decoder_attention_heads=4,
                                                   encoder_ffn_dim=8, decoder_ffn_dim=8)).eval()
    masks = PruningMasks(bart, types=("heads", "ffn_units"), parts=("encoder", "decoder"))
    assert masks.masks["decoder_cross_heads"].n == 8
    ids = torch.randint(3, 100, (2, 5))
    with masks, torch.no_grad():
        assert bart(input_ids=ids, decoder_input_ids=ids).logits.shape == (2, 5, 100)
    with pytest.raises(ValueError, match="mask type 'hidden' is supported on T5 only") as err:
        PruningMasks(bart, types=("hidden",))
    assert "post-LayerNorm" in str(err.value) and "drop 'hidden'" in str(err.value)


def test_unsupported_model_type():
    class Fake(torch.nn.Module):
        config = type("C", (), {"model_type": "gpt2"})()
    with pytest.raises(ValueError, match="model type 'gpt2' is not supported; supported: bart, nash_bart, nash_t5, t5"):
        PruningMasks(Fake())


def test_closed_layer_masks_equal_dropping_the_layers():
    from nashlib.pruning.layers import keep_decoder_layers

    model = models.build_t5("tiny", seed=0)
    masks = PruningMasks(model, types=("layer",), parts=("decoder",)).eval()
    with torch.no_grad():
        masks.masks["decoder_layer"].log_alpha.copy_(torch.tensor([4.0, -9.0, 4.0, -9.0]))
    assert masks.deterministic()["decoder_layer"].tolist() == [1.0, 0.0, 1.0, 0.0]  # binary at evaluation
    ids, dec = torch.randint(2, 500, (2, 6)), torch.randint(2, 500, (2, 4))
    with torch.no_grad():
        with masks:
            masked = model(input_ids=ids, decoder_input_ids=dec).logits
        dropped = keep_decoder_layers(model, [0, 2])(input_ids=ids, decoder_input_ids=dec).logits
    assert torch.allclose(masked, dropped, atol=1e-5)
    assert masks.expected_layers("decoder").item() == pytest.approx(2.0, abs=0.1)
    with pytest.raises(ValueError, match="no layer mask on the encoder"):
        masks.expected_layers("encoder")
