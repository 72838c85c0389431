"""The controller's trace: how a pruning run's sparsity followed its target, step by step.

Every pruning run records, per step, the target (warmed up linearly), the *expected* sparsity the
Lagrangian steers (from the hard-concrete probabilities), the *deterministic* sparsity of the evaluation
masks (what compaction keeps), the multipliers l1 and l2 and the loss terms; a student keeps that trace
in its ``info.json`` (:class:`~nashlib.experiments.records.PrunePoint`). A reader sees the controller work:
the deterministic curve should end inside the tolerance band around the target.
"""

from __future__ import annotations

import math
import os

from nashlib.experiments.records import PrunePoint
from nashlib.experiments.students import StudentInfo, student_run
from nashlib.experiments.teachers import Teacher
from nashlib.pruning.prune import PruneConfig
from nashlib.results import plotting
from nashlib.settings import StudentRecipe

__all__ = ["trace_of", "trace_panel", "trace_figure"]


def trace_of(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, root: str | os.PathLike | None = None
             ) -> list[PrunePoint]:
    """The pruning trace of a finished student, read from its ``info.json`` (the model is not loaded)."""
    run = student_run(teacher, cfg, recipe, root)
    if not run.finished:
        raise ValueError(f"{run.folder}: the student is not finished; train it with students.student first")
    return StudentInfo.from_json(run.info()).prune_curve


def trace_panel(ax, trace: list[PrunePoint], *, title: str = "", tolerance: float | None = None):
    """Expected and deterministic sparsity against the target (left axis), l1 and l2 (right axis)."""
    steps = [p.step for p in trace]
    target = [p.target for p in trace]
    ax.plot(steps, target, color="black", lw=1, ls="--", label="target")
    if tolerance:
        ax.fill_between(steps, [t - tolerance for t in target], [t + tolerance for t in target], color="0.85",
                        label=f"target ± {tolerance:g}")
    ax.plot(steps, [p.expected_sparsity for p in trace], color="tab:blue", lw=1, label="expected")
    ax.plot(steps, [p.deterministic_sparsity for p in trace], color="tab:orange", lw=1, label="deterministic")
    ax.set(xlabel="pruning step", ylabel="sparsity", title=title)
    twin = ax.twinx()
    twin.plot(steps, [p.lambda_1 for p in trace], color="tab:green", lw=0.8, alpha=0.7, label="λ1")
    twin.plot(steps, [p.lambda_2 for p in trace], color="tab:red", lw=0.8, alpha=0.7, label="λ2")
    twin.set_ylabel("multiplier")
    return ax, twin


def trace_figure(traces: dict[str, list[PrunePoint]], *, tolerance: float | None = None, ncols: int = 4,
                 title: str = ""):
    """One :func:`trace_panel` per named trace, with one legend for all; returns the figure."""
    if not traces:
        raise ValueError("traces is empty: pass at least one run's trace")
    n = len(traces)
    ncols = min(ncols, n)
    fig, axes = plotting.subplots(math.ceil(n / ncols), ncols, width=3.6, height=2.6)
    flat = list(axes.flat)
    for ax, (name, trace) in zip(flat, traces.items()):
        left, right = trace_panel(ax, trace, title=name, tolerance=tolerance)
    for ax in flat[n:]:
        ax.set_visible(False)
    handles = [h for a in (left, right) for h in a.get_legend_handles_labels()[0]]
    labels = [lb for a in (left, right) for lb in a.get_legend_handles_labels()[1]]
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
