"""Panels the speed notebooks draw (on axes from ``plotting.subplots``); several are shared.

- :func:`stacked_components`: one horizontal bar per row of a table, stacked by model component
  (Figure 4, and the fast-generation notebook's before/after profile).
- :func:`paper_range_marker`: the paper's Table 1 speedups of one model as a grey diamond at their
  median with bars to their extremes (Finding 3.1 and fast generation).
- :func:`latency_bars`, :func:`speedup_bars`, :func:`allocator_bars`: the fast-generation panels.
- :func:`depth_panels`: Finding 3.1's speedup against depth, and latency against size.
- :func:`layer_time_panels`: Figure 3's time per layer call, absolute and relative to full width.
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from nashlib.results.plotting import PALETTE
from nashlib.speed.components import COMPONENTS

__all__ = ["stacked_components", "paper_range_marker", "latency_bars", "speedup_bars", "allocator_bars",
           "depth_panels", "layer_time_panels"]


def stacked_components(ax, table: pd.DataFrame, *, labels: bool = False) -> None:
    """Bars ``table.index`` stacked by the columns, in :data:`COMPONENTS` order; with ``labels``, each
    segment wider than 0.04 shows its percentage (for shares)."""
    colours = sns.color_palette("tab10", len(COMPONENTS))
    left = pd.Series(0.0, index=table.index)
    for colour, comp in zip(colours, COMPONENTS):
        ax.barh(table.index, table[comp], left=left, color=colour, label=comp)
        if labels:
            for y, (x0, w) in enumerate(zip(left, table[comp])):
                if w > 0.04:
                    ax.text(x0 + w / 2, y, f"{100 * w:.0f}%", ha="center", va="center", fontsize=8, color="white")
        left += table[comp]


def paper_range_marker(ax, x: float, speedups: pd.Series, *, label: str | None = None) -> None:
    """The paper's speedups of one model at ``x``: median, with error bars to the lowest and highest."""
    m = speedups.median()
    ax.errorbar([x], [m], yerr=[[m - speedups.min()], [speedups.max() - m]], color="grey", marker="D", ms=5,
                capsize=3, ls="none", label=label)


def latency_bars(ax, data: pd.DataFrame, order, modes) -> None:
    """Median latency (bars to the quartiles) per shape in ``order``, for each mode x stock/fast."""
    width = 0.2
    for j, (mode, path) in enumerate([(m, p) for m in modes for p in ("stock", "fast")]):
        sub = data[(data["mode"] == mode) & (data.path == path)].set_index("shape").loc[order]
        ax.bar([i + (j - 1.5) * width for i in range(len(order))], sub.wall_median_s, width,
               yerr=[sub.wall_median_s - sub.wall_q25_s, sub.wall_q75_s - sub.wall_median_s], capsize=2,
               label=f"{mode}, {path}")
    ax.set(xticks=range(len(order)), xticklabels=order, ylabel="latency per generate() (s)",
           title="latency, stock and fast")
    ax.legend(fontsize=8)


def speedup_bars(ax, data: pd.DataFrame, order, ref: pd.DataFrame, *, beam_mode: str, teacher: str) -> None:
    """Stock and fast speedups against stock ``teacher`` (``beam_mode``), beside the paper's range."""
    beam = data[data["mode"] == beam_mode].set_index(["shape", "path"])
    for j, path in enumerate(("stock", "fast")):
        ax.bar([i + (j - 0.5) * 0.3 for i in range(len(order))],
               [beam.loc[(s, path), "vs_stock_t5_base"] for s in order], 0.3, label=f"ours, {path} generation")
    for i, s in enumerate(order):
        if s in set(ref.model):
            paper_range_marker(ax, i + 0.35, ref[ref.model == s].speedup,
                               label="paper, stock (RTX 3090)" if i == 1 else None)
    ax.axhline(1, color="black", lw=0.8)
    ax.set(xticks=range(len(order)), xticklabels=order, ylabel=f"speedup vs stock {teacher} (x)",
           title=f"speedup against stock {teacher}, {beam_mode}")
    ax.legend(fontsize=8)


def allocator_bars(ax, alloc: pd.DataFrame | None, *, title: str) -> None:
    """Latency with glibc's defaults and with the allocator settings, stock and fast; a note if skipped."""
    if alloc is None or alloc.empty:
        ax.text(0.5, 0.5, "allocator comparison skipped\n(GPU profile or alloc_repeats=0)", ha="center", va="center")
        ax.set_axis_off()
        return
    a = alloc.pivot(index="allocator", columns="path", values="wall_median_s").loc[["glibc defaults", "settings"],
                                                                                    ["stock", "fast"]]
    a.plot.bar(ax=ax, rot=0)
    ax.set(ylabel="latency per generate() (s)", xlabel="", title=title)


def depth_panels(ax, ax2, data: pd.DataFrame, ref: pd.DataFrame, depths) -> None:
    """Left: speedup against decoder depth per encoder/decoder width, T5-small dashed, the paper's
    NASH-2/3/4 ranges. Right: latency against parameters."""
    grid = data[data.encoder.isin(["full", "narrow"])]
    for (enc, dec), grp in grid.groupby(["encoder", "decoder"], sort=False):
        grp = grp.sort_values("decoder_layers")
        label = f"{enc} encoder, {dec}-width decoder"
        ax.errorbar(grp.decoder_layers, grp.speedup, yerr=[grp.speedup - grp.speedup_q25,
                                                           grp.speedup_q75 - grp.speedup],
                    marker="o", ms=4, capsize=2, label=label)
        ax2.plot(grp.params_M, grp.wall_median_s, marker="o", ms=4, label=label)
    small = data[data.config == "T5-small shape"].iloc[0]
    ax.axhline(small.speedup, color="black", ls="--", lw=1, label=f"T5-small shape ({small.speedup:.2f}x)")
    ax2.scatter([small.params_M], [small.wall_median_s], color="black", marker="s", zorder=3, label="T5-small shape")
    for d in (2, 3, 4):
        paper_range_marker(ax, d + 0.15, ref[ref.model == f"NASH-{d}"].speedup,
                           label="paper, NASH (RTX 3090, 4 datasets)" if d == 2 else None)
    ax.set(xlabel="decoder layers", ylabel="generation speedup vs T5-base shape (x)",
           title="speedup against decoder depth", xticks=depths)
    ax.legend(fontsize=8)
    ax2.set(xlabel="parameters without embeddings (millions)", ylabel="latency per generate() call (s)",
            title="latency against model size")


def layer_time_panels(axes, data: pd.DataFrame, heads, d_ffs) -> None:
    """Per kind (columns): ms per layer call (top, log-log) and time / full-width time (bottom)."""
    styles = {ff: s for ff, s in zip(sorted(d_ffs, reverse=True), ["-", "--", ":"])}
    for col, kind in enumerate(("encoder", "decoder")):
        for (h, ff), grp in data[data.kind == kind].groupby(["heads", "d_ff"], sort=False):
            colour = sns.color_palette(PALETTE)[sorted(heads, reverse=True).index(h)]
            kw = dict(color=colour, ls=styles[ff], marker="o", ms=3, label=f"{h} heads, d_ff {ff}")
            axes[0, col].plot(grp.seq_len, grp.ms, **kw)
            axes[1, col].plot(grp.seq_len, grp.relative_time, **kw)
        axes[0, col].set(xscale="log", yscale="log", ylabel="time per layer call (ms)",
                         title=f"{kind} layer" + (" (one decoding step)" if kind == "decoder" else ""))
        axes[1, col].set(xscale="log", ylim=(0, 1.1), xlabel="sequence length (tokens)",
                         ylabel="time / full-width time")
        axes[1, col].axhline(1.0, color="grey", lw=0.8)
    axes[0, 1].legend(loc="upper left", ncol=1, fontsize=8)
