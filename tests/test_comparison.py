"""Table 1's comparison helpers on hand-made numbers and the paper's own table."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from nashlib.experiments import comparison
from nashlib.results import paper
from nashlib.results import verdicts as V


def _column(dataset):
    ref = paper.table1()
    g = ref[ref.dataset == dataset].set_index("model")
    return g.quality, g.speedup


def test_paper_column_picks_table1_then_table11_else_none():
    t1 = comparison.paper_column("SAMSum")
    assert t1.table == "Table 1" and t1.rows["NASH-3"] == (41.09, 4.24)
    t11 = comparison.paper_column("GLUE SST-2")
    assert t11.table == "Table 11" and t11.dataset == "SST-2" and t11.rows["NASH-2"] == (92.74, 2.8)
    assert "NASH-3" not in t11.rows  # Table 11 reports NASH with 2 decoder layers only
    none = comparison.paper_column("SST-2 frequent words")
    assert none.table is None and none.rows == {}


def test_add_paper_columns_leaves_missing_rows_nan():
    data = pd.DataFrame(dict(title=["SAMSum", "GLUE SST-2", "GLUE SST-2", "other"],
                             paper_row=["T5-Small", "NASH-2", "NASH-3", "T5-Base"]))
    out = comparison.add_paper_columns(data)
    assert out.paper_quality.iloc[0] == 38.14 and out.paper_speedup.iloc[1] == 2.8
    assert np.isnan(out.paper_quality.iloc[2]) and np.isnan(out.paper_speedup.iloc[3])
    assert list(out.paper_table[:3]) == ["Table 1", "Table 11", "Table 11"] and pd.isna(out.paper_table[3])
    assert "paper_quality" not in data  # the input is left as it was


def test_table1_checks_on_the_papers_own_table():
    """The paper's TweetQA column fails check 2 (NASH-3 50.77 < T5-Small 51.42); SAMSum passes all four."""
    q, s = _column("TweetQA")
    v = comparison.table1_checks(q, s, teacher_gap=7.0, tie=0.0, label="TweetQA")
    assert [p.outcome for p in v.parts] == [V.HOLDS, V.DOES_NOT_HOLD, V.HOLDS, V.HOLDS]
    assert v.outcome == V.PARTLY
    q, s = _column("SAMSum")
    assert comparison.table1_checks(q, s, teacher_gap=7.0, tie=0.0, label="SAMSum").holds


def test_table1_checks_need_every_part_of_a_check():
    q = {"T5-Base": 50.0, "T5-Small": 40.0, "CoFi-T5": 40.0, "NASH-2": 41.0, "NASH-3": 45.0, "NASH-4": 44.0}
    s = {"T5-Small": 2.0, "CoFi-T5": 3.5, "NASH-2": 4.0, "NASH-3": 3.0, "NASH-4": 2.5}
    v = comparison.table1_checks(q, s, teacher_gap=4.0, tie=0.0, label="toy")
    faster, better, trade, near = v.parts
    assert faster.outcome == V.DOES_NOT_HOLD  # faster than T5-Small, not than CoFi-T5: the check needs both
    assert better.holds
    assert trade.outcome == V.DOES_NOT_HOLD  # speedups fall, but NASH-4's quality is below NASH-3's
    assert near.outcome == V.DOES_NOT_HOLD and near.estimate == pytest.approx(5.0)
    assert v.outcome == V.PARTLY


def test_table1_checks_on_paired_seeds_can_be_inconclusive():
    rng = np.random.default_rng(0)
    rows = rng.uniform(20, 80, size=300)  # (rows,)

    def model(shift, noise):  # (seeds, rows): five seeds scored on the same rows
        return rows[None, :] + shift + rng.normal(0, noise, size=(5, 300))

    q = {"T5-Base": np.repeat(rows[None, :] + 6, 5, axis=0), "T5-Small": model(0.0, 5), "CoFi-T5": model(-5.0, 5),
         "NASH-2": model(-1.0, 5), "NASH-3": model(0.2, 5), "NASH-4": model(3.0, 5)}
    s = {"T5-Small": 2.0, "CoFi-T5": 1.5, "NASH-2": 4.0, "NASH-3": 3.0, "NASH-4": 2.5}
    v = comparison.table1_checks(q, s, teacher_gap=7.0, tie=1.0, label="toy")
    faster, better, trade, near = v.parts
    assert faster.holds and near.holds and near.n == 5 and near.rows == 300
    vs_small, vs_cofi = better.parts
    assert vs_cofi.holds and vs_small.interval[0] > -1.0  # NASH-3 ~0.2 above T5-Small: inside the tie of 1 point
    q["T5-Small"] = model(1.5, 5)  # now T5-Small is 1.3 points better: the interval straddles -1
    vs_small = comparison.table1_checks(q, s, teacher_gap=7.0, tie=1.0, label="toy").parts[1].parts[0]
    assert vs_small.outcome in (V.INCONCLUSIVE, V.DOES_NOT_HOLD) and vs_small.estimate == pytest.approx(-1.3, abs=0.5)


def test_panels_draw():
    grp = pd.DataFrame(dict(quality=[50, 40, 38, 41, 45, 47.0], speedup=[1, 2, 1.4, 4, 3, 2.5],
                            speedup_q25=[1, 1.9, 1.3, 3.8, 2.9, 2.4], speedup_q75=[1, 2.1, 1.5, 4.2, 3.1, 2.6]),
                       index=comparison.MODEL_ORDER)
    fig, axes = comparison.plotting.subplots(1, 2)
    comparison.quality_speed_panel(axes[0, 0], grp, title="toy", ylabel="score")
    comparison.paper_table1_panel(axes[0, 1], paper.table1())
    assert len(axes[0, 0].get_legend_handles_labels()[1]) == len(comparison.MODEL_ORDER)
    comparison.plotting.plt.close(fig)


def test_table1_checks_compare_speeds_round_by_round():
    """Per-round speedups (the same timed rounds for every model): "faster" needs the 95 % interval of the mean
    per-round difference above 0, so a gap within the rounds' noise is inconclusive, not a win."""
    q = {"T5-Base": 50.0, "T5-Small": 40.0, "CoFi-T5": 40.0, "NASH-2": 41.0, "NASH-3": 45.0, "NASH-4": 46.0}
    noise = np.array([0.0, 0.3, -0.3, 0.2, -0.2])  # (rounds,): the machine's speed round to round
    s = {"T5-Small": 2.0 + noise, "CoFi-T5": 1.5 + noise, "NASH-2": 4.0 + noise, "NASH-3": 3.0 + noise,
         "NASH-4": 2.5 + noise}
    v = comparison.table1_checks(q, s, teacher_gap=7.0, tie=0.0, label="toy")
    faster, _, trade, _ = v.parts
    assert faster.holds and faster.parts[0].n == 5 and faster.parts[0].interval == pytest.approx((1.0, 1.0))
    assert trade.holds and [p.claim for p in trade.parts[:2]] == ["NASH-2 faster than NASH-3",
                                                                  "NASH-3 faster than NASH-4"]
    s["T5-Small"] = 3.0 + np.array([0.4, -0.4, 0.3, -0.3, 0.1])  # as fast as NASH-3 give or take a round's noise
    vs_small = comparison.table1_checks(q, s, teacher_gap=7.0, tie=0.0, label="toy").parts[0].parts[0]
    assert vs_small.outcome == V.INCONCLUSIVE and vs_small.interval[0] < 0 < vs_small.interval[1]
    s["T5-Small"] = s["NASH-3"] + 0.5  # faster in every round
    assert comparison.table1_checks(q, s, teacher_gap=7.0, tie=0.0, label="toy").parts[0].outcome == V.DOES_NOT_HOLD
    with pytest.raises(ValueError, match="equal shapes"):
        comparison.table1_checks(q, {**s, "NASH-3": s["NASH-3"][:4]}, teacher_gap=7.0, tie=0.0, label="toy")


def test_nlu_checks_take_per_round_speedups():
    from nashlib.experiments import nlu
    q = {"NASH-2": 80.0, "CoFi-T5": 79.5}
    rounds = np.array([1.0, 1.1, 0.9, 1.05, 0.95])  # (rounds,)
    v = nlu.checks(q, {"NASH-2": 2.0 * rounds, "CoFi-T5": 1.2 * rounds}, tie=1.0, label="toy")
    assert v.holds and v.parts[1].n == 5 and v.parts[1].interval[0] > 0
    v = nlu.checks(q, {"NASH-2": 1.2 * rounds, "CoFi-T5": 1.2 * rounds[::-1]}, tie=1.0, label="toy")
    assert v.parts[1].outcome == V.INCONCLUSIVE  # as fast, round for round, within the noise
