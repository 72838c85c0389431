"""Grouped cross-attention (speed.grouped): the stock tokens, logits within 1e-5, one key row per example, guards."""

import pytest
import torch

from _tiny import padded_inputs, tiny_bart, tiny_nash
from nashlib import shapes
from nashlib.pruning.compact import compact
from nashlib.speed import grouped

MODELS = {"t5-relu": lambda: shapes.build_t5("tiny", seed=0),
          "t5-gated": lambda: shapes.build_t5("tiny-gated", seed=1),
          "t5-converted": lambda: compact(shapes.build_t5("tiny", seed=2)).eval(),  # unpruned, NASH's class
          "nash-compact": tiny_nash}  # uneven decoder, one cross-attention with no heads left


def _generate(model, inputs, beams, cache=None, **kw):
    kw = dict(num_beams=beams, do_sample=False, output_logits=True, return_dict_in_generate=True, **kw)
    with torch.inference_mode():
        if cache is None:
            return model.generate(**inputs, cache=shapes.empty_cache(), **kw)
        with grouped.grouped_modules(model):
            return model.generate(**inputs, cache=cache, **kw)


def _cross_rows(cache) -> set[int]:
    return {layer.keys.shape[0] for layer in cache.cross_attention_cache.layers
            if getattr(layer, "is_initialized", False) and layer.keys.numel() > 0}


@pytest.mark.parametrize("beams", [1, 4])
@pytest.mark.parametrize("name", list(MODELS))
def test_grouped_gives_the_stock_tokens_and_logits(name, beams):
    model = MODELS[name]()
    inputs = padded_inputs(model)  # three examples of 9, 7 and 5 tokens
    stock = _generate(model, inputs, beams, min_new_tokens=8, max_new_tokens=8)
    cache = grouped.grouped_cache(beams)
    mine = _generate(model, inputs, beams, cache, min_new_tokens=8, max_new_tokens=8)
    assert torch.equal(stock.sequences, mine.sequences)
    worst = max((a - b).abs().max().item() for a, b in zip(stock.logits, mine.logits))
    scale = max(a.abs().max().item() for a in stock.logits)  # 5-55 here: the untied v1.1 head's logits are large
    assert worst <= 1e-6 * scale, f"logits differ by {worst:.2e} at scale {scale:.1f}"  # a few float32 ulps
    assert cache.fallback is None
    assert _cross_rows(cache) == {3}  # one row per example (in greedy search there is one anyway)
    assert cache.skipped == (8 if beams == 4 else 0)
    with torch.inference_mode():
        out = grouped.generate_grouped(model, **inputs, num_beams=beams, min_new_tokens=8, max_new_tokens=8)
    assert torch.equal(out, stock.sequences)
    assert all(type(m).__name__ in ("T5Attention", "NashT5Attention") for m in grouped.cross_attentions(model))


@pytest.mark.parametrize("name", ["t5-relu", "nash-compact"])
def test_grouped_gives_the_stock_tokens_when_beams_finish_early(name):
    model = MODELS[name]()
    inputs = padded_inputs(model)
    probe = _generate(model, inputs, 4, min_new_tokens=8, max_new_tokens=8).sequences
    special = {model.config.pad_token_id, model.config.decoder_start_token_id}
    eos = next(t for t in probe[0, 1:].tolist() if t not in special and t not in probe[-1].tolist())
    kw = dict(max_new_tokens=10, eos_token_id=eos, length_penalty=0.0)
    stock = _generate(model, inputs, 4, **kw).sequences
    cache = grouped.grouped_cache(4)
    assert torch.equal(_generate(model, inputs, 4, cache, **kw).sequences, stock)
    assert cache.fallback is None and (stock[0, 1:] == eos).any()


def test_a_beam_count_that_does_not_match_falls_back_to_the_stock_path_with_the_stock_tokens():
    model = MODELS["t5-relu"]()
    inputs = padded_inputs(model)
    stock = _generate(model, inputs, 4, min_new_tokens=6, max_new_tokens=6).sequences
    pairs = grouped.grouped_cache(2)  # groups of 2 rows: equal encoder rows, but beams move across pairs
    assert torch.equal(_generate(model, inputs, 4, pairs, min_new_tokens=6, max_new_tokens=6).sequences, stock)
    assert "crosses examples" in pairs.fallback and _cross_rows(pairs) == {12}  # ungrouped to B*beams rows
    triples = grouped.grouped_cache(3)  # groups of 3 rows mix two examples' encoder rows
    assert torch.equal(_generate(model, inputs, 4, triples, min_new_tokens=6, max_new_tokens=6).sequences, stock)
    assert triples.fallback == "the encoder output rows of one example's beams differ"


def test_bad_requests_are_refused_and_the_model_is_left_as_it_was():
    with pytest.raises(ValueError, match="supports T5 and compacted NASH T5 models; BartForConditionalGeneration"):
        grouped.generate_grouped(tiny_bart(), input_ids=torch.ones(1, 3, dtype=torch.long), num_beams=2)
    model = MODELS["t5-relu"]()
    with pytest.raises(ValueError, match="generate_grouped makes its own cache"):
        grouped.generate_grouped(model, input_ids=torch.ones(1, 3, dtype=torch.long), cache=None)
    with pytest.raises(ValueError, match="num_beams=0"):
        grouped.grouped_cache(0)
    with pytest.raises(RuntimeError, match="boom"), grouped.grouped_modules(model):
        assert {type(m) for m in grouped.cross_attentions(model)} == {grouped.GroupedT5Attention}
        raise RuntimeError("boom")
    assert {type(m).__name__ for m in grouped.cross_attentions(model)} == {"T5Attention"}  # restored
