"""speed.bart: BART shapes with random weights and their pruned (compacted) forms, for Table 6's speed half."""

import pytest
import torch

from nashlib.speed import bart, timing


def test_bart_base_has_the_papers_size():
    cfg = bart.bart_config("bart-base")
    assert (cfg.d_model, cfg.encoder_layers, cfg.decoder_layers, cfg.encoder_ffn_dim, cfg.vocab_size) == (
        768, 6, 6, 3072, 50265)
    with pytest.raises(ValueError, match="unknown BART shape 'bart-huge'; allowed: bart-base, tiny-bart"):
        bart.bart_config("bart-huge")


def test_pruned_keeps_what_it_is_told_and_nothing_kept_changes_the_tokens():
    dense = bart.build_bart("tiny-bart", seed=0)
    inputs = timing.random_inputs(dense.config.vocab_size, 2, 10, seed=0)
    same = bart.pruned(dense)  # every layer, every unit: the dense model compacted
    assert torch.equal(timing.generation_call(dense, inputs, new_tokens=5, beams=2)(),
                       timing.generation_call(same, inputs, new_tokens=5, beams=2)())
    n2 = bart.pruned(dense, decoder_layers=2, encoder_share=0.5)
    assert n2.config.model_type == "nash_bart" and n2.config.decoder_layers == 2
    layer = n2.model.encoder.layers[0]
    assert (layer.self_attn.num_heads, layer.fc1.out_features) == (2, 32)  # half of 4 heads, half of 64 units
    assert bart.total_parameters(n2) < bart.total_parameters(dense)
    with pytest.raises(ValueError, match="encoder_share=0; allowed: 0 < share <= 1"):
        bart.pruned(dense, encoder_share=0)


def test_share_for_params_finds_the_closest_share():
    dense = bart.build_bart("tiny-bart", seed=0)
    n = bart.total_parameters(dense)
    share = bart.share_for_params(dense, 0.9 * n, grid=20)
    got = bart.total_parameters(bart.pruned(dense, encoder_share=share, decoder_share=share))
    for other in (share - 0.05, share + 0.05):
        if 0 < other <= 1:
            alt = bart.total_parameters(bart.pruned(dense, encoder_share=other, decoder_share=other))
            assert abs(got - 0.9 * n) <= abs(alt - 0.9 * n)
    with pytest.raises(ValueError, match="parts=\\['middle'\\]; allowed"):
        bart.share_for_params(dense, n / 2, parts=("middle",))
    with pytest.raises(ValueError, match="params=0; allowed"):
        bart.share_for_params(dense, 0)
