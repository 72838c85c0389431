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
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .env import REPO_ROOT, atomic_write_bytes, atomic_write_text, run_info  # noqa: E402

__all__ = ["set_style", "subplots", "save_figure", "COMMITTED_FIGURES", "PALETTE"]

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


def save_figure(fig, name: str, data: pd.DataFrame, *, out_dir: str | os.PathLike, profile: str,
                **info) -> dict[str, Path]:
    """Write ``name.png``, ``name.csv`` (the plotted numbers) and ``name.json`` (run info) atomically.

    Only the ``cpu`` profile may write into the committed ``figures/`` folder, so a smoke run or a
    test can never overwrite the published results. ``info`` goes into the JSON beside the run info
    (parameters, findings, verdicts).
    """
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"figure name {name!r}; allowed: a plain file stem such as 'fig3_layer_time'")
    out = Path(out_dir).resolve()
    if profile != "cpu" and (out == COMMITTED_FIGURES or COMMITTED_FIGURES in out.parents):
        raise ValueError(f"profile {profile!r} may not write into {COMMITTED_FIGURES} (committed cpu-profile "
                         "results); pass another out_dir, e.g. build/figures/" + profile)
    png = io.BytesIO()
    fig.savefig(png, format="png", bbox_inches="tight")
    paths = {
        "png": atomic_write_bytes(out / f"{name}.png", png.getvalue()),
        "csv": atomic_write_text(out / f"{name}.csv", data.to_csv(index=False)),
    }
    meta = run_info(figure=name, profile=profile, **info)
    paths["json"] = atomic_write_text(out / f"{name}.json", json.dumps(meta, indent=2, default=str) + "\n")
    return paths
