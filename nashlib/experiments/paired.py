"""Paired seeds: each model of a comparison trained once per seed, every model scored on the same rows.

A quality claim ("NASH-3 is at least as good as CoFi-T5") compares two models that each vary with the seed
of their training and are scored on a finite validation set. Both are noise: a single seed per model, or
the rows' binomial error, can turn a tie into a win. So every comparison here is *paired*: the same seeds
for every model (seed ``s`` of NASH-3 beside seed ``s`` of CoFi-T5: the same mask noise, batch order and
dropout stream) and the same rows (the teacher's validation rows).

:func:`scores` turns a model's runs into a (seeds x rows) matrix of the task's metric, row by row
(``nashlib.data.metrics.per_row``: ROUGE-L, METEOR, accuracy; a metric that is not a mean over rows, such
as MCC, gives one number per seed instead). The verdict library (``nashlib.results.verdicts``) then
resamples seeds *and* rows (a two-level bootstrap) for the 95 % interval of the mean paired difference
(``V.beats`` / ``V.within`` take the two matrices). A model trained once (the teacher) is the same
model at every seed: its rows are repeated for each seed, so only the other model's seeds vary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nashlib.data import metrics
from nashlib.experiments.generation import parts_of
from nashlib.experiments.teachers import Teacher
from nashlib.results import verdicts as V

__all__ = ["references", "row_parts", "row_scores", "scores", "mean_interval", "model_means", "interval_text"]

_REFS: dict[str, tuple[list[list[str]], list[str] | None]] = {}


def _validation(teacher: Teacher) -> tuple[list[list[str]], list[str] | None]:
    """The references of the teacher's validation rows and, for a mixture, each row's task (read once)."""
    name = str(teacher.folder)
    if name not in _REFS:
        cfg = teacher.config
        valid = cfg.rows("validation", cfg.eval_examples)
        _REFS[name] = [list(r) for r in valid.dataset["references"]], parts_of(valid)
    return _REFS[name]


def references(teacher: Teacher) -> list[list[str]]:
    """The references of the validation rows the teacher (and every model compared with it) was scored on."""
    return _validation(teacher)[0]


def row_parts(teacher: Teacher) -> list[str] | None:
    """The task of each of the teacher's validation rows when it was trained on a mixture, else None."""
    return _validation(teacher)[1]


def row_scores(predictions: Sequence[str], teacher: Teacher) -> np.ndarray:
    """One model's metric on each of the teacher's rows (x 100), or its one overall score (a 1-element array)
    when the metric is not a mean over rows. ``predictions``: one per row, in the teacher's row order."""
    refs, parts = _validation(teacher)
    if len(predictions) != len(refs):
        raise ValueError(f"{len(predictions)} predictions for the teacher's {len(refs)} validation rows; "
                         "allowed: one prediction per row the teacher was scored on")
    rows = metrics.per_row(teacher.config.task, list(predictions), refs, parts=parts)
    if rows is None:
        rows = np.array([metrics.compute(teacher.config.task, list(predictions), refs, parts=parts)["score"]])
    return rows * 100


def scores(runs: Sequence, teacher: Teacher, *, seeds: int | None = None) -> np.ndarray:
    """(seeds, rows) of the metric x 100, one row of the matrix per run (anything with ``.info.predictions``:
    a student or a teacher), in the order given; (seeds,) when the metric is not a mean over rows.

    ``seeds``: repeat a single run that many times (a model trained once, compared with seeded ones).
    """
    if not runs:
        raise ValueError("no runs given; allowed: one run per seed, or one run with seeds=")
    if seeds is not None and len(runs) != 1:
        raise ValueError(f"seeds={seeds!r} repeats one run; {len(runs)} runs were given")
    m = np.stack([row_scores(r.info.predictions, teacher) for r in runs])  # (runs, rows)
    if seeds is not None:
        m = np.repeat(m, seeds, axis=0)  # (seeds, rows)
    return m[:, 0] if m.shape[1] == 1 else m


def mean_interval(m: np.ndarray) -> tuple[float, float, float]:
    """``(mean, low, high)``: a model's mean score over seeds and rows with its 95 % two-level bootstrap
    interval (``verdicts.bootstrap_interval``)."""
    lo, hi = V.bootstrap_interval(m)
    return float(np.mean(m)), lo, hi


def model_means(per_seed: pd.DataFrame, score_matrices: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """One row per task and model from ``per_seed`` (``summary.frame`` of one row per model and seed): the
    numeric columns averaged over seeds, ``seeds`` (how many), ``missed`` (how many seeds missed their
    target; NaN for dense models), and ``quality`` with ``quality_lo`` / ``quality_hi`` from the model's
    score matrix (``score_matrices[task][model]``): the 95 % interval of its mean over seeds and rows."""
    out = []
    for (task, model), g in per_seed.groupby(["task", "model"], sort=False):
        first = g.iloc[0]
        numeric = g.drop(columns=["seed", "missed"]).select_dtypes("number").mean()
        mean, lo, hi = mean_interval(score_matrices[task][model])
        missed = np.nan if g.missed.isna().all() else float(g.missed.fillna(False).astype(bool).sum())
        out.append({"task": task, "title": first.title, "metric": first.metric, "model": model, **numeric,
                    "quality": mean, "quality_lo": lo, "quality_hi": hi, "seeds": len(g), "missed": missed})
    return pd.DataFrame(out)


def interval_text(v: V.Verdict) -> str:
    """``"+1.23 [0.40, 2.10], n=5 x 872"``: a verdict's estimate and interval for tables and notes."""
    if v.interval is None:
        return f"{v.estimate:+.2f}"
    rows = f" x {v.rows}" if v.rows else ""
    return f"{v.estimate:+.2f} [{v.interval[0]:+.2f}, {v.interval[1]:+.2f}], n={v.n}{rows}"
