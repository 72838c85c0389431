"""One look for every figure, and one way to save it: PNG + CSV of the plotted numbers + run info."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import matplotlib

if "MPLBACKEND" not in os.environ and not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from nashlib.env import REPO_ROOT, atomic_write_bytes, atomic_write_text, run_info  # noqa: E402

__all__ = ["set_style", "subplots", "label_points", "save_figure", "COMMITTED_FIGURES", "PALETTE"]

COMMITTED_FIGURES = REPO_ROOT / "figures"
PALETTE = "colorblind"


def set_style() -> None:
    """The project's figure style: seaborn whitegrid, colour-blind palette, readable fonts."""
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE,
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "axes.titlesize": 12,
                      "axes.labelsize": 11, "legend.fontsize": 9, "figure.titlesize": 13})


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 5.0, height: float = 3.8, **kwargs):
    """``plt.subplots`` with panel sizes in inches and the project style applied."""
    set_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                        constrained_layout=True, **kwargs)


# where label_points tries a label, in points from its marker: right/left, above/below, then farther out
_LABEL_OFFSETS = [(7, 5), (7, -12), (-7, 5), (-7, -12), (0, 10), (0, -17), (14, 14), (14, -21), (-14, 14),
                  (-14, -21), (0, 22), (0, -29)]


def label_points(ax, xs, ys, labels, *, fontsize: float = 8) -> list:
    """Write ``labels`` beside the points ``(xs, ys)`` of ``ax`` so that no two labels overlap.

    Each label takes the first offset in :data:`_LABEL_OFFSETS` whose box overlaps neither a label
    placed before it nor any of the points; if every offset collides, the one overlapping least. The
    figure is drawn once to measure the text. Returns the annotations.
    """
    xs, ys, labels = list(xs), list(ys), list(labels)
    if not len(xs) == len(ys) == len(labels):
        raise ValueError(f"label_points: {len(xs)} xs, {len(ys)} ys and {len(labels)} labels; allowed: equal lengths")
    fig = ax.figure
    fig.canvas.draw()  # settles the layout, so that data -> pixel positions are the final ones
    renderer = fig.canvas.get_renderer()
    points = ax.transData.transform(list(zip(xs, ys))) if xs else []
    pad = 4.0  # pixels kept clear around each marker centre
    obstacles = [Bbox.from_extents(px - pad, py - pad, px + pad, py + pad) for px, py in points]
    placed = []
    for x, y, text in zip(xs, ys, labels):
        best, best_cost = None, None
        for dx, dy in _LABEL_OFFSETS:
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            note = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, fontsize=fontsize)
            note.set_in_layout(False)  # labels must not move the axes they were placed on
            box = note.get_window_extent(renderer).padded(1)
            cost = sum(_overlap(box, other) for other in obstacles)
            if best_cost is None or cost < best_cost:
                if best is not None:
                    best[0].remove()
                best, best_cost = (note, box), cost
            else:
                note.remove()
            if cost == 0:
                break
        placed.append(best[0])
        obstacles.append(best[1])
    return placed


def _overlap(a, b) -> float:
    """Area (pixels squared) shared by two boxes."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def save_figure(fig, name: str, data: pd.DataFrame, *, out_dir: str | os.PathLike, profile,
                **info) -> dict[str, Path]:
    """Write ``name.png``, ``name.csv`` (the plotted numbers) and ``name.json`` (run info) atomically.

    ``profile`` is a :class:`~nashlib.settings.Profile` or a profile name. Only a profile with
    ``writes_figures`` (``cpu``) may write into the committed ``figures/`` folder, so a smoke run or a
    test can never overwrite the published results. ``info`` goes into the JSON beside the run info
    (parameters, findings, verdicts).
    """
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"figure name {name!r}; allowed: a plain file stem such as 'fig3_layer_time'")
    from nashlib import settings

    p = settings.get(profile) if isinstance(profile, str) else profile
    out = Path(out_dir).resolve()
    if not p.writes_figures and (out == COMMITTED_FIGURES or COMMITTED_FIGURES in out.parents):
        raise ValueError(f"profile {p.name!r} may not write into {COMMITTED_FIGURES} (committed cpu-profile "
                         "results); pass another out_dir, e.g. build/figures/" + p.name)
    png = io.BytesIO()
    fig.savefig(png, format="png", bbox_inches="tight")
    paths = {
        "png": atomic_write_bytes(out / f"{name}.png", png.getvalue()),
        "csv": atomic_write_text(out / f"{name}.csv", data.to_csv(index=False)),
    }
    meta = run_info(figure=name, profile=p.name, settings_digest=settings.digest(p), **info)
    paths["json"] = atomic_write_text(out / f"{name}.json", json.dumps(meta, indent=2, default=str) + "\n")
    return paths
