"""Repeated-seed pruning runs (Figure 8): one record per run, how far each missed its target, the spread per method.

Figure 8 prunes the same teacher once per seed with two methods and asks whether a method lands on its
target sparsity and how much its runs differ. :func:`seed_run` records one finished, checked student
(the sparsity its deterministic masks reached in the scope its constraint covers, beside its
:class:`~nashlib.experiments.summary.ModelRow`); :func:`frame` tabulates the runs with each one's miss and
outcome; :func:`spread` summarises them per task and method; :func:`spread_panels` draws the figure (the spreads
are compared with ``verdicts.spread_larger``, the Brown-Forsythe test).
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib.experiments.students import Student
from nashlib.experiments.summary import ModelRow, student_row
from nashlib.experiments.teachers import Teacher
from nashlib.results import plotting

__all__ = ["SeedRun", "seed_run", "outcomes", "frame", "spread", "group_labels",
           "spread_panels"]


@dataclass(frozen=True)
class SeedRun:
    """One pruning run at one seed."""

    row: ModelRow  # the student's row (summary.student_row): quality, size, reached sparsities
    seed: int
    scope: str  # what the method's constraint covers: "model" (CoFi-T5) or "encoder" (NASH)
    target: float  # the target sparsity of that scope
    reached: float  # what the deterministic masks kept, in that scope, against the teacher's prunable weights
    expected: float  # what the Lagrangian saw at the end: the expected sparsity of the stochastic masks
    teacher_quality: float  # the teacher's metric x 100
    teacher_params_M: float
    prune_s: float
    folder: str


def seed_run(label: str, seed: int, s: Student, teacher: Teacher) -> SeedRun:
    """The record of a checked student ``s`` (``summary.check_student``) pruned at ``seed``, named ``label``."""
    r = s.report
    return SeedRun(row=student_row(label, s, teacher), seed=seed, scope=r.scope, target=r.target_sparsity,
                   reached=getattr(r, f"{r.scope}_actual"), expected=getattr(r, f"{r.scope}_expected"),
                   teacher_quality=teacher.scores.main * 100, teacher_params_M=s.info.teacher_parameters / 1e6,
                   prune_s=s.info.prune_seconds, folder=s.folder.name)


def outcomes(miss, tolerance: float) -> np.ndarray:
    """``"over-pruned"`` where ``miss`` (reached - target) exceeds ``tolerance``, ``"under-pruned"`` where it is
    below ``-tolerance``, ``"reached"`` otherwise."""
    miss = np.asarray(miss, dtype=float)
    return np.select([miss > tolerance, miss < -tolerance], ["over-pruned", "under-pruned"], "reached")


def frame(runs: Sequence[SeedRun], *, tolerance: float) -> pd.DataFrame:
    """One row per run: task, method (the row's label), seed, scope, target, reached, ``miss`` (reached -
    target), its ``outcome`` (:func:`outcomes`), the row's quality, sizes and sparsities, and the rest."""
    records = []
    for run in runs:
        row = dataclasses.asdict(run.row)
        method, _, _ = row.pop("model"), row.pop("target_sparsity"), row.pop("seed")  # the run's seed is kept
        extra = {f.name: getattr(run, f.name) for f in dataclasses.fields(run) if f.name != "row"}
        records.append(dict(task=row.pop("task"), title=row.pop("title"), metric=row.pop("metric"), method=method,
                            **extra, **row))
    data = pd.DataFrame(records)
    data["miss"] = data.reached - data.target
    data["outcome"] = outcomes(data.miss, tolerance)
    return data


def spread(data: pd.DataFrame, *, tolerance: float) -> pd.DataFrame:
    """Per task and method (in order of appearance): runs, target, the misses' mean, spread (sample std),
    range and mean absolute value, the shares over- and under-pruned by more than ``tolerance``, and the
    quality's mean, spread and range beside the teacher's."""
    return data.groupby(["task", "title", "method"], sort=False).agg(
        runs=("seed", "size"), target=("target", "first"),
        miss_mean=("miss", "mean"), miss_std=("miss", "std"), miss_min=("miss", "min"), miss_max=("miss", "max"),
        abs_miss_mean=("miss", lambda m: m.abs().mean()),
        over_pruned=("miss", lambda m: (m > tolerance).mean()),
        under_pruned=("miss", lambda m: (m < -tolerance).mean()),
        quality_mean=("quality", "mean"), quality_std=("quality", "std"), quality_min=("quality", "min"),
        quality_max=("quality", "max"), teacher_quality=("teacher_quality", "first"),
    ).reset_index()


def group_labels(data: pd.DataFrame, width: int = 26) -> list[str]:
    """One label per row: the task's title and metric (wrapped to ``width``) over the method."""
    return ["\n".join(textwrap.wrap(f"{t} [{k}]", width)) + f"\n{m}"
            for t, k, m in zip(data.title, data.metric, data.method)]


def spread_panels(ax, ax2, data: pd.DataFrame, methods: Sequence[str], *, tolerance: float) -> None:
    """Figure 8: reached sparsity (``ax``) and quality (``ax2``) of every run, one row per task and method.

    Boxes and points per row; on ``ax`` the method's target (red dashes) and the band of ``tolerance``
    around it, on ``ax2`` the teacher's quality (dotted).
    """
    data = data.assign(group=group_labels(data))
    order = list(dict.fromkeys(data.group))
    style = dict(y="group", hue="method", order=order, hue_order=list(methods), dodge=False, orient="h",
                 legend=False, palette=dict(zip(methods, sns.color_palette(plotting.PALETTE, len(methods)))))
    for axis, column in ((ax, "reached"), (ax2, "quality")):
        sns.boxplot(data=data, x=column, width=0.5, fliersize=0, boxprops=dict(alpha=0.35), ax=axis, **style)
        sns.stripplot(data=data, x=column, size=6, jitter=0.12, edgecolor="black", linewidth=0.5, ax=axis, **style)
    for i, group in enumerate(order):
        row = data[data.group == group].iloc[0]
        ax.fill_betweenx([i - 0.4, i + 0.4], row.target - tolerance, row.target + tolerance, color="red", alpha=0.12,
                         label=f"target ± {tolerance:g}" if i == 0 else None)
        ax.plot([row.target] * 2, [i - 0.4, i + 0.4], color="red", ls="--", lw=1.5, label="target" if i == 0 else None)
        ax2.plot([row.teacher_quality] * 2, [i - 0.4, i + 0.4], color="black", ls=":", lw=1.5,
                 label="teacher" if i == 0 else None)
    ax.set(xlabel="reached sparsity of the constrained scope (deterministic masks)", ylabel="",
           title="reached sparsity per seed", xlim=(min(0.0, data.reached.min() - 0.05), 1.0))
    ax.legend(loc="lower right", fontsize=8)
    ax2.set(xlabel="quality (the task's metric x 100)", ylabel="", title="quality per seed")
    ax2.tick_params(labelleft=False)  # same rows as the left panel
    ax2.legend(loc="lower right", fontsize=8)
