"""Speedups under two protocols at once: stock ``generate()`` (the paper's) and the grouped path.

The paper times stock generation; a user who deploys a pruned model will run it on the fastest exact path
they have. Here that is the grouped path (:mod:`nashlib.speed.grouped`: cross-attention keys and values
once per example; tokens identical to stock, checked on every call). NASH's speedup could shrink there,
since the grouped path removes work that grows with decoder depth, or grow, since what is left is
dominated by the encoder and the per-step overheads. :func:`two_paths` times both paths of every model in
the same interleaved rounds and reports each model's speedup against the teacher *on the same path*:

- ``x_stock``: teacher stock time / model stock time (the paper's protocol);
- ``x_grouped``: teacher grouped time / model grouped time (the hardware's limit, as far as this library
  reaches it);
- ``grouped_gain``: the model's stock time / its grouped time;

each the median over rounds of the within-round ratio, with ``same_tokens`` (grouped vs stock, must be 1).
"""

from __future__ import annotations

import pandas as pd
import torch

from nashlib.speed import paths, timing

__all__ = ["two_paths", "PATHS_TIMED", "markers"]

PATHS_TIMED = ("stock", "grouped")


def two_paths(models: dict, inputs: dict[str, torch.Tensor], *, teacher: str, new_tokens: int, beams: int,
              warmup: int, repeats: int, device: str = "cpu") -> pd.DataFrame:
    """One row per model (in ``models``' order): seconds and speedups on both paths, paired within rounds.

    ``models``: name -> model, ``teacher`` one of the names; ``inputs`` as
    :func:`nashlib.speed.timing.random_inputs` gives them; ``warmup`` rounds (the token check counts as one)
    and ``repeats`` timed rounds. Raises if the grouped path changed a token: a speedup of a different output
    is not a speedup.
    """
    if teacher not in models:
        raise ValueError(f"teacher={teacher!r}; allowed: one of {list(models)}")
    pc = paths.path_calls(models, inputs, new_tokens=new_tokens, beams=beams, threads=torch.get_num_threads(),
                          paths=PATHS_TIMED)
    agree = paths.agreement(pc)  # each call once: the first warm-up round
    wrong = {k: v for k, v in agree.items() if v != 1.0}
    if wrong:
        raise RuntimeError(f"the grouped path changed tokens (share equal to stock): {wrong}")
    samples = timing.measure(pc.calls, warmup=max(warmup - 1, 0), repeats=repeats, device=device)
    wide = samples.pivot(index="repeat", columns="config", values="wall_s")  # (rounds, calls)
    on = {p: timing.speedups(samples, f"{teacher} / {p}").set_index("config").speedup for p in PATHS_TIMED}
    rows = []
    for m in models:
        gain = (wide[f"{m} / stock"] / wide[f"{m} / grouped"]).median()
        rows.append(dict(model=m, stock_s=wide[f"{m} / stock"].median(), grouped_s=wide[f"{m} / grouped"].median(),
                         x_stock=on["stock"][f"{m} / stock"], x_grouped=on["grouped"][f"{m} / grouped"],
                         grouped_gain=gain, same_tokens=agree[f"{m} / grouped"], new_tokens=new_tokens,
                         rounds=repeats))
    return pd.DataFrame(rows)


def markers(ax, table: pd.DataFrame, *, title: str) -> None:
    """Each model's speedup against the teacher under stock generation and on the grouped path, side by side."""
    xs = range(len(table))
    width = 0.38
    ax.bar([x - width / 2 for x in xs], table.x_stock, width, label="stock generate() (the paper's protocol)")
    ax.bar([x + width / 2 for x in xs], table.x_grouped, width, label="grouped path (identical tokens)")
    ax.axhline(1, color="black", lw=0.8)
    ax.set(xticks=list(xs), xticklabels=list(table.model), ylabel="speedup vs the teacher on the same path (x)",
           title=title)
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=7)
