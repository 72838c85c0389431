"""The fast generation path gives the same tokens as stock generation, and its guard holds."""

import pytest
import torch
from transformers.cache_utils import DynamicCache, EncoderDecoderCache

from _tiny import padded_inputs as _inputs, tiny_bart as _bart, tiny_nash as _nash
from nashlib import shapes as models
from nashlib.speed.fastgen import BeamSharedCrossCache, CacheReusedError, fast_cache, generate_fast


MODELS = {"t5-relu": lambda: models.build_t5("tiny", seed=0), "t5-gated": lambda: models.build_t5("tiny-gated", seed=1),
          "bart": _bart, "nash-compact": _nash}


def _both(model, inputs, beams, **kw):
    stock_cache, cache = models.empty_cache(), fast_cache(beams)
    with torch.inference_mode():
        stock = model.generate(**inputs, num_beams=beams, do_sample=False, cache=stock_cache, **kw)
        fast = model.generate(**inputs, num_beams=beams, do_sample=False, cache=cache, **kw)
    return stock, fast, cache


@pytest.mark.parametrize("beams", [1, 4])
@pytest.mark.parametrize("name", list(MODELS))
def test_fast_gives_the_stock_tokens(name, beams):
    model = MODELS[name]()
    inputs = _inputs(model)
    assert inputs["attention_mask"].sum(1).tolist() == [9, 7, 5]  # examples of different lengths
    stock, fast, cache = _both(model, inputs, beams, min_new_tokens=8, max_new_tokens=8)
    assert stock.shape == (3, 9)
    assert torch.equal(stock, fast)
    assert cache.fallback is None
    assert cache.skipped == (8 if beams == 4 else 0)  # one reorder after every step; none in greedy
    with torch.inference_mode():
        assert torch.equal(generate_fast(model, **inputs, num_beams=beams, max_new_tokens=8, min_new_tokens=8), stock)


@pytest.mark.parametrize("name", list(MODELS))
def test_fast_gives_the_stock_tokens_when_beams_finish_early(name):
    model = MODELS[name]()
    inputs = _inputs(model)
    with torch.inference_mode():  # EOS := a token example 0 emits early and the last example never does
        probe = model.generate(**inputs, num_beams=4, do_sample=False, min_new_tokens=8, max_new_tokens=8)
    special = {model.config.pad_token_id, model.config.decoder_start_token_id}
    eos = next(t for t in probe[0, 1:].tolist() if t not in special and t not in probe[-1].tolist())
    # length_penalty=0 ranks hypotheses by summed log-probability, so a beam that ended early can win and
    # shows in the output; beam search itself runs as usual (no min_new_tokens)
    stock, fast, cache = _both(model, inputs, 4, max_new_tokens=10, eos_token_id=eos, length_penalty=0.0)
    assert torch.equal(stock, fast)
    assert cache.fallback is None and cache.skipped > 0
    gen = stock[:, 1:]  # (B, T_gen); finished rows are filled with pad (or EOS, when pad is 0) after EOS
    filler = (gen == eos) | (gen == model.config.pad_token_id)
    ended = [bool((gen[i, :-1] == eos).any()) and bool(filler[i, (gen[i] == eos).nonzero()[0, 0]:].all())
             for i in range(len(gen))]
    assert ended[0] and not ended[-1], f"eos={eos}: example 0 should end early, the last run on: {stock.tolist()}"
    assert gen.shape[1] == 10  # the last example generated to the end while example 0 had finished


def _filled(num_beams, *, examples=2, same_rows=True, fast=True):
    """A cache for ``examples`` x ``num_beams`` rows, one layer, as after the first decoding step."""
    g = torch.Generator().manual_seed(0)
    n = examples * num_beams
    self_kv = torch.randn(2, n, 2, 3, 4, generator=g)  # (k|v, B*beams, H, t, d_kv)
    cross_kv = torch.randn(2, examples, 2, 5, 4, generator=g)  # (k|v, B, H, T_src, d_kv)
    cross_kv = cross_kv.repeat_interleave(num_beams, 1)  # (k|v, B*beams, H, T_src, d_kv), as generate() expands
    if not same_rows:
        cross_kv[:, 1] += 1.0
    cache = BeamSharedCrossCache(num_beams) if fast else EncoderDecoderCache(DynamicCache(), DynamicCache())
    cache.self_attention_cache.update(*self_kv.clone(), 0)
    cache.cross_attention_cache.update(*cross_kv.clone(), 0)
    return cache


def _state(cache):
    s, c = cache.self_attention_cache.layers[0], cache.cross_attention_cache.layers[0]
    return s.keys, s.values, c.keys, c.values


def _assert_same(a, b):
    assert all(torch.equal(x, y) for x, y in zip(_state(a), _state(b)))


def test_guard_skips_within_examples_and_falls_back_when_a_beam_crosses():
    fast, stock = _filled(2), _filled(2, fast=False)
    cross = fast.cross_attention_cache.layers[0].keys
    for idx in ([1, 0, 3, 2], [0, 0, 2, 3]):  # beams stay inside their example
        fast.reorder_cache(torch.tensor(idx))
        stock.reorder_cache(torch.tensor(idx))
        _assert_same(fast, stock)
    assert fast.skipped == 2 and fast.fallback is None
    assert fast.cross_attention_cache.layers[0].keys is cross  # not copied
    for idx in ([2, 0, 3, 1], [0, 1, 2, 3]):  # row 0 takes example 1's beam: stock reorder from now on
        fast.reorder_cache(torch.tensor(idx))
        stock.reorder_cache(torch.tensor(idx))
        _assert_same(fast, stock)
    assert "crosses examples" in fast.fallback and fast.skipped == 2


@pytest.mark.parametrize("kwargs,beams,reason", [
    (dict(same_rows=False), 2, "rows of one example's beams differ"),
    (dict(examples=3), 4, "6 rows is not a multiple of num_beams=4"),
])
def test_guard_falls_back_when_skipping_would_not_be_exact(kwargs, beams, reason):
    fast, stock = _filled(2, **kwargs), _filled(2, fast=False, **kwargs)
    fast.num_beams = beams
    n = fast.cross_attention_cache.layers[0].keys.shape[0]
    idx = torch.arange(n) // 2 * 2  # every beam continues the first beam of its example
    fast.reorder_cache(idx)
    stock.reorder_cache(idx)
    assert reason in fast.fallback
    _assert_same(fast, stock)


def test_wrong_num_beams_still_gives_the_stock_tokens():
    model = models.build_t5("tiny", seed=0)
    inputs = _inputs(model, batch=2)
    kw = dict(num_beams=2, do_sample=False, min_new_tokens=6, max_new_tokens=6)
    with torch.inference_mode():
        stock = model.generate(**inputs, **kw, cache=models.empty_cache())
        cache = fast_cache(4)  # groups of 4 rows would mix two examples
        assert torch.equal(model.generate(**inputs, **kw, cache=cache), stock)
    assert cache.fallback == "the cross-attention rows of one example's beams differ"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_beams=0; allowed: an integer >= 1"):
        fast_cache(0)
    with pytest.raises(ValueError, match="generate_fast makes its own cache"):
        generate_fast(models.build_t5("tiny"), cache=models.empty_cache())
    model = models.build_t5("tiny", seed=0)
    for beams in (0, -2, 1.5, True, "4"):  # 0 was a ZeroDivisionError deep in generate()
        with pytest.raises(ValueError, match=f"num_beams={beams!r}; allowed: an integer >= 1"):
            generate_fast(model, **_inputs(model), num_beams=beams, max_new_tokens=2)


def test_timing_inputs_are_checked_before_anything_runs():
    from nashlib.speed import timing

    model = models.build_t5("tiny", seed=0)
    inputs = timing.random_inputs(model.config.vocab_size, 2, 6)
    with pytest.raises(ValueError, match="beams=0; allowed: an integer >= 1"):
        timing.generation_call(model, inputs, new_tokens=3, beams=0, fast=True)
    with pytest.raises(ValueError, match="generation_call sets max_new_tokens, num_beams itself"):
        timing.generation_call(model, inputs, new_tokens=3, beams=2, num_beams=4, max_new_tokens=9)
    with pytest.raises(TypeError, match="inputs must be a dict with an 'input_ids' tensor"):
        timing.generation_call(model, inputs["input_ids"], new_tokens=3, beams=2)
    with pytest.raises(ValueError, match="vocab_size=2; allowed: an integer >= 3"):
        timing.random_inputs(2, 2, 6)
    with pytest.raises(ValueError, match=r"min_sample_s=nan; allowed: None or a number of seconds > 0"):
        timing.measure({"a": lambda: None}, warmup=0, repeats=1, min_sample_s=float("nan"))
    with pytest.raises(TypeError, match="calls must map names to no-argument callables"):
        timing.measure({"a": 3}, warmup=0, repeats=1)


def test_a_used_cache_refuses_a_second_generate():
    """Reused, the cache would decode the second source against the first one's cross-attention keys."""
    model = models.build_t5("tiny", seed=0)
    first, second = _inputs(model, batch=2), _inputs(model, batch=2, length=7)
    second["input_ids"] = (second["input_ids"] + 5) % model.config.vocab_size  # another source
    kw = dict(num_beams=2, max_new_tokens=4, min_new_tokens=4)
    cache = fast_cache(2)
    with torch.inference_mode():
        model.generate(**first, **kw, cache=cache)
        with pytest.raises(CacheReusedError, match=r"already served a generate\(\) call.*fast_cache\(2\)"):
            model.generate(**second, **kw, cache=cache)
        fresh = model.generate(**second, **kw, cache=fast_cache(2))
        assert torch.equal(fresh, model.generate(**second, **kw, cache=models.empty_cache()))
    assert cache.generate_calls == 1


def test_timing_times_the_fast_path_and_records_the_allocator_state():
    from nashlib import env
    from nashlib.speed import timing

    model = models.build_t5("tiny", seed=0)
    inputs = timing.random_inputs(model.config.vocab_size, 2, 6)
    stock, fast = (timing.generation_call(model, inputs, new_tokens=3, beams=2, fast=f) for f in (False, True))
    assert torch.equal(stock(), fast())
    samples = timing.measure({"stock": stock, "fast": fast}, warmup=0, repeats=1)
    assert samples.allocator_active.tolist() == [env.allocator_settings()["active"]] * 2


def test_generate_fast_reads_num_beams_from_a_generation_config(monkeypatch):
    from transformers import GenerationConfig

    from nashlib.speed import fastgen

    made = []
    monkeypatch.setattr(fastgen, "fast_cache", lambda beams: made.append(BeamSharedCrossCache(beams)) or made[-1])
    model = models.build_t5("tiny", seed=0)
    inputs = _inputs(model, batch=2)
    config = GenerationConfig(num_beams=3, max_new_tokens=5, min_new_tokens=5, decoder_start_token_id=0,
                              pad_token_id=0, eos_token_id=1)
    with torch.inference_mode():
        stock = model.generate(**inputs, generation_config=config, cache=models.empty_cache())
        assert torch.equal(generate_fast(model, **inputs, generation_config=config), stock)
    assert made[0].num_beams == 3 and made[0].fallback is None and made[0].skipped == 5
