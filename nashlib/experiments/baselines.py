"""What a teacher must clearly beat before it is worth pruning: trivial baselines and the usable-teacher rule.

A teacher that does not beat rules needing no learning (the majority label, the first line of the input,
the most frequent answer...) by the profile's margin has learned too little for its pruned students to say
anything; :func:`pruning_teachers` keeps only those that do (the smoke profile waives the rule).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from nashlib.data import tasks
from nashlib.experiments.generation import score
from nashlib.experiments.teachers import Teacher, get_teacher
from nashlib.results import verdicts as V
from nashlib.settings import Profile

__all__ = ["trivial_baselines", "baseline_scores", "TeacherCheck", "usable", "pruning_teachers"]


def _text(task: tasks.Task, source: str) -> str:
    """The main input text of a source (the template's last field), without the prefix words."""
    last = task.fields()[-1]
    head = task.template.split("{" + last + "}")[0]
    literal = head.split("}")[-1]  # the words between the previous field and this one
    return source.split(literal, 1)[-1] if literal and literal in source else source


def trivial_baselines(task_name: str, train: tasks.TaskData, valid: tasks.TaskData) -> dict[str, list[str]]:
    """Predictions of rules that need no learning, by name, for ``valid``.

    Labels: the majority label of ``train``. Texts: the first line and the first 20 words of the
    input text; QA also the most frequent training answer and the first three words of the context;
    the derived turns task also the first two lines. A derived task with its own ``Task.baselines``
    (``sst2_frequent``) uses those instead, plus its most frequent training target (see ``nashlib.data.tasks``).
    """
    task = tasks.get(task_name)
    if task.parts:
        raise ValueError(f"{task_name!r} is a mixture; allowed: a plain task (a mixture's teacher is judged by its "
                         "parts' teachers and scores)")
    targets = list(train.dataset["target"])
    if task.kind in ("classification", "regression"):
        majority = Counter(targets).most_common(1)[0][0]
        return {f"majority label ({majority!r})": [majority] * len(valid)}
    texts = [_text(task, s) for s in valid.dataset["source"]]
    if task.baselines:  # a derived task with its own obvious rules, plus its most frequent training target
        frequent = Counter(targets).most_common(1)[0][0]
        out = {name: [rule(t) for t in texts] for name, rule in task.baselines}
        out[f"most frequent target ({frequent!r})"] = [frequent] * len(valid)
        return out
    lines = [[ln.split(":", 1)[-1].strip() if task.kind == "derived" else ln.strip()
              for ln in t.splitlines() if ln.strip()] or [""] for t in texts]
    out = {"first line": [ls[0] for ls in lines], "first 20 words": [" ".join(t.split()[:20]) for t in texts]}
    if task.kind == "qa":
        frequent = Counter(targets).most_common(1)[0][0]
        out[f"most frequent answer ({frequent!r})"] = [frequent] * len(valid)
        out["first 3 words"] = [" ".join(t.split()[:3]) for t in texts]
    if task.kind == "derived":
        out["first two lines"] = [" ".join(ls[:2]) for ls in lines]
    return out


def baseline_scores(task_name: str, train: tasks.TaskData, valid: tasks.TaskData) -> dict[str, float]:
    """The task's metric (the paper's) of every trivial baseline on ``valid``, by baseline name."""
    return {name: score(task_name, preds, valid).main
            for name, preds in trivial_baselines(task_name, train, valid).items()}


@dataclass(frozen=True)
class TeacherCheck:
    """The usable-teacher rule's verdict on one teacher (scores in [0, 1])."""

    usable: bool  # teacher >= best_baseline + margin
    teacher: float  # the teacher's score (the paper's metric)
    best_baseline: float
    baselines: dict[str, float]  # every trivial baseline's score, by name
    margin: float = 0.10  # the margin the rule was applied with

    def verdict(self, claim: str, name: str = "teacher") -> V.Verdict:
        """The rule as a verdict (``nashlib.results.verdicts``): holds exactly when :attr:`usable` is true."""
        v = V.at_least(self.teacher, self.best_baseline + self.margin, claim=claim, name=name)
        assert v.holds == self.usable, f"{claim}: the verdict and the rule disagree"
        rule = f"{name} >= best trivial baseline {self.best_baseline:.4g} + margin {self.margin:g}"
        return dataclasses.replace(v, rule=rule, values=v.values + (("best trivial baseline", self.best_baseline),))


def usable(t: Teacher, margin: float = 0.10) -> TeacherCheck:
    """Whether teacher ``t`` beats every trivial baseline by ``margin`` (metric points / 100) on its validation rows.

    The teachers notebook applies this rule, and the pruning notebooks prune only the teachers that pass it.
    """
    cfg = t.config
    train = cfg.rows("train", cfg.train_examples or None)
    valid = cfg.rows("validation", cfg.eval_examples)
    if len(valid) != len(t.info.predictions):
        raise ValueError(f"teacher {t.folder}: {len(t.info.predictions)} cached predictions, {len(valid)} validation "
                         "rows now; the cached predictions belong to another validation set")
    base = baseline_scores(cfg.task, train, valid)
    best = max(base.values())
    return TeacherCheck(usable=t.scores.main >= best + margin, teacher=t.scores.main, best_baseline=best,
                        baselines=base, margin=margin)


def pruning_teachers(profile: Profile, *, progress: bool = True) -> tuple[dict[str, Teacher], pd.DataFrame]:
    """The teachers of ``profile`` that pruning experiments may use, and the table that decided it.

    Trains or loads the teachers of ``profile.teachers`` whose task is among ``profile.pruning_tasks`` (when it
    names any: the cpu profile prunes one task, so that every model gets paired seeds in budget; the runner
    hands each notebook its own tasks there) and keeps those that beat every trivial baseline by
    ``profile.teacher_margin`` (:func:`usable`). A teacher of another task is not trained here (at paper scale
    that would be days of training for a notebook that does not prune it): its row says ``chosen`` False and
    has no scores; the teachers notebook trains and reports every teacher.
    With ``profile.waive_teacher_rule`` (smoke) the rule is reported but waived: micro teachers trained for
    a few steps exist to exercise the code.
    Returns ``({task: Teacher}, table)``; the table has one row per teacher with its verdict and whether the
    profile chose its task. Raises
    ``RuntimeError`` when no teacher passes: there is nothing to prune.
    """
    kept, rows = {}, []
    for cfg in profile.teachers:
        task = tasks.get(cfg.task)
        row = dict(task=cfg.task, title=task.title, kind=task.kind, metric=task.metric, teacher=None,
                   best_baseline=None, usable=None, chosen=not profile.pruning_tasks or cfg.task in profile.pruning_tasks)
        if row["chosen"]:
            t = get_teacher(cfg, progress=progress)
            check = usable(t, profile.teacher_margin)
            row.update(teacher=check.teacher, best_baseline=check.best_baseline, usable=check.usable)
            if check.usable or profile.waive_teacher_rule:
                kept[cfg.task] = t
        rows.append(row)
    if not kept:
        raise RuntimeError(f"profile {profile.name}: no teacher passed the rule (see the teachers notebook); "
                           "nothing to prune")
    table = pd.DataFrame(rows)
    table["used"] = table.task.isin(list(kept))
    return kept, table
