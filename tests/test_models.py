import pytest
import torch

from nashlib import shapes as models


def test_known_shapes_match_published_configs():
    base = models.shape("t5-base")
    assert (base.d_model, base.num_heads, base.d_ff, base.num_layers) == (768, 12, 3072, 12)
    odd = models.shape("tiny-odd")
    assert odd.d_kv * odd.num_heads != odd.d_model


def test_unknown_shape_lists_allowed():
    with pytest.raises(ValueError, match="unknown model shape 't5-huge'; allowed: t5-small, t5-base"):
        models.shape("t5-huge")


@pytest.mark.parametrize("kwargs,match", [
    (dict(decoder_layers=0), "decoder_layers=0; allowed: an integer from 1"),
    (dict(encoder_layers=-1), "encoder_layers=-1"),
    (dict(decoder_layers=2.0), "decoder_layers=2.0"),
    (dict(encoder_heads=0), "encoder_heads=0"),
])
def test_build_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.build_t5("tiny", **kwargs)


def test_build_with_separate_encoder_width_runs():
    m = models.build_t5("tiny", encoder_heads=2, encoder_d_ff=32, decoder_layers=2)
    enc_attn = m.encoder.block[0].layer[0].SelfAttention
    dec_attn = m.decoder.block[0].layer[0].SelfAttention
    assert (enc_attn.n_heads, dec_attn.n_heads) == (2, 4)
    assert m.encoder.block[0].layer[-1].DenseReluDense.wi.out_features == 32
    assert m.config.nash_encoder == {"num_heads": 2, "d_ff": 32}
    assert m.encoder.embed_tokens is m.shared
    ids = torch.randint(2, 500, (2, 7))
    out = m(input_ids=ids, decoder_input_ids=ids[:, :3])
    assert out.logits.shape == (2, 3, 512)


def test_share_view_is_the_same_model_as_a_physical_copy():
    base = models.build_t5("tiny", seed=1)
    view = models.share_view(base, decoder_layers=2)
    assert view.decoder.block[0].layer[0].SelfAttention.q.weight.data_ptr() == \
        base.decoder.block[0].layer[0].SelfAttention.q.weight.data_ptr()
    assert len(base.decoder.block) == 4  # the base is untouched
    physical = models.build_t5("tiny", decoder_layers=2, seed=2)
    missing, unexpected = physical.load_state_dict(
        {k: v for k, v in base.state_dict().items() if not k.startswith(("decoder.block.2", "decoder.block.3"))},
        strict=False)
    assert not missing and not unexpected
    ids = torch.randint(2, 500, (2, 9))
    with torch.no_grad():
        a = view(input_ids=ids, decoder_input_ids=ids[:, :4]).logits
        b = physical(input_ids=ids, decoder_input_ids=ids[:, :4]).logits
    assert torch.equal(a, b)


def test_share_view_takes_another_encoder_and_generates():
    base = models.build_t5("tiny", seed=1)
    narrow = models.build_t5("tiny", encoder_heads=3, encoder_d_ff=100, seed=2)
    view = models.share_view(base, decoder_layers=1, encoder_from=narrow)
    assert view.encoder is narrow.encoder and view.decoder.block[0] is base.decoder.block[0]
    assert view.config.nash_encoder == {"num_heads": 3, "d_ff": 100}
    ids = torch.randint(2, 500, (2, 5))
    out = view.generate(input_ids=ids, num_beams=2, max_new_tokens=3, min_new_tokens=3,
                        cache=models.empty_cache())
    assert out.shape == (2, 4)
    with pytest.raises(ValueError, match="decoder_layers=5; allowed: an integer from 1 to 4"):
        models.share_view(base, decoder_layers=5)


def test_deeper_decoder_than_encoder_generates_with_empty_cache():
    m = models.build_t5("tiny", encoder_layers=1, decoder_layers=3, seed=0)
    ids = torch.randint(2, 500, (2, 6))
    cached = m.generate(input_ids=ids, num_beams=2, max_new_tokens=5, cache=models.empty_cache())
    uncached = m.generate(input_ids=ids, num_beams=2, max_new_tokens=5, use_cache=False)
    assert torch.equal(cached, uncached)


@pytest.mark.parametrize("name", ["t5-base", "tiny-odd", "tiny-gated"])
def test_narrow_width_counts_real_parameters(name):
    s = models.shape(name)
    heads, d_ff, reached = models.narrow_width(s, 0.3)
    per_head, per_unit = 4 * s.d_model * s.d_kv, (3 if s.gated else 2) * s.d_model
    full = s.num_heads * per_head + s.d_ff * per_unit
    assert reached == pytest.approx(1 - (heads * per_head + d_ff * per_unit) / full)
    assert abs(reached - 0.3) < 0.02 or name != "t5-base"
    assert models.narrow_width(s, 0.0)[:2] == (s.num_heads, s.d_ff)


def test_narrow_width_t5_base_values():
    assert models.narrow_width("t5-base", 0.3) == (8, 2202, pytest.approx(0.29991, abs=1e-4))
    with pytest.raises(ValueError, match="sparsity=1.0; allowed: 0 <= sparsity < 1"):
        models.narrow_width("t5-base", 1.0)


def test_count_parameters_excludes_embeddings():
    s = models.shape("tiny")
    m = models.build_t5("tiny")
    attn = 4 * s.d_model * s.d_kv * s.num_heads
    ffn = 2 * s.d_model * s.d_ff
    ln = s.d_model
    bias = 32 * s.num_heads  # relative position bias table in block 0 of each stack
    enc = s.num_layers * (attn + ffn + 2 * ln) + ln + bias
    dec = s.num_decoder_layers * (2 * attn + ffn + 3 * ln) + ln + bias
    assert models.count_parameters(m) == enc + dec
    assert models.count_parameters(m, exclude_embeddings=False) == enc + dec + s.vocab_size * s.d_model


def test_build_layer_shapes():
    block = models.build_layer("tiny", num_heads=2, d_ff=8, decoder=True)
    assert block.is_decoder and len(block.layer) == 3
    assert block.layer[0].SelfAttention.n_heads == 2


def test_load_explains_offline_failure(tmp_path):
    with pytest.raises(OSError, match="could not load model .* save_pretrained"):
        models.load(str(tmp_path / "no-such-model"), local_files_only=True)


def test_load_reads_a_saved_model(tmp_path):
    m = models.build_t5("tiny")
    m.save_pretrained(tmp_path)
    again = models.load(str(tmp_path))
    ids = torch.randint(2, 500, (1, 4))
    with torch.no_grad():
        assert torch.allclose(m(input_ids=ids, decoder_input_ids=ids).logits,
                              again(input_ids=ids, decoder_input_ids=ids).logits)


def test_count_parameters_of_a_view_ignores_the_other_models_embedding():
    base = models.build_t5("tiny", seed=1)
    other = models.build_t5("tiny", seed=2)
    view = models.share_view(base, decoder_layers=4, encoder_from=other)
    assert models.count_parameters(view) == models.count_parameters(base)
