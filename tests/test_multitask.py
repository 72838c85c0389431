"""Mixtures of tasks (nashlib.data.tasks.mixture, the mixture metric) and Figure 7's checks (experiments.multitask)."""

import numpy as np
import pytest

from nashlib.data import metrics, tasks
from nashlib.experiments import multitask
from nashlib.results import verdicts as V
from nashlib.settings import TeacherConfig

needs_data = pytest.mark.skipif(tasks.data_dir() is None, reason="no local data folder (NASH_DATA_DIR)")
MIX = "sst2_frequent+sst2"


@needs_data
def test_a_mixture_takes_an_even_share_of_each_part_and_names_each_rows_task():
    data = tasks.load_task(MIX, "validation", source="local", limit=9)
    assert data.task.kind == "mixture" and data.task.parts == ("sst2_frequent", "sst2")
    assert list(data.dataset["part"]) == ["sst2_frequent"] * 5 + ["sst2"] * 5  # ceil(9 / 2) rows of each
    alone = tasks.load_task("sst2", "validation", source="local", limit=5)
    assert list(data.dataset["source"])[5:] == list(alone.dataset["source"])  # the part's own rows and prefix
    assert list(data.dataset["references"])[5:] == list(alone.dataset["references"])


@needs_data
def test_a_mixtures_training_rows_are_shuffled_once_the_same_way_and_mix_the_tasks():
    a, b = (tasks.load_task(MIX, "train", source="local", limit=200) for _ in range(2))
    assert list(a.dataset["source"]) == list(b.dataset["source"])  # a fixed permutation
    parts = list(a.dataset["part"])
    assert parts.count("sst2") == parts.count("sst2_frequent") == 100
    assert set(parts[-20:]) == {"sst2", "sst2_frequent"}  # dev rows held out at the end see both tasks
    assert "shuffled once" in a.derived


def test_bad_mixtures_are_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="two or more different tasks"):
        tasks.get("sst2+sst2")
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        tasks.get("sst2+nope")
    with pytest.raises(ValueError, match="mixtures themselves"):
        tasks.mixture(("rte", MIX))
    with pytest.raises(ValueError, match="unknown task"):
        TeacherConfig("sst2+rtex")
    assert TeacherConfig(MIX).task == MIX


def test_the_mixture_metric_is_each_rows_own_metric_averaged_over_rows():
    preds = ["good movie", "bad", "positive", "negative", "negative"]
    refs = [["good movie"], ["fine film"], ["positive"], ["positive"], ["negative"]]
    parts = ["sst2_frequent", "sst2_frequent", "sst2", "sst2", "sst2"]
    out = metrics.compute(MIX, preds, refs, parts=parts)
    freq = metrics.compute("sst2_frequent", preds[:2], refs[:2])["score"]
    assert out["sst2/accuracy"] == pytest.approx(2 / 3) and out["sst2_frequent/score"] == pytest.approx(freq)
    assert out["score"] == pytest.approx((2 * freq + 3 * 2 / 3) / 5)
    rows = metrics.per_row(MIX, preds, refs, parts=parts)
    assert rows.mean() == pytest.approx(out["score"]) and list(rows[2:]) == [1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="parts must name each row's task"):
        metrics.compute(MIX, preds, refs)
    with pytest.raises(ValueError, match="parts must name each row's task"):
        metrics.compute(MIX, preds, refs, parts=parts[:4] + ["rte"])
    with pytest.raises(ValueError, match="not a mixture"):
        metrics.compute("sst2", preds, refs, parts=parts)


def test_mixes_grow_one_task_at_a_time_and_shifts_are_per_seed_moves_from_one_task():
    assert multitask.mixes(["a", "b", "c"]) == ["a", "a+b", "a+b+c"]
    with pytest.raises(ValueError, match="different task names"):
        multitask.mixes(["a", "a"])
    first = {"a": np.array([[10.0, 20.0], [30.0, 30.0]]), "a+b": np.array([[12.0, 22.0], [27.0, 29.0]]),
             "a+b+c": np.array([[15.0, 15.0], [30.0, 30.0]])}
    # seed 0: 15 -> 17, 15; seed 1: 30 -> 28, 30
    assert multitask.first_task_shifts(first).tolist() == [2.0, 0.0, -2.0, 0.0]


def _checks(nash_move: float, mixes=("a", "a+b")):
    rng = np.random.default_rng(0)
    quality = {m: {"NASH-3": rng.normal(60, 1, (5, 50)), "small dense": rng.normal(50, 1, (5, 50))} for m in mixes}
    speed = {m: {"NASH-3": np.full(5, 2.0) + rng.normal(0, 0.01, 5), "small dense": np.full(5, 1.5)} for m in mixes}
    shifts = {"NASH-3": rng.normal(nash_move, 0.2, 10), "small dense": rng.normal(-5, 0.2, 10)}
    return multitask.checks(quality, speed, shifts, tie=1.0)


def test_figure7_checks_hold_only_when_nash_is_better_faster_and_steadier(monkeypatch):
    monkeypatch.setattr(multitask, "parts", lambda mix: tuple(mix.split("+")))  # plain labels, no task registry
    assert _checks(0.0).outcome == V.HOLDS
    moved = _checks(-8.0)  # NASH-3 moves more than the small model: the variation claim does not hold
    assert moved.outcome == V.PARTLY and moved.parts[-1].outcome == V.DOES_NOT_HOLD
    one = _checks(0.0, mixes=("a",))  # nothing varies with one mixture: not measured, so only partly
    assert one.parts[-1].outcome == V.INCONCLUSIVE and one.outcome == V.PARTLY
