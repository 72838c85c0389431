"""How fast beam-search generation could be on this machine: a roofline from throughputs measured here.

A generate() call has three phases with different limits. The **encoder** runs once, over ``B x S`` source
tokens: large matrix products, bound by arithmetic. The **first decoding step** also projects the encoder's
output into every layer's cross-attention keys and values, for every beam (stock transformers: ``B x beams x
S`` rows; once per example if the beams share them). Each **later step** runs the decoder for ``B x beams``
rows: small products that must stream every decoder weight and the cached cross-attention keys and values
from memory, so it is bound by bandwidth. A phase can take no less than ``max(FLOPs / GEMM rate, bytes /
copy rate)``; :func:`estimate` sums the phases, with the rates :func:`measure_machine` measured in the same
process (the shared machine's speed varies about 2x between days, so only same-run ratios mean anything).

Counts are of what the model must do, not of what an implementation happens to do: matrix products
(2 FLOPs per multiply-add) with weights read once per phase, attention scores and weighted sums, the LM head;
layer norms, softmax and bias are left out (a few percent). Per-layer widths come from ``arch_of`` (so
compacted models with uneven layers are counted as they are).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
import torch

from nashlib.arch import arch_of
from nashlib.speed import paths, timing

__all__ = ["Machine", "measure_machine", "Phase", "phases", "estimate", "measure_phases", "beside", "op_shares"]

FLOAT = 4  # bytes per fp32 value


@dataclass(frozen=True)
class Machine:
    """Throughputs of this process: fp32 matrix products (many rows; ``rows`` rows) and memory copies."""

    gemm_gflops: float  # (4096 x d) @ (d x d_ff)
    gemm_rows_gflops: float  # (rows x d) @ (d x d_ff): a decoding step's shape
    copy_gbs: float  # bytes read + written per second, cloning a 256 MiB tensor
    rows: int
    threads: int


def _best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure_machine(d_model: int = 768, d_ff: int = 3072, rows: int = 32, repeats: int = 5) -> Machine:
    """Measure the three rates now, in this process, with its torch threads."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(d_model, d_ff, generator=g)
    big, small = torch.randn(4096, d_model, generator=g), torch.randn(rows, d_model, generator=g)
    reps = max(1, 2048 // rows)  # many small products per timing, as a decoding loop does
    t_big = _best(lambda: big @ w, repeats)
    t_small = _best(lambda: [small @ w for _ in range(reps)], repeats) / reps
    block = torch.randn(64 * 1024 * 1024, generator=g)  # 256 MiB
    t_copy = _best(lambda: block.clone(), repeats)
    flops = lambda m: 2 * m * d_model * d_ff  # noqa: E731
    return Machine(flops(4096) / t_big / 1e9, flops(rows) / t_small / 1e9, 2 * block.numel() * FLOAT / t_copy / 1e9,
                   rows, torch.get_num_threads())


@dataclass(frozen=True)
class Phase:
    """The work of one phase of a generate() call."""

    name: str  # "encoder", "first step", "later step"
    flops: float
    bytes: float
    many_rows: bool  # large products (the GEMM rate applies) or decode-sized ones (the rows rate)


def _weights(refs) -> int:
    return sum(r.cost() for r in refs if r is not None)


def phases(model, *, batch: int, src_len: int, beams: int, new_tokens: int, shared_cross: bool = False
           ) -> list[Phase]:
    """The encoder, the first decoding step and one later step (at the mean decoded length) of ``model``."""
    a = arch_of(model)
    d, vocab = a.d_model, model.config.vocab_size
    enc, dec, rows = a.blocks["encoder"], a.blocks["decoder"], batch * beams
    cross_rows = batch if shared_cross else rows  # examples whose cross keys/values are computed and kept
    w_enc = _weights(enc["self"]) + _weights(enc["ffn"])
    attn_enc = sum(4 * batch * r.n_heads * r.d_head * src_len ** 2 for r in enc["self"])
    kv = sum(2 * r.n_heads * r.d_head for r in dec["cross"])  # cross keys + values per source token, all layers
    w_kv = kv * d  # the cross k, v projection weights
    w_step = _weights(dec["self"]) + _weights(dec["cross"]) - w_kv + _weights(dec["ffn"]) + d * vocab
    t_mean = (new_tokens + 1) / 2  # mean self-attention length over the decoded steps
    self_kv = sum(2 * r.n_heads * r.d_head for r in dec["self"])
    step = Phase("later step", 2 * w_step * rows + 2 * rows * (kv * src_len + self_kv * t_mean),
                 FLOAT * (w_step + cross_rows * kv * src_len + rows * self_kv * t_mean), many_rows=False)
    first = Phase("first step", step.flops + 2 * w_kv * cross_rows * src_len,
                  step.bytes + FLOAT * (w_kv + cross_rows * src_len * (d + kv)), many_rows=True)
    encoder = Phase("encoder", 2 * w_enc * batch * src_len + attn_enc,
                    FLOAT * (w_enc + 4 * batch * src_len * d * a.depth("encoder")), many_rows=True)
    return [encoder, first, step]


def estimate(work: list[Phase], machine: Machine, *, new_tokens: int) -> dict[str, float]:
    """Seconds per phase (``max`` of compute and memory time) and ``total`` for ``new_tokens`` decoded tokens."""
    out = {}
    for p in work:
        rate = machine.gemm_gflops if p.many_rows else machine.gemm_rows_gflops
        out[p.name] = max(p.flops / (rate * 1e9), p.bytes / (machine.copy_gbs * 1e9))
    out["total"] = out["encoder"] + out["first step"] + (new_tokens - 1) * out["later step"]
    return out


def measure_phases(models: dict[str, object], inputs: dict[str, torch.Tensor], *, beams: int, new_tokens: int,
                   warmup: int, repeats: int, path: str = "stock") -> pd.DataFrame:
    """Measured seconds per phase of every model, from three calls timed in the same interleaved rounds.

    The encoder alone; ``generate`` of 1 token (encoder + first step); of ``new_tokens`` tokens, on ``path``
    (``"stock"``, ``"fast"`` or ``"grouped"``: cross-attention keys and values once per example, the layout the
    roofline assumes). First step = the 1-token call less the encoder; a later step = (the full call less the
    1-token call) / (new_tokens - 1). One row per model: ``encoder``, ``first step``, ``later step``, ``total``
    (medians over rounds).
    """
    if new_tokens < 2:
        raise ValueError(f"new_tokens={new_tokens}; allowed: an integer >= 2 (a later step needs two tokens)")
    if path not in ("stock", "fast", "grouped"):
        raise ValueError(f"path={path!r}; allowed: 'stock', 'fast', 'grouped'")

    def generation(m, n):
        if path == "grouped":
            return paths.grouped_call(m, inputs, new_tokens=n, beams=beams)
        return timing.generation_call(m, inputs, new_tokens=n, beams=beams, fast=path == "fast")

    calls = {}
    for name, m in models.items():
        calls[f"{name} | encoder"] = timing.encoder_call(m, inputs)
        calls[f"{name} | 1"], calls[f"{name} | n"] = generation(m, 1), generation(m, new_tokens)
    med = timing.summarize(timing.measure(calls, warmup=warmup, repeats=repeats)).set_index("config").wall_median_s
    return pd.DataFrame([{"model": name, "encoder": med[f"{name} | encoder"],
                          "first step": med[f"{name} | 1"] - med[f"{name} | encoder"],
                          "later step": (med[f"{name} | n"] - med[f"{name} | 1"]) / (new_tokens - 1),
                          "total": med[f"{name} | n"]} for name in models])


def beside(measured: pd.DataFrame, models: dict[str, object], machine: Machine, *, batch: int, src_len: int,
           beams: int, new_tokens: int, shared_cross: bool = False) -> pd.DataFrame:
    """Long table: per model and phase, measured seconds, the roofline's, and measured / roofline."""
    rows = []
    for r in measured.itertuples(index=False):
        work = phases(models[r.model], batch=batch, src_len=src_len, beams=beams, new_tokens=new_tokens,
                      shared_cross=shared_cross)
        est = estimate(work, machine, new_tokens=new_tokens)
        got = measured.set_index("model").loc[r.model]
        rows += [dict(model=r.model, phase=ph, measured_s=float(got[ph]), roofline_s=est[ph],
                      times_roofline=float(got[ph]) / est[ph]) for ph in ("encoder", "first step", "later step",
                                                                           "total")]
    return pd.DataFrame(rows)


def op_shares(call, *, top: int = 10) -> pd.DataFrame:
    """One call under ``torch.profiler``: the ``top`` operators by self CPU time, with their calls and share of
    the call's wall time, plus a row for the time outside every operator (Python, dispatch, the profiler's own
    cost), and ``allocations`` (``aten::empty*`` calls) per call."""
    from torch.profiler import ProfilerActivity, profile

    call()  # warm
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        call()
        wall = time.perf_counter() - t0
    events = prof.key_averages()
    rows = sorted(({"op": e.key, "calls": e.count, "self_s": e.self_cpu_time_total / 1e6} for e in events),
                  key=lambda r: -r["self_s"])
    inside = sum(r["self_s"] for r in rows)
    allocs = sum(r["calls"] for r in rows if r["op"].startswith("aten::empty"))
    out = pd.DataFrame(rows[:top] + [{"op": "outside operators (Python, dispatch, profiler)", "calls": 0,
                                      "self_s": max(0.0, wall - inside)}])
    out["share_of_wall"] = out.self_s / wall
    out.attrs.update(wall_s=wall, allocations=allocs)
    return out
