"""Tables the speed notebooks print and save: latencies with their metadata, paired speedups, and our
speedups beside the paper's Table 1 range."""

from __future__ import annotations

import pandas as pd

from nashlib.speed import timing

__all__ = ["latency_table", "speedups_against", "paper_range", "table1_speed", "fast_speed_table"]


def latency_table(samples: pd.DataFrame, meta: dict[str, dict], *, baseline: str | None = None) -> pd.DataFrame:
    """``timing.summarize`` per configuration with its metadata columns first; with ``baseline``, also
    the paired speedups against it (``timing.speedups``)."""
    summary = timing.summarize(samples)
    if baseline is not None:
        summary = summary.merge(timing.speedups(samples, baseline), on="config")
    return pd.DataFrame([dict(config=c, **meta[c]) for c in summary.config]).merge(summary, on="config")


def speedups_against(samples: pd.DataFrame, configs, baselines) -> list[float]:
    """Paired speedup of ``configs[i]`` against ``baselines[i]``: the median over rounds of the
    within-round ratio of times (``timing.speedups``)."""
    tables = {b: timing.speedups(samples, b).set_index("config").speedup for b in dict.fromkeys(baselines)}
    return [float(tables[b][c]) for c, b in zip(configs, baselines)]


def paper_range(ref: pd.DataFrame, model: str) -> tuple[float, float]:
    """(lowest, highest) Table 1 speedup of ``model`` over the paper's datasets; (1, 1) for a model the
    table does not list (the T5-base reference)."""
    s = ref[ref.model == model].speedup
    return (float(s.min()), float(s.max())) if len(s) else (1.0, 1.0)


def table1_speed(ours: dict[str, float], ref: pd.DataFrame) -> pd.DataFrame:
    """Our speedup per model beside the paper's range, and whether ours falls inside it."""
    rows = []
    for model, x in ours.items():
        lo, hi = paper_range(ref, model)
        rows.append(dict(model=model, ours=round(x, 2), paper_min=lo, paper_max=hi,
                         within_paper_range=bool(lo <= x <= hi)))
    return pd.DataFrame(rows)


def fast_speed_table(data: pd.DataFrame, ref: pd.DataFrame, order, *, beam_mode: str) -> pd.DataFrame:
    """Per shape: the paper's range, our stock and fast speedups against stock T5-base (``beam_mode``),
    fast against stock of the same shape, with beam search and greedily."""
    beam = data[data["mode"] == beam_mode].set_index(["shape", "path"])
    greedy = data[(data["mode"] == "greedy") & (data.path == "fast")].set_index("shape")
    rows = []
    for s in order:
        lo, hi = paper_range(ref, s)
        rows.append(dict(model=s, paper_min=lo, paper_max=hi,
                         ours_stock=round(beam.loc[(s, "stock"), "vs_stock_t5_base"], 2),
                         ours_fast=round(beam.loc[(s, "fast"), "vs_stock_t5_base"], 2),
                         fast_vs_stock_same_shape=round(beam.loc[(s, "fast"), "vs_stock_same_shape"], 2),
                         greedy_fast_vs_stock=round(greedy.loc[s, "vs_stock_same_shape"], 2)))
    return pd.DataFrame(rows)
