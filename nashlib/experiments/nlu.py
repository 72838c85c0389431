"""Table 11 / Figure 10 (Appendix G.2): NASH with two decoder layers on NLU tasks, against CoFi-T5 and T5-Small.

- :func:`nlu_teachers`: the profile's teachers of GLUE / SuperGLUE tasks (classification or regression) that
  pass the usable-teacher rule (or all of them where the profile waives it). Unlike the other pruning
  notebooks, Table 11's tasks are the NLU ones, whatever ``Profile.pruning_tasks`` names.
- :func:`train_lineup`: per seed, NASH-2 (two uniform decoder layers, encoder target 0.3), then CoFi-T5 with the
  whole-model sparsity that NASH-2 *reached* at that seed as its target (the paper: "around 60M" for both).
- :func:`small_model`: the dense small model of a teacher's task at a seed, trained exactly as the teacher was.
- :func:`checks`: the paper's claims on one task's column, on its printed numbers or on our paired samples.
- :func:`panel`: one task's models as quality against speedup.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from nashlib.data import tasks
from nashlib.experiments import lineup, students
from nashlib.experiments.baselines import usable
from nashlib.experiments.comparison import STYLES
from nashlib.experiments.teachers import Teacher, get_teacher
from nashlib.results import plotting
from nashlib.results import verdicts as V
from nashlib.settings import Profile, StudentRecipe
from nashlib.shapes import count_parameters

__all__ = ["NLU_KINDS", "LABELS", "PAPER_ROW", "nlu_teachers", "small_model", "train_lineup", "checks", "panel",
           "paper_rows", "mean_speedup"]

NLU_KINDS = ("classification", "regression")
LABELS = ("teacher", "small dense", "CoFi-T5", "NASH-2")  # Table 11's rows, in our roles
PAPER_ROW = {"teacher": "T5-Base", "small dense": "T5-Small", "CoFi-T5": "CoFi-T5", "NASH-2": "NASH-2"}


def nlu_teachers(profile: Profile, *, progress: bool = True) -> tuple[dict[str, Teacher], pd.DataFrame]:
    """``({task: Teacher}, table)``: the profile's NLU teachers that may be pruned, and one row per NLU teacher
    with its score, best trivial baseline and whether it was used (an empty dict when the profile has none)."""
    kept, rows = {}, []
    for cfg in profile.teachers:
        task = tasks.get(cfg.task)
        if task.kind not in NLU_KINDS:
            continue
        t = get_teacher(cfg, progress=progress)
        check = usable(t, profile.teacher_margin)
        rows.append(dict(task=cfg.task, title=task.title, metric=task.metric, teacher=check.teacher,
                         best_baseline=check.best_baseline, usable=check.usable))
        if check.usable or profile.waive_teacher_rule:
            kept[cfg.task] = t
    table = pd.DataFrame(rows, columns=["task", "title", "metric", "teacher", "best_baseline", "usable"])
    return kept, table.assign(used=table.task.isin(list(kept)))


def small_model(t: Teacher, seed: int) -> Teacher:
    """The small dense model of ``t``'s task at ``seed`` (``lineup.small_config``), checked against ``t``."""
    cfg = dataclasses.replace(lineup.small_config(t.config), seed=seed)
    small = get_teacher(cfg)
    assert len(small.info.predictions) == len(t.info.predictions), "small dense model scored on other rows"
    assert count_parameters(small.model) < count_parameters(t.model), "small dense model not smaller"
    return small


def train_lineup(t: Teacher, recipe: StudentRecipe, seeds, *, workers: int) -> dict[int, dict[str, object]]:
    """``{seed: {"NASH-2": cfg, "CoFi-T5": cfg}}``, every student trained (or found in the cache)."""
    configs = {s: {"NASH-2": lineup.nash(2, recipe, seed=s)} for s in seeds}
    students.prefetch(t, [c["NASH-2"] for c in configs.values()], recipe, workers=workers)
    for s in seeds:
        reached = students.student(t, configs[s]["NASH-2"], recipe).report.model_actual
        configs[s]["CoFi-T5"] = lineup.cofi_matched(reached, recipe, seed=s)  # NASH-2's reached budget
    students.prefetch(t, [c["CoFi-T5"] for c in configs.values()], recipe, workers=workers)
    return configs


def checks(quality, speedup, *, tie: float, label: str) -> V.Verdict:
    """Appendix G.2's claims on one task (keys: the paper's row names; quality and ``tie`` in points).

    ``quality[m]`` is a number (the paper's table) or paired samples (seeds x rows, ``paired.scores``);
    ``speedup[m]`` a number (the paper's) or per-round ratios paired by round (``speedup_rounds`` of
    ``generation.time_generation``: the mean paired difference with its 95 % interval).
    1. NASH-2 at least as good as CoFi-T5 (not worse by more than ``tie``); 2. NASH-2 faster than CoFi-T5.
    ("On all datasets, NASH is able to outperform CoFi-T5.")
    """
    better = V.beats(quality["NASH-2"], quality["CoFi-T5"], margin=-tie, names=("NASH-2", "CoFi-T5"),
                     claim=f"{label}: NASH-2 at least as good as CoFi-T5 (tie {tie:g})")
    faster = V.beats(speedup["NASH-2"], speedup["CoFi-T5"], names=("NASH-2", "CoFi-T5"),
                     claim=f"{label}: NASH-2 faster than CoFi-T5")
    return V.combine([better, faster], claim=f"{label}: NASH-2 outperforms CoFi-T5")


def panel(ax, grp: pd.DataFrame, *, title: str, ylabel: str) -> None:
    """One task's models (index: :data:`LABELS`; ``quality``, ``quality_lo``/``_hi``, ``speedup`` and its
    quartiles) as quality against speedup; a dotted line at the teacher's quality."""
    for label, r in grp.iterrows():
        st = STYLES[label]
        ax.errorbar([r.speedup], [r.quality], xerr=[[r.speedup - r.speedup_q25], [r.speedup_q75 - r.speedup]],
                    yerr=[[r.quality - r.quality_lo], [r.quality_hi - r.quality]], marker=st.marker,
                    ms=12 if label == "teacher" else 8, capsize=2, color=st.color, mec="black", mew=0.5, ls="none",
                    label=label)
    ax.axhline(grp.loc["teacher"].quality, color="black", ls=":", lw=1)
    ax.set(xlabel="generation speedup vs teacher (x)", ylabel=ylabel, title=title)
    ax.margins(x=0.25, y=0.15)
    plotting.label_points(ax, grp.speedup, grp.quality, grp.index)


def paper_rows() -> pd.DataFrame:
    """Table 11 as a tidy frame: model (paper row), dataset, quality, speedup."""
    from nashlib.results import paper

    return pd.DataFrame([dict(model=m, dataset=d, quality=q, speedup=s) for m, vals in paper.TABLE11.items()
                         for d, (q, s) in zip(paper.TABLE11_DATASETS, vals)])


def mean_speedup(rows: pd.DataFrame, model: str) -> float:
    """The mean of a paper row's speedups (Table 11 or Table 1, tidy)."""
    return float(np.mean(rows[rows.model == model].speedup))
