"""What a compacted model kept, read from the model itself, and Figure 6's picture of it.

- :func:`structure`: one row per layer and block *the model has*: kept heads or FFN units of the teacher's.
- :func:`grid`: the same on the teacher's full grid (every teacher layer, the ones a layer selection dropped
  with nothing kept), with each block's prunable weights kept and in full, as a :class:`Grid`. Its
  :meth:`Grid.sparsity` recounts the reached sparsity of a part from the structure alone, and
  :func:`check_recount` asserts that the recount gives back the pruning report's numbers, so a picture
  drawn from the grid is the measured model.
- :func:`draw_grid` and :func:`draw_part_bars`: Figure 6's panels (one grid per method; the sparsity of
  each part per method, with the whole decoder layers each removed).

Weights are counted as the pruning report counts them (``nashlib.arch``: the paper's footnote 2, embeddings
excluded): a head of an attention block holds ``4 * d_kv * d_model`` weights, an FFN unit ``2 * d_model``
(3 when gated). Pruned hidden dimensions shrink every block at once, through the kept ``d_model``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nashlib.arch import PARTS, arch_of

__all__ = ["structure", "Grid", "grid", "check_recount", "draw_grid", "draw_part_bars"]

SPARSITY_PARTS = ("encoder", "decoder", "model")


def structure(model) -> pd.DataFrame:
    """What a (compacted) model kept, one row per layer and block: kept heads or units out of the teacher's.

    Reads ``config.nash_layout`` (written by ``nashlib.pruning.compact``); rows name the teacher layer behind each
    kept layer (``nash_selected_layers``, ``nash_selected_encoder_layers``); layers that a layer selection
    dropped have no row (the teacher's depth says which are missing; :func:`grid` adds them). Hidden
    dimensions: ``config.d_model`` against ``nash_layout["full_d_model"]``.
    """
    cfg = model.config
    layout = getattr(cfg, "nash_layout", None)
    if not layout:
        raise ValueError(f"model type {cfg.model_type!r} has no nash_layout; pass a compacted model "
                         "(nashlib.pruning.compact)")
    d_ff = cfg.d_ff  # the layout records no per-part full FFN width: the dense teachers' encoder and decoder share it
    full_heads = {"encoder": layout["full_num_heads"],
                  "decoder": layout.get("decoder_full_num_heads", layout["full_num_heads"])}
    rows = []
    for part in PARTS:
        H = full_heads[part]
        attr = "nash_selected_layers" if part == "decoder" else "nash_selected_encoder_layers"
        selected = list(getattr(cfg, attr, None) or range(len(layout[part])))
        for pos, row in enumerate(layout[part]):
            for block in ("self", "cross"):
                if block in row:
                    rows.append(dict(part=part, layer=selected[pos], block=block, kept=len(row[block]), full=H))
            rows.append(dict(part=part, layer=selected[pos], block="ffn", kept=row["d_ff"], full=d_ff))
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Grid:
    """What a compacted model kept of every teacher layer (the teacher's depth, dropped layers included)."""

    blocks: pd.DataFrame  # per teacher layer and block: part, layer, block, kept, full, present, w_kept, w_full,
    #                       hidden_kept, fraction (present: the compacted model has this block's layer)
    layers: pd.DataFrame  # per teacher layer: part, layer, kept_weights, full_weights, kept_units, present,
    #                       sparsity (of its prunable weights), removed (nothing of it left, or dropped)
    hidden_kept: int  # the compacted model's d_model
    hidden_full: int  # the teacher's

    def depth(self, part: str) -> int:
        """The teacher's number of layers in ``part``."""
        return int((self.layers.part == part).sum())

    def sparsity(self, part: str) -> float:
        """The reached sparsity of ``part`` ("encoder", "decoder" or "model"), recounted from the structure."""
        if part not in SPARSITY_PARTS:
            raise ValueError(f"part={part!r}; allowed: {', '.join(SPARSITY_PARTS)}")
        rows = self.layers if part == "model" else self.layers[self.layers.part == part]
        return float(1 - rows.kept_weights.sum() / rows.full_weights.sum())

    def removed(self, part: str = "decoder") -> int:
        """Layers of ``part`` with nothing left: every block closed, or dropped by a layer selection."""
        return int(self.layers[self.layers.part == part].removed.sum())

    def closed(self, part: str = "decoder") -> int:
        """Blocks (self-attention, cross-attention, FFN) of ``part`` with nothing left, dropped layers included."""
        return int(((self.blocks.part == part) & (self.blocks.kept == 0)).sum())

    def table(self) -> pd.DataFrame:
        """One row per block with its layer's sparsity and whether the layer was removed (the figure's CSV)."""
        lay = self.layers[["part", "layer", "sparsity", "removed"]].rename(columns={"sparsity": "layer_sparsity"})
        return self.blocks.merge(lay, on=["part", "layer"])


def _block_rows(have: pd.Series, d_kept: int, teacher) -> list[dict]:
    """One row per teacher layer and block; blocks not in ``have`` (kept, by part, layer, block) kept nothing."""
    rows = []
    for part in PARTS:
        for layer in range(teacher.depth(part)):
            for block, units in teacher.blocks[part].items():  # "self", ("cross",) "ffn"
                unit, present = units[layer], (part, layer, block) in have.index
                kept = int(have[(part, layer, block)]) if present else 0
                rows.append(dict(part=part, layer=layer, block=block, kept=kept, full=unit.width, present=present,
                                 w_kept=unit.cost(kept, d_kept), w_full=unit.cost(unit.width, teacher.d_model)))
    return rows


def grid(model, teacher_model) -> Grid:
    """The :class:`Grid` of compacted ``model`` on ``teacher_model``'s layers (which it was pruned from)."""
    have = structure(model).set_index(["part", "layer", "block"]).kept  # raises unless compacted
    teacher, full_d = arch_of(teacher_model), model.config.nash_layout["full_d_model"]
    deeper = [p for p in PARTS if have[p].index.get_level_values("layer").max() >= teacher.depth(p)]
    if full_d != teacher.d_model or deeper:
        raise ValueError(f"the model does not fit this teacher (full d_model {full_d} vs {teacher.d_model}; layers "
                         f"beyond the teacher's in: {deeper or 'none'}); pass the teacher it was pruned from")
    assert model.config.d_model <= teacher.d_model, "the model has more hidden dimensions than its teacher"
    blocks = pd.DataFrame(_block_rows(have, model.config.d_model, teacher))
    assert ((blocks.kept >= 0) & (blocks.kept <= blocks.full)).all(), "a block kept more units than the teacher has"
    blocks["hidden_kept"] = model.config.d_model
    blocks["fraction"] = blocks.kept / blocks.full
    layers = blocks.groupby(["part", "layer"], sort=False).agg(
        kept_weights=("w_kept", "sum"), full_weights=("w_full", "sum"), kept_units=("kept", "sum"),
        present=("present", "any")).reset_index()
    layers["sparsity"] = 1 - layers.kept_weights / layers.full_weights
    layers["removed"] = layers.kept_units == 0
    return Grid(blocks, layers, int(model.config.d_model), int(teacher.d_model))


def check_recount(g: Grid, report, *, atol: float = 1e-3) -> pd.DataFrame:
    """Assert that the structure adds up to the pruning ``report``'s reached sparsities; return both, per part.

    ``report``: a ``PruneReport`` (``encoder_actual``, ``decoder_actual``, ``model_actual``).
    """
    table = pd.DataFrame([dict(part=p, recounted=g.sparsity(p), report=getattr(report, f"{p}_actual"))
                          for p in SPARSITY_PARTS])
    bad = table[~np.isclose(table.recounted, table.report, atol=atol, rtol=0)]
    assert bad.empty, f"the structure does not add up to the report's sparsity:\n{bad.to_string(index=False)}"
    return table


# --- Figure 6's panels ----------------------------------------------------------------------------

COLUMNS = (("self", "self-attn\nheads"), ("cross", "cross-attn\nheads"), ("ffn", "FFN\nunits"))


def _rows(g: Grid) -> list[tuple[str, int]]:
    return [(p, i) for p in PARTS for i in range(g.depth(p))]


def _cells(ax, g: Grid):
    """The grid's coloured cells, each with ``kept/full`` ("n/a": no such block, the encoder's cross-attention)."""
    import matplotlib

    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#dddddd")
    rows, b = _rows(g), g.blocks.set_index(["part", "layer", "block"])
    values = np.full((len(rows), len(COLUMNS)), np.nan)
    for i, (part, layer) in enumerate(rows):
        for j, (block, _) in enumerate(COLUMNS):
            if (part, layer, block) not in b.index:
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=7, color="#777777")
                continue
            r = b.loc[(part, layer, block)]
            values[i, j] = r.fraction
            ax.text(j, i, f"{r.kept}/{r.full}", ha="center", va="center", fontsize=7,
                    color="white" if r.fraction > 0.6 else "black")
    return ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto")


def draw_grid(ax, g: Grid, report, method: str):
    """One method's grid: rows are the teacher's layers (encoder on top), columns the blocks, colour the fraction
    kept; right of each row its sparsity ("removed" when nothing is left), in the margin each part's sparsity
    from the pruning ``report``. Returns the image (for a colour bar)."""
    image, rows = _cells(ax, g), _rows(g)
    x_row, x_part = len(COLUMNS) + 0.1, len(COLUMNS) + 1.0
    lay = g.layers.set_index(["part", "layer"])
    for i, key in enumerate(rows):
        r = lay.loc[key]
        ax.text(x_row, i, "removed" if r.removed else f"{r.sparsity:.0%}", ha="center", va="center", fontsize=7,
                color="firebrick" if r.removed else "black")
    enc = g.depth("encoder")
    for part, first in (("encoder", 0), ("decoder", enc)):
        ax.text(x_part, first + (g.depth(part) - 1) / 2, f"{part}\n{getattr(report, f'{part}_actual'):.1%}",
                ha="center", va="center", fontsize=8, fontweight="bold")
    ax.plot([-0.5, x_part + 0.5], [enc - 0.5] * 2, color="black", lw=1.5, clip_on=False)
    ax.set_xticks(list(range(len(COLUMNS))) + [x_row, x_part],
                  [c for _, c in COLUMNS] + ["layer\nsparsity", "part\nsparsity"], fontsize=8)
    ax.set_yticks(range(len(rows)), [f"{'enc' if p == 'encoder' else 'dec'} {i}" for p, i in rows], fontsize=8)
    ax.set_xlim(-0.5, x_part + 0.5)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"{method}: model sparsity {report.model_actual:.1%}\n(hidden dims kept {g.hidden_kept}/"
                 f"{g.hidden_full})", fontsize=10)
    return image


def draw_part_bars(ax, reports: dict, grids: dict[str, Grid], colors) -> pd.DataFrame:
    """Each method's reached sparsity per part (from its pruning report) as bars side by side, and a box with the
    whole decoder layers each removed. ``reports`` and ``grids`` by method; returns the bars' numbers."""
    methods = list(reports)
    bars = pd.DataFrame([dict(method=m, part=p, sparsity=getattr(reports[m], f"{p}_actual"))
                         for m in methods for p in SPARSITY_PARTS])
    x, width = np.arange(len(SPARSITY_PARTS)), 0.76 / len(methods)
    for k, m in enumerate(methods):
        offset = (k - (len(methods) - 1) / 2) * width
        values = bars[bars.method == m].sparsity.to_numpy()
        ax.bar(x + offset, values * 100, width=width, color=colors[k], label=m)
        for xi, v in zip(x, values):
            ax.text(xi + offset, v * 100 + 1, f"{v:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, ["encoder", "decoder", "whole model"])
    ax.set(ylabel="sparsity (% of prunable weights)", ylim=(0, 125), title="sparsity per part (pruning report)")
    ax.text(0.98, 0.97, "decoder layers removed\n" + "\n".join(
        f"{m}: {grids[m].removed('decoder')} of {grids[m].depth('decoder')}" for m in methods),
        transform=ax.transAxes, ha="right", va="top", fontsize=8,
        bbox=dict(boxstyle="round", facecolor="white", edgecolor="#999999"))
    ax.legend(loc="upper left", fontsize=8)
    return bars
