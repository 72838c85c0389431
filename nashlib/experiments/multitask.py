"""Figure 7's multi-task learning: the teacher, the small dense model and NASH-3 trained on mixtures of 1 to K tasks.

The paper (Section 5.2, Figure 7) fine-tunes T5-Base, T5-Small and NASH on SAMSum, TweetQA and five GLUE / SuperGLUE
tasks, mixed one to seven at a time, and reads two claims off the plot: NASH beats T5-Small in quality *and* speed
at every number of tasks, and NASH's quality varies with the number of tasks much less than T5-Small's.

Here the mixture of ``k`` tasks is the first ``k`` tasks a profile gives the notebook (:func:`mixes`), trained as
one task (``nashlib.data.tasks.mixture``: T5-style prefixes keep the tasks apart; the metric is every row's own
task's metric). The teacher of a mixture is its first task's teacher configuration trained on the mixture
(:func:`teacher_config`); the small dense model and NASH-3 are Table 1's recipes applied to that teacher, once per
paired seed (:func:`train_lineup`), so the one-task mixture *is* Table 1's first task and reuses its models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nashlib.data import metrics, tasks
from nashlib.experiments import lineup, nlu, paired, students, summary
from nashlib.experiments.comparison import STYLES
from nashlib.experiments.teachers import Teacher, get_teacher
from nashlib.results import verdicts as V
from nashlib.settings import Profile, TeacherConfig

__all__ = ["LABELS", "PAPER_ROW", "mixes", "parts", "teacher_config", "Lineup", "train_lineup", "rows_of", "first_task_scores",
           "first_task_shifts", "panel", "checks"]

LABELS = ("teacher", "small dense", "NASH-3")  # Figure 7's models, in our roles
PAPER_ROW = {"teacher": "T5-Base", "small dense": "T5-Small", "NASH-3": "NASH"}


def mixes(names: Sequence[str]) -> list[str]:
    """The task names of the mixtures of the first 1, 2, ... of ``names``: ``["a", "a+b", "a+b+c"]``."""
    if not names or len(set(names)) != len(names):
        raise ValueError(f"tasks {list(names)}; allowed: one or more different task names")
    return [tasks.MIX.join(names[:k]) for k in range(1, len(names) + 1)]


def parts(mix: str) -> tuple[str, ...]:
    """The tasks of ``mix`` (a plain task is its own one part)."""
    return tasks.get(mix).parts or (mix,)


def teacher_config(profile: Profile, mix: str) -> TeacherConfig:
    """The teacher of ``mix``: its first task's configuration (model, optimiser, early stopping, rows scored, beams),
    trained on the mixture with the longest source and target lengths and the most steps of its parts' teachers."""
    cfgs = [profile.teacher(p) for p in parts(mix)]
    if len(cfgs) == 1:
        return cfgs[0]
    return dataclasses.replace(cfgs[0], task=mix, max_source_len=max(c.max_source_len for c in cfgs),
                               max_target_len=max(c.max_target_len for c in cfgs), steps=max(c.steps for c in cfgs))


@dataclass(frozen=True)
class Lineup:
    """One mixture's trained models: ``runs[label]`` one per seed (the teacher's one run repeated), each with
    ``.model`` and ``.info.predictions``; ``tokenizers[label]``; ``rows``: one ``summary`` row per model and seed."""

    teacher: Teacher
    runs: dict[str, list]
    tokenizers: dict[str, object]
    rows: list


def train_lineup(profile: Profile, mix: str, seeds: Sequence[int], *, progress: bool = True) -> Lineup:
    """The teacher of ``mix``, and per seed its small dense model and its NASH-3 (Table 1's configuration:
    ``lineup.nash_lineup``), trained or found in the caches."""
    t = get_teacher(teacher_config(profile, mix), progress=progress)
    recipe = profile.recipe(parts(mix)[0])
    configs = {s: lineup.nash_lineup(recipe, seed=s)["NASH-3"] for s in seeds}
    students.prefetch(t, configs.values(), recipe, workers=profile.workers)
    smalls = [nlu.small_model(t, s) for s in seeds]
    nash = [summary.check_student(students.student(t, configs[s], recipe), t, decoder_layers=3) for s in seeds]
    rows = [summary.dense_row("teacher", t.model, t.scores, t),
            *(summary.dense_row("small dense", m.model, m.scores, t, seed=s) for m, s in zip(smalls, seeds)),
            *(summary.student_row("NASH-3", x, t) for x in nash)]
    return Lineup(t, {"teacher": [t] * len(seeds), "small dense": smalls, "NASH-3": nash},
                  {k: smalls[0].tokenizer if k == "small dense" else t.tokenizer for k in LABELS}, rows)


def _positions(t: Teacher, task: str) -> np.ndarray:
    where = paired.row_parts(t) or [task] * len(paired.references(t))
    return np.flatnonzero(np.asarray(where) == task)


def rows_of(t: Teacher, task: str) -> int:
    """How many of ``t``'s validation rows belong to ``task``."""
    return int(_positions(t, task).size)


def first_task_scores(runs: Sequence, t: Teacher, task: str, n: int) -> np.ndarray:
    """(runs, n): each run's metric x 100 (``task``'s own) on the first ``n`` of ``t``'s validation rows that belong
    to ``task`` (all of them when ``t`` was trained on ``task`` alone). Every mixture that starts with ``task``
    scores these same rows, so the matrices of different mixtures compare row by row."""
    idx = _positions(t, task)[:n]
    if idx.size < n:
        raise ValueError(f"teacher of {t.config.task!r} scored {idx.size} rows of {task!r}; {n} asked for")
    refs = [paired.references(t)[i] for i in idx]
    out = []
    for r in runs:
        preds = [r.info.predictions[i] for i in idx]
        rows = metrics.per_row(task, preds, refs)
        out.append(rows if rows is not None else np.array([metrics.compute(task, preds, refs)["score"]]))
    return np.stack(out) * 100  # (runs, n), or (runs, 1) where the metric is not a mean over rows (MCC)


def first_task_shifts(first: Mapping[str, np.ndarray]) -> np.ndarray:
    """How much a model's quality on the first task moves when tasks are added: ``first[mix]`` is its (seeds, rows)
    matrix on the first task's common rows, one per mixture in order (one task first); returns the per-seed change
    of the mean from the one-task model, (seeds x (mixtures - 1),) flattened seed-major."""
    means = np.stack([np.asarray(m, dtype=float).mean(axis=1) for m in first.values()], axis=1)  # (seeds, mixtures)
    return (means[:, 1:] - means[:, :1]).ravel()


def panel(ax, data, column: str, *, ylabel: str, low: str | None = None, high: str | None = None) -> None:
    """One line per model of :data:`LABELS`: ``data[column]`` against the number of tasks mixed (``tasks_mixed``),
    with bars from ``low`` to ``high`` where given (Table 1's colours and markers)."""
    for label in LABELS:
        g = data[data.model == label].sort_values("tasks_mixed")
        st = STYLES[label]
        err = None if low is None else [g[column] - g[low], g[high] - g[column]]
        ax.errorbar(g.tasks_mixed, g[column], yerr=err, marker=st.marker, color=st.color, mec="black", mew=0.5,
                    capsize=3, ms=11 if label == "teacher" else 7, label=f"{label} ({PAPER_ROW[label]})")
    ax.set(xlabel="tasks mixed", ylabel=ylabel, xticks=sorted(data.tasks_mixed.unique()))
    ax.margins(x=0.2, y=0.15)


def checks(quality: Mapping[str, Mapping[str, np.ndarray]], speed: Mapping[str, Mapping[str, np.ndarray]],
           shifts: Mapping[str, np.ndarray], *, tie: float) -> V.Verdict:
    """Figure 7's claims (``quality[mix][label]``: (seeds, rows) x 100; ``speed[mix][label]``: per-round speedups
    against the mixture's teacher; ``shifts[label]``: :func:`first_task_shifts`; ``tie`` in points).

    1. At every number of tasks NASH-3 is at least as good as the small dense model (not worse by more than
       ``tie``, by the 95 % interval of the mean paired difference over seeds and rows) and faster (rounds paired).
    2. NASH-3's quality on the first task moves less with the number of tasks than the small dense model's: the
       mean absolute change from the one-task model, paired by seed and mixture, larger for the small dense model
       (95 % interval above 0); with one mixture only, not measured.
    """
    per_mix = []
    for mix, q in quality.items():
        k = len(parts(mix))
        per_mix += [V.beats(q["NASH-3"], q["small dense"], margin=-tie, names=("NASH-3", "small dense"),
                            claim=f"{k} task(s): NASH-3 at least as good as the small dense model (tie {tie:g})"),
                    V.beats(speed[mix]["NASH-3"], speed[mix]["small dense"], names=("NASH-3", "small dense"),
                            claim=f"{k} task(s): NASH-3 faster than the small dense model")]
    claim = "NASH-3's first-task quality varies less with the number of tasks than the small dense model's"
    if len(quality) < 2:
        steady = V.not_measured(claim=claim, why="one mixture only: nothing to vary")
    else:
        steady = V.beats(np.abs(shifts["small dense"]), np.abs(shifts["NASH-3"]), names=("small dense", "NASH-3"),
                         claim=claim)
    return V.combine([*per_mix, steady], claim="Figure 7: NASH beats T5-Small at every number of tasks and varies less")
