import warnings

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM

from nashlib import shapes as models
from nashlib.pruning.compact import NashT5ForConditionalGeneration, SkippedSublayer, compact
from nashlib.pruning.masks import PruningMasks

ALL = ("heads", "ffn_units", "mha_layer", "ffn_layer", "hidden")


def _random_masks(model, types, parts, seed):
    masks = PruningMasks(model, types=types, parts=parts)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in masks.masks.values():
            m.log_alpha.copy_(torch.randn(m.n, generator=g) * 2.5 + 1.0)
    return masks.eval()


def _logits(model, masks=None):
    ids, dec = torch.randint(2, 500, (3, 9), generator=torch.Generator().manual_seed(1)), \
        torch.randint(2, 500, (3, 5), generator=torch.Generator().manual_seed(2))
    mask = torch.ones_like(ids)
    mask[0, 6:] = 0  # padding in one example
    with torch.no_grad():
        if masks is None:
            return model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
        with masks:
            return model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits


@pytest.mark.parametrize("shape", ["tiny", "tiny-gated", "tiny-odd"])
@pytest.mark.parametrize("types,parts", [(("heads", "ffn_units"), ("encoder",)), (ALL, ("encoder", "decoder"))])
def test_compact_model_computes_what_the_masked_model_did(shape, types, parts, tmp_path):
    model = models.build_t5(shape, seed=0)
    masks = _random_masks(model, types, parts, seed=3)
    with torch.no_grad():  # every head of one layer and every FFN unit of another
        masks.masks["encoder_self_heads"].log_alpha.view(-1, model.config.num_heads)[0] = -30.0
        masks.masks["encoder_ffn_ffn_units"].log_alpha.view(model.config.num_layers, -1)[1] = -30.0
    masked = _logits(model, masks)
    small = compact(model, masks)
    assert small.config.nash_layout["encoder"][0]["self"] == []
    assert isinstance(small.encoder.block[1].layer[-1], SkippedSublayer)
    assert models.count_parameters(small) < models.count_parameters(model)
    assert (masked - _logits(small)).abs().max() <= 1e-5 * max(1.0, masked.abs().max().item())

    small.save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert isinstance(loaded, NashT5ForConditionalGeneration)
    assert (tmp_path / "model.safetensors").exists()
    assert torch.equal(_logits(loaded), _logits(small))
    ids = torch.randint(2, 500, (2, 7), generator=torch.Generator().manual_seed(5))
    for beams in (1, 4):
        kw = dict(input_ids=ids, num_beams=beams, max_new_tokens=6, min_new_tokens=6)
        with masks:
            reference = model.generate(**kw)
        assert torch.equal(loaded.generate(**kw), reference)


def test_masked_logits_are_small_enough_for_an_absolute_check():
    model = models.build_t5("tiny", seed=0)
    masks = _random_masks(model, ALL, ("encoder", "decoder"), seed=4)
    masked = _logits(model, masks)
    assert (masked - _logits(compact(model, masks))).abs().max() <= 1e-5 * masked.abs().max().clamp_min(1)


def test_compact_without_masks_is_the_same_model():
    model = models.build_t5("tiny-odd", seed=0)
    assert torch.allclose(_logits(model), _logits(compact(model)), atol=1e-6)


def _tiny_bart(seed=0):
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(seed)
    return BartForConditionalGeneration(BartConfig(
        vocab_size=500, d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48, max_position_embeddings=64,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=None)).eval()


@pytest.mark.parametrize("types,parts", [(("heads", "ffn_units"), ("encoder",)),
                                         (("heads", "ffn_units", "mha_layer", "ffn_layer"), ("encoder", "decoder"))])
def test_bart_compacts_exactly(types, parts, tmp_path):
    from nashlib.pruning.compact import NashBartForConditionalGeneration

    model = _tiny_bart()
    masks = _random_masks(model, types, parts, seed=6)
    with torch.no_grad():
        masks.masks["encoder_self_heads"].log_alpha.view(-1, 4)[1] = -30.0  # a layer without heads
    masked = _logits(model, masks)
    small = compact(model, masks)
    assert isinstance(small, NashBartForConditionalGeneration) and small.config.nash_layout["encoder"][1]["self"] == []
    assert (masked - _logits(small)).abs().max() <= 1e-5 * max(1.0, masked.abs().max().item())
    small.save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert torch.equal(_logits(loaded), _logits(small))
    ids = torch.randint(3, 500, (2, 7), generator=torch.Generator().manual_seed(5))
    kw = dict(input_ids=ids, num_beams=4, max_new_tokens=6, min_new_tokens=6)
    with masks:
        reference = model.generate(**kw)
    assert torch.equal(loaded.generate(**kw), reference)


def test_compact_rejects_a_compacted_model_and_a_bad_layout():
    small = compact(models.build_t5("tiny", seed=0))
    with pytest.raises(ValueError, match="compaction takes a dense T5 or BART .* got model type 'nash_t5'"):
        compact(small)
    small.config.nash_layout = {**small.config.nash_layout, "encoder": small.config.nash_layout["encoder"][:2]}
    with pytest.raises(ValueError, match="layout lists 2 encoder layers, config has 4"):
        NashT5ForConditionalGeneration(small.config)


def _untied_v11(tmp_path, **widths):
    """A T5 v1.1 / Flan-T5-style model as transformers 5.x holds one: gated FFN, no output scaling, and an LM
    head that is its own matrix. A 5.x T5 config always says tied; a checkpoint with a head that differs from
    the embedding loads untied (transformers warns and keeps both), which is how the hub's v1.1 models load."""
    model = models.build_t5("tiny-gated", seed=0, **widths)
    assert not model.config.scale_decoder_outputs
    with torch.no_grad():
        model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight))
    if widths:  # a model with per-part widths has no stock loader; it is used as built
        return model
    model.save_pretrained(tmp_path / "v11")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "v11").eval()
    assert loaded.lm_head.weight is not loaded.shared.weight
    assert torch.equal(loaded.lm_head.weight, model.lm_head.weight)
    return loaded


def _exact_with_and_without_masks(model, tmp_path, types=ALL):
    """Masked -> compacted and compacted -> saved -> reloaded logits agree, with and without masks: to 1e-5 of the
    logit scale (float32 rounding of a different summation order; a wrong weight moves logits by 0.1 to 50)."""
    masks = _random_masks(model, types, ("encoder", "decoder"), seed=3)
    for m in (None, masks):
        reference = _logits(model, m)
        tol = 1e-5 * max(1.0, reference.abs().max().item())
        small = compact(model, m)
        assert (reference - _logits(small)).abs().max() <= tol, "compaction changed the logits"
        small.save_pretrained(tmp_path / "small")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "small")
        assert torch.equal(_logits(loaded), _logits(small)), "save/reload changed the logits"
    return small, loaded


def test_untied_lm_head_compacts_and_reloads_exactly(tmp_path):
    model = _untied_v11(tmp_path)
    small, loaded = _exact_with_and_without_masks(model, tmp_path)
    assert small.config.nash_tied_lm_head is False and loaded.lm_head.weight is not loaded.shared.weight
    assert _logits(model).abs().max() > 1.0  # the logits are large enough for an absolute tolerance to mean something


@pytest.mark.parametrize("shape,widths", [
    ("tiny", dict(decoder_heads=2, decoder_d_ff=64)),
    ("tiny", dict(encoder_heads=2)),
    ("tiny", dict(encoder_heads=3, encoder_d_ff=100, decoder_layers=2)),
    ("tiny-gated", dict(encoder_heads=2, decoder_d_ff=64)),  # v1.1 style: gated, untied head, per-part widths
])
def test_encoder_and_decoder_of_different_widths_compact_exactly(shape, widths, tmp_path):
    model = _untied_v11(tmp_path, **widths) if shape == "tiny-gated" else models.build_t5(shape, seed=0, **widths)
    small, loaded = _exact_with_and_without_masks(model, tmp_path)
    enc, dec = (model.encoder.block[0].layer[0].SelfAttention.n_heads, model.decoder.block[0].layer[0].SelfAttention.n_heads)
    layout = loaded.config.nash_layout
    assert (layout["full_num_heads"], layout["decoder_full_num_heads"]) == (enc, dec) and enc != dec or "encoder_d_ff" in widths


@pytest.mark.parametrize("family", ["t5", "bart"])
def test_cached_decoding_matches_the_full_forward(family):
    """Step-by-step decoding with the KV cache (what generate does) gives the teacher-forced logits, also with a
    decoder self-attention that has no heads left (its cache must still record the length)."""
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    model = models.build_t5("tiny", seed=0) if family == "t5" else _tiny_bart()
    masks = _random_masks(model, ("heads", "ffn_units"), ("encoder", "decoder"), seed=8)
    with torch.no_grad():
        masks.masks["decoder_self_heads"].log_alpha.view(-1, 4)[1] = -30.0
    small = compact(model, masks)
    assert small.config.nash_layout["decoder"][1]["self"] == []
    ids = torch.randint(3, 500, (2, 7), generator=torch.Generator().manual_seed(5))
    dec = torch.randint(3, 500, (2, 6), generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        full = small(input_ids=ids, decoder_input_ids=dec).logits
        enc, cache, steps = small.get_encoder()(input_ids=ids), EncoderDecoderCache(DynamicCache(), DynamicCache()), []
        for t in range(dec.shape[1]):
            out = small(encoder_outputs=enc, decoder_input_ids=dec[:, t:t + 1], cache=cache, use_cache=True)
            cache = out.cache
            steps.append(out.logits)
    assert (full - torch.cat(steps, 1)).abs().max() <= 1e-5
