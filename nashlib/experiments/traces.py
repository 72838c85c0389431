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

__all__ = ["trace_of", "kept_step", "trace_panel", "trace_figure"]


def _info(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, root) -> StudentInfo:
    run = student_run(teacher, cfg, recipe, root)
    if not run.finished:
        raise ValueError(f"{run.folder}: the student is not finished; train it with students.student first")
    return StudentInfo.from_json(run.info())


def trace_of(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, root: str | os.PathLike | None = None
             ) -> list[PrunePoint]:
    """The pruning trace of a finished student, read from its ``info.json`` (the model is not loaded)."""
    return _info(teacher, cfg, recipe, root).prune_curve


def kept_step(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, root: str | os.PathLike | None = None
              ) -> int | None:
    """The pruning step whose masks a finished student kept (``PruneReport.selected_step``; None: the last)."""
    return _info(teacher, cfg, recipe, root).report.selected_step


def trace_panel(ax, trace: list[PrunePoint], *, title: str = "", tolerance: float | None = None,
                kept: int | None = None):
    """Expected and deterministic sparsity against the target (left axis), l1 and l2 (right axis); ``kept``:
    the step whose masks the run kept (a dotted vertical line)."""
    steps = [p.step for p in trace]
    target = [p.target for p in trace]
    ax.plot(steps, target, color="black", lw=1, ls="--", label="target")
    if tolerance:
        ax.fill_between(steps, [t - tolerance for t in target], [t + tolerance for t in target], color="0.85",
                        label=f"target ± {tolerance:g}")
    ax.plot(steps, [p.expected_sparsity for p in trace], color="tab:blue", lw=1, label="expected")
    ax.plot(steps, [p.deterministic_sparsity for p in trace], color="tab:orange", lw=1, label="deterministic")
    if kept is not None:
        ax.axvline(kept, color="tab:purple", lw=1, ls=":", label="kept step")
    ax.set(xlabel="pruning step", ylabel="sparsity", title=title)
    twin = ax.twinx()
    twin.plot(steps, [p.lambda_1 for p in trace], color="tab:green", lw=0.8, alpha=0.7, label="λ1")
    twin.plot(steps, [p.lambda_2 for p in trace], color="tab:red", lw=0.8, alpha=0.7, label="λ2")
    twin.set_ylabel("multiplier")
    return ax, twin


def trace_figure(traces: dict[str, list[PrunePoint]], *, tolerance: float | None = None, ncols: int = 4,
                 title: str = "", kept: dict[str, int | None] | None = None):
    """One :func:`trace_panel` per named trace, with one legend for all; returns the figure. ``kept``: per
    name, the step whose masks the run kept (:func:`kept_step`)."""
    if not traces:
        raise ValueError("traces is empty: pass at least one run's trace")
    n = len(traces)
    ncols = min(ncols, n)
    fig, axes = plotting.subplots(math.ceil(n / ncols), ncols, width=3.6, height=2.6)
    flat = list(axes.flat)
    for ax, (name, trace) in zip(flat, traces.items()):
        trace_panel(ax, trace, title=name, tolerance=tolerance, kept=(kept or {}).get(name))
    for ax in flat[n:]:
        ax.set_visible(False)
    legend = {lb: h for a in flat[:n] for part in (a, *a.get_shared_x_axes().get_siblings(a))
              for h, lb in zip(*part.get_legend_handles_labels())}  # every panel's entries, each label once
    handles, labels = list(legend.values()), list(legend)
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
