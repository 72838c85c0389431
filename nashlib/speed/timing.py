"""One latency protocol for every speed number in the project.

- Warm-up runs of every configuration first, untimed.
- Then ``repeats`` rounds; each round times every configuration once, in an order rotated by one
  position per round (A B C, B C A, C A B, ...), so slow drift and neighbour noise hit all alike.
- Each sample records wall time and process CPU time (all threads); on a GPU the timed region is
  bracketed by ``torch.cuda.synchronize()``.
- A sample can loop a short call until it lasts ``min_sample_s`` (calls that take microseconds).
- Speedups are paired: in each round, baseline time / candidate time; we report the median of those
  ratios and their range, beside the ratio of medians.
- Generation is forced to exactly ``new_tokens`` new tokens (``min_new_tokens = max_new_tokens``),
  since a random model would otherwise stop whenever it happens to emit EOS.
- Every sample records whether the glibc allocator settings (``env.ALLOCATOR_SETTINGS``) were active
  in this process (``allocator_active``): they change CPU timings, and only take effect at start-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import torch

from transformers.cache_utils import DynamicCache, EncoderDecoderCache

from nashlib.env import allocator_settings
from nashlib.speed.fastgen import fast_cache
from nashlib.shapes import empty_cache

__all__ = ["sync", "time_call", "calibrate", "measure", "summarize", "speedups", "random_inputs",
           "generation_call", "encoder_call", "layer_call"]


def sync(device: str | torch.device = "cpu") -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_call(fn: Callable[[], object], *, inner: int = 1, device: str | torch.device = "cpu") -> tuple[float, float]:
    """(wall seconds, CPU seconds) per call of ``fn``, averaged over ``inner`` back-to-back calls."""
    sync(device)
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(inner):
        fn()
    sync(device)
    w1, c1 = time.perf_counter(), time.process_time()
    return (w1 - w0) / inner, (c1 - c0) / inner


def calibrate(fn: Callable[[], object], min_sample_s: float, *, device: str | torch.device = "cpu",
              max_inner: int = 100_000) -> int:
    """How many back-to-back calls of ``fn`` make one sample last at least ``min_sample_s``."""
    inner = 1
    while inner < max_inner:
        wall, _ = time_call(fn, inner=inner, device=device)
        if wall * inner >= min_sample_s:
            break
        inner = min(max_inner, max(inner * 2, int(inner * min_sample_s / max(wall * inner, 1e-9) * 1.2)))
    return inner


def _check_count(name: str, value, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}={value!r}; allowed: an integer >= {minimum}")


def measure(
    calls: dict[str, Callable[[], object]],
    *,
    warmup: int,
    repeats: int,
    device: str | torch.device = "cpu",
    min_sample_s: float | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Time every call in ``calls`` under the protocol above; one row per sample.

    Columns: ``config, repeat, position, wall_s, cpu_s, inner, threads, allocator_active``. ``wall_s``
    and ``cpu_s`` are per call. With ``min_sample_s``, each configuration's ``inner`` count is calibrated after
    warm-up and kept for all its samples.
    """
    if not calls:
        raise ValueError("calls is empty; give at least one configuration to time")
    if not isinstance(calls, dict) or not all(callable(f) for f in calls.values()):
        raise TypeError(f"calls must map names to no-argument callables, got {calls!r}")
    _check_count("warmup", warmup, 0)
    _check_count("repeats", repeats, 1)
    if min_sample_s is not None and not (isinstance(min_sample_s, (int, float)) and not isinstance(min_sample_s, bool)
                                         and 0 < min_sample_s < float("inf")):
        raise ValueError(f"min_sample_s={min_sample_s!r}; allowed: None or a number of seconds > 0")
    names = list(calls)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    inner = {n: calibrate(calls[n], min_sample_s, device=device) if min_sample_s else 1 for n in names}
    rows, allocator = [], allocator_settings()["active"]
    rounds = range(repeats)
    if progress:
        from tqdm import tqdm
        rounds = tqdm(rounds, desc="timing rounds")
    for r in rounds:
        order = names[r % len(names):] + names[: r % len(names)]
        for pos, name in enumerate(order):
            wall, cpu = time_call(calls[name], inner=inner[name], device=device)
            rows.append(dict(config=name, repeat=r, position=pos, wall_s=wall, cpu_s=cpu,
                             inner=inner[name], threads=torch.get_num_threads(), allocator_active=allocator))
    return pd.DataFrame(rows)


def summarize(samples: pd.DataFrame) -> pd.DataFrame:
    """Median, quartiles and relative spread of wall time, and median CPU time, per configuration."""
    g = samples.groupby("config", sort=False)
    out = pd.DataFrame({
        "wall_median_s": g.wall_s.median(),
        "wall_q25_s": g.wall_s.quantile(0.25),
        "wall_q75_s": g.wall_s.quantile(0.75),
        "wall_min_s": g.wall_s.min(),
        "cpu_median_s": g.cpu_s.median(),
        "repeats": g.size(),
    })
    out["spread"] = (out.wall_q75_s - out.wall_q25_s) / out.wall_median_s
    out["cpu_per_wall"] = out.cpu_median_s / out.wall_median_s
    return out.reset_index()


def speedups(samples: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Speedup of every configuration against ``baseline``, paired within each round.

    ``speedup`` is the median over rounds of (baseline time / configuration time) in that round;
    quartiles and extremes of those ratios give its spread; ``speedup_of_medians`` is the unpaired
    ratio of median times, for comparison.
    """
    if baseline not in set(samples.config):
        raise ValueError(f"baseline {baseline!r} was not timed; timed: {sorted(set(samples.config))}")
    wide = samples.pivot(index="repeat", columns="config", values="wall_s")
    ratios = wide[baseline].to_numpy()[:, None] / wide
    out = pd.DataFrame({
        "speedup": ratios.median(),
        "speedup_q25": ratios.quantile(0.25),
        "speedup_q75": ratios.quantile(0.75),
        "speedup_min": ratios.min(),
        "speedup_max": ratios.max(),
        "speedup_of_medians": wide[baseline].median() / wide.median(),
    })
    out.index.name = "config"
    return out.reset_index()


def random_inputs(vocab_size: int, batch: int, src_len: int, *, seed: int = 0,
                  device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Token ids drawn uniformly from the vocabulary (ids 0 and 1, pad and EOS, excluded)."""
    _check_count("vocab_size", vocab_size, 3)
    _check_count("batch", batch, 1)
    _check_count("src_len", src_len, 1)
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, vocab_size, (batch, src_len), generator=gen)  # (B, T_src)
    return {"input_ids": ids.to(device), "attention_mask": torch.ones_like(ids).to(device)}


def generation_call(model, inputs: dict[str, torch.Tensor], *, new_tokens: int, beams: int, fast: bool = False,
                    until_done: bool = False, **generate_kwargs) -> Callable[[], torch.Tensor]:
    """A no-argument call that generates exactly ``new_tokens`` tokens with ``beams`` beams.

    ``until_done=True`` is the paper's protocol for trained models (Appendix F): decoding stops when every
    sequence has ended (``new_tokens`` is then only the cap), so a model that writes shorter outputs is
    faster for it. Random weights never end a sequence: shape studies force the length.
    ``fast=True`` uses ``fastgen.fast_cache`` (beam search without cross-attention cache copies) and
    raises if it had to fall back to the stock reorder, so a timing of the fast path is one.
    """
    _check_count("new_tokens", new_tokens, 1)
    _check_count("beams", beams, 1)
    if not isinstance(inputs, dict) or not isinstance(inputs.get("input_ids"), torch.Tensor):
        raise TypeError(f"inputs must be a dict with an 'input_ids' tensor (see random_inputs), "
                        f"got {type(inputs).__name__}")
    fixed = sorted({"num_beams", "do_sample", "min_new_tokens", "max_new_tokens", "past_key_values", "cache"}
                   & set(generate_kwargs))
    if fixed:
        raise ValueError(f"generation_call sets {', '.join(fixed)} itself (new_tokens={new_tokens}, beams={beams}, "
                         "fast); pass those as its own arguments")
    batch = inputs["input_ids"].shape[0]

    def call() -> torch.Tensor:
        cache = fast_cache(beams) if fast else empty_cache()
        least = {} if until_done else {"min_new_tokens": new_tokens}
        with torch.inference_mode():
            out = model.generate(**inputs, num_beams=beams, do_sample=False, max_new_tokens=new_tokens, cache=cache,
                                 **least, **generate_kwargs)
        if fast and cache.fallback is not None:
            raise RuntimeError(f"the fast cache fell back to the stock reorder: {cache.fallback}")
        if until_done:
            assert out.shape[0] == batch and out.shape[1] <= new_tokens + 1, f"got {tuple(out.shape)}"
        else:
            assert out.shape == (batch, new_tokens + 1), f"expected {(batch, new_tokens + 1)}, got {tuple(out.shape)}"
        return out  # (B, 1 + new tokens): the decoder start token, then the generated ones

    return call


def encoder_call(model, inputs: dict[str, torch.Tensor]) -> Callable[[], torch.Tensor]:
    """A no-argument call that runs only the encoder on ``inputs`` (what ``generate()`` does once per call)."""
    def call() -> torch.Tensor:
        with torch.inference_mode():
            return model.get_encoder()(input_ids=inputs["input_ids"],
                                       attention_mask=inputs.get("attention_mask")).last_hidden_state  # (B, T, d)
    return call


def layer_call(block, *, batch: int, seq_len: int, memory_len: int = 0, seed: int = 0,
               device: str | torch.device = "cpu") -> Callable[[], object]:
    """A no-argument call running one T5 layer (from ``models.build_layer``) on ``seq_len`` tokens.

    An encoder layer attends over its ``seq_len`` inputs. A decoder layer is timed as in one
    decoding step: self-attention over the ``seq_len`` new tokens, cross-attention to an encoder
    memory of ``memory_len`` tokens whose keys and values are already cached (as they are during
    generation), then the FFN. The relative position bias arrives precomputed, as in layers 1..n-1.
    """
    _check_count("batch", batch, 1)
    _check_count("seq_len", seq_len, 1)
    attn = block.layer[0].SelfAttention
    d_model, heads = attn.d_model, attn.n_heads
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, seq_len, d_model, generator=gen).to(device)  # (B, T, d_model)
    bias = torch.zeros(1, heads, seq_len, seq_len, device=device)  # (1, H, T, T)
    if not block.is_decoder:
        def call():
            with torch.inference_mode():
                return block(x, None, bias)
        return call

    _check_count("memory_len", memory_len, 1)
    memory = torch.randn(batch, memory_len, d_model, generator=gen).to(device)  # (B, T_mem, d_model)
    cross_bias = torch.zeros(1, heads, seq_len, memory_len, device=device)  # (1, H, T, T_mem)
    cross = DynamicCache()
    with torch.inference_mode():  # fill the cross-attention cache once: (B, H, T_mem, d_kv) keys and values
        block(x, None, bias, memory, None, cross_bias, cache=EncoderDecoderCache(DynamicCache(), cross))

    def call():
        with torch.inference_mode():
            cache = EncoderDecoderCache(DynamicCache(), cross)  # cross part cached, self part fresh
            return block(x, None, bias, memory, None, cross_bias, cache=cache)
    return call
