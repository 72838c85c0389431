"""The verdict library on hand-made inputs: rules, edge cases, determinism, and error messages."""

import json
import math

import numpy as np
import pytest

from nashlib.results import verdicts as V


def test_point_beats_and_tie_at_margin():
    assert V.beats(3.0, 1.0, claim="c").outcome == V.HOLDS
    assert V.beats(1.0, 3.0, claim="c").outcome == V.DOES_NOT_HOLD
    tie = V.beats(3.0, 1.0, margin=2.0, claim="c")  # difference exactly the margin: not "more than"
    assert tie.outcome == V.DOES_NOT_HOLD and tie.estimate == 2.0 and tie.interval is None and tie.n == 1
    assert V.beats(1.0, 3.0, claim="c", higher_is_better=False).holds  # lower is better: 1 beats 3


def test_paired_samples_use_the_bootstrap_interval():
    a, b = [5.0, 6.0, 7.0, 6.5, 5.5], [3.0, 4.1, 4.9, 4.4, 3.6]  # differences 2.0 .. 2.1
    v = V.beats(a, b, margin=1.0, claim="A beats B", names=("A", "B"))
    assert v.outcome == V.HOLDS and v.n == 5
    assert v.estimate == pytest.approx(np.mean(np.subtract(a, b)))
    assert 1.0 < v.interval[0] <= v.estimate <= v.interval[1]
    assert V.beats(a, b, margin=3.0, claim="c").outcome == V.DOES_NOT_HOLD


def test_interval_straddling_the_margin_is_inconclusive():
    v = V.beats([1.0, -1.0, 2.0, -2.0, 0.5], [0.0] * 5, claim="c")
    assert v.interval[0] < 0 < v.interval[1]
    assert v.outcome == V.INCONCLUSIVE and not v.holds


def test_bootstrap_is_deterministic_per_seed():
    x = [0.3, 1.2, -0.4, 2.2, 0.9, 1.4]
    assert V.bootstrap_interval(x, seed=3) == V.bootstrap_interval(x, seed=3)
    assert V.bootstrap_interval(x, seed=3) != V.bootstrap_interval(x, seed=4)
    lo, hi = V.bootstrap_interval(x)
    assert lo < np.mean(x) < hi
    assert V.bootstrap_interval(x, confidence=0.5) != (lo, hi)
    wide, narrow = V.bootstrap_interval(x, confidence=0.99), V.bootstrap_interval(x, confidence=0.5)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_one_sample_and_constant_samples_give_zero_width_intervals():
    assert V.bootstrap_interval([2.5]) == (2.5, 2.5)
    assert V.bootstrap_interval([0.1] * 7) == (0.1, 0.1)
    one = V.beats([2.0], [1.0], claim="c")
    assert one.n == 1 and one.interval == (1.0, 1.0) and one.holds
    on_margin = V.beats([2.0] * 4, [1.0] * 4, margin=1.0, claim="c")  # interval [1, 1] touches the margin
    assert on_margin.outcome == V.INCONCLUSIVE


def test_a_number_is_broadcast_against_samples():
    v = V.beats([3.0, 3.2, 2.9], 1.0, claim="c")
    assert v.holds and v.n == 3 and v.estimate == pytest.approx(2.0333333)


def test_within_points_and_samples():
    assert V.within(1.0, 1.25, tolerance=0.25, claim="c").holds  # the edge is inside
    assert not V.within(1.0, 1.26, tolerance=0.25, claim="c").holds
    assert V.within([1.0, 1.1, 0.9], [1.0, 1.0, 1.0], tolerance=0.5, claim="c").holds
    assert V.within([3.0, 3.1, 2.9], [1.0] * 3, tolerance=0.5, claim="c").outcome == V.DOES_NOT_HOLD
    assert V.within([0.0, 1.0, 0.2, 0.9], [0.0] * 4, tolerance=0.5, claim="c").outcome == V.INCONCLUSIVE
    assert V.target_reached(0.62, 0.6, tolerance=0.05, claim="c").holds
    assert not V.target_reached(0.5, 0.6, tolerance=0.05, claim="c").holds


def test_thresholds_strict_and_partly():
    assert V.at_least(2.0, 2.0, claim="c").holds and not V.at_least(2.0, 2.0, strict=True, claim="c").holds
    assert V.at_most(1.5, 1.5, claim="c").holds and not V.at_most(1.5, 1.5, strict=True, claim="c").holds
    tiers = [V.at_least(x, 2.0, partly_at=1.1, claim="c").outcome for x in (2.3, 1.5, 1.0)]
    assert tiers == [V.HOLDS, V.PARTLY, V.DOES_NOT_HOLD]
    assert V.at_least([2.1, 2.2, 2.3], 2.0, claim="c").holds
    assert V.at_least([1.0, 3.0, 1.2, 2.9], 2.0, claim="c").outcome == V.INCONCLUSIVE
    assert V.between(0.2, 0.15, 0.30, claim="c").holds and not V.between(0.31, 0.15, 0.30, claim="c").holds


def test_ratio_at_least():
    v = V.ratio_at_least(6.0, 2.0, factor=2.0, claim="speedup >= 2", names=("stock s", "fast s"))
    assert v.holds and v.estimate == 3.0 and dict(v.values)["stock s"] == 6.0
    assert not V.ratio_at_least(3.0, 2.0, factor=2.0, claim="c").holds
    paired = V.ratio_at_least([4.0, 6.0, 8.0], [2.0, 2.0, 2.0], factor=1.5, claim="c")
    assert paired.holds and paired.estimate == 3.0 and paired.n == 3


def test_trend_with_ties_strict_and_not():
    assert V.trend([1, 2, 2, 3], claim="c").holds
    assert not V.trend([1, 2, 2, 3], strict=True, claim="c").holds
    assert V.trend([3, 2, 1], direction="decreasing", strict=True, claim="c").holds
    assert not V.trend([1, 3, 2.9], claim="c").holds
    dip = V.trend([1, 3, 2.9], tolerance=0.2, claim="c", names=["x", "y", "z"])
    assert dip.holds and dip.estimate == pytest.approx(-0.1) and [k for k, _ in dip.values] == ["x", "y", "z"]


def test_combine_mixed_outcomes():
    h, n, i = (V.Verdict("c", o, "r") for o in (V.HOLDS, V.DOES_NOT_HOLD, V.INCONCLUSIVE))
    assert V.combine([h, h], claim="x").outcome == V.HOLDS
    assert V.combine([n, n], claim="x").outcome == V.DOES_NOT_HOLD
    assert V.combine([i, i], claim="x").outcome == V.INCONCLUSIVE
    assert V.combine([h, n], claim="x").outcome == V.PARTLY
    # nothing supported and one part contradicted: not "partly" (that needs a part that holds)
    assert V.combine([n, i], claim="x").outcome == V.DOES_NOT_HOLD
    assert V.combine([i, n, i], claim="x").outcome == V.DOES_NOT_HOLD
    assert V.combine([h, i], claim="x").outcome == V.PARTLY
    partly = V.Verdict("tiered", V.PARTLY, "r")
    assert V.combine([partly, n], claim="x").outcome == V.PARTLY
    assert V.combine([partly, i], claim="x").outcome == V.PARTLY
    both = V.combine([h, n, h], claim="x")
    assert "2 of 3 checks hold" in both.rule and both.parts == (h, n, h)


def test_combine_required_gates():
    h, n, i = (V.Verdict("c", o, "r") for o in (V.HOLDS, V.DOES_NOT_HOLD, V.INCONCLUSIVE))
    partly = V.Verdict("tiered", V.PARTLY, "r")
    assert V.combine([partly], claim="x", required=[h]).outcome == V.PARTLY
    assert V.combine([h], claim="x", required=[n]).outcome == V.DOES_NOT_HOLD
    assert V.combine([h], claim="x", required=[i]).outcome == V.INCONCLUSIVE
    claim_only = V.combine([h, n], claim="x", required=[h])  # the claim holds, its control does not
    assert claim_only.outcome == V.PARTLY and len(claim_only.parts) == 2


@pytest.mark.parametrize("call,error,match", [
    (lambda: V.beats([], [], claim="c"), ValueError, "a is empty"),
    (lambda: V.beats([1.0, 2.0], [1.0], claim="c"), ValueError, "a has shape \\(2,\\) and b \\(1,\\); allowed: equal shapes"),
    (lambda: V.beats([1.0, math.nan], [1.0, 2.0], claim="c"), ValueError, "a holds nan at index 1"),
    (lambda: V.beats(math.nan, 1.0, claim="c"), ValueError, "a=nan; allowed: a finite number"),
    (lambda: V.beats("3", 1.0, claim="c"), TypeError, "a='3' has type str"),
    (lambda: V.within(1.0, 2.0, tolerance=-0.1, claim="c"), ValueError, "tolerance=-0.1; allowed: a number >= 0"),
    (lambda: V.trend([1, 2], direction="up", claim="c"), ValueError, "direction='up'; allowed: 'increasing'"),
    (lambda: V.trend([1], claim="c"), ValueError, "at least 2 numbers"),
    (lambda: V.between(1.0, 2.0, 1.0, claim="c"), ValueError, "low=2.0 > high=1.0"),
    (lambda: V.ratio_at_least(1.0, 0.0, factor=2, claim="c"), ValueError, "b=0.0; allowed: positive"),
    (lambda: V.bootstrap_interval([1.0, 2.0], confidence=1.5), ValueError, "confidence=1.5"),
    (lambda: V.bootstrap_interval([1.0, 2.0], n_boot=0), ValueError, "n_boot=0"),
    (lambda: V.combine([], claim="c"), ValueError, "verdicts is empty"),
    (lambda: V.Verdict("c", "maybe", "r"), ValueError, "outcome='maybe'; allowed: 'holds'"),
    (lambda: V.fact(1, claim="c", rule="r"), TypeError, "observed=1 has type int"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_line_and_asdict_are_readable_and_json_ready():
    v = V.beats([5.0, 6.0, 7.0], [3.0, 4.0, 4.5], claim="NASH-3 beats CoFi-T5", names=("NASH-3", "CoFi-T5"))
    line = v.line()
    assert line.startswith("holds: NASH-3 beats CoFi-T5 (estimate 2.17; 95% CI ") and ", n=3; rule: " in line
    d = json.loads(json.dumps(v.asdict()))
    assert d["outcome"] == "holds" and d["n"] == 3 and len(d["interval"]) == 2 and "mean NASH-3" in d["values"]
    with pytest.raises(AttributeError):
        v.outcome = V.DOES_NOT_HOLD  # frozen


def test_finding_has_the_shape_report_reads(tmp_path):
    from nashlib.results import report

    checks = [V.at_least(2.4, 2.0, claim="fast", name="speedup"), V.fact(False, claim="tokens", rule="equal")]
    f = V.Finding("Figure 2", "decoder depth sets speed", "2.4-5.5x", "2.4x", V.combine(checks, claim="both"))
    d = f.asdict()
    assert d["verdict"] == V.PARTLY and [c["claim"] for c in d["checks"]] == ["fast", "tokens"]
    (tmp_path / "figX.json").write_text(json.dumps(dict(figure="figX", profile="smoke", findings=[d])))
    [row] = report.collect(tmp_path)
    assert row.verdict == "partly holds" and row.finding == "Figure 2" and row.ours == "2.4x"
    single = V.Finding("F", "c", "p", "o", checks[0]).asdict()
    assert single["verdict"] == "holds" and len(single["checks"]) == 1


# --- seeds x rows (two-level bootstrap) and spread tests ----------------------------------------------

def test_seeds_by_rows_resamples_both_levels():
    rng = np.random.default_rng(0)
    rows = rng.normal(0.5, 0.3, size=200)  # (rows,): row difficulty shared by every seed
    seeds = np.array([-0.02, 0.0, 0.01, 0.03, -0.01])  # (seeds,)
    a = seeds[:, None] + rows[None, :] + 0.05  # (seeds, rows)
    b = seeds[:, None] + rows[None, :]  # paired: the same seeds and rows, a is exactly 0.05 better
    v = V.beats(a, b, margin=0.0, claim="a beats b", names=("a", "b"))
    assert v.holds and v.estimate == pytest.approx(0.05) and v.n == 5 and v.rows == 200
    assert v.interval == pytest.approx((0.05, 0.05))  # a constant paired difference: no spread at either level
    assert "n=5 x 200 rows" in v.line() and v.asdict()["rows"] == 200


def test_row_noise_widens_the_interval_beyond_the_seed_only_one():
    rng = np.random.default_rng(1)
    d = rng.normal(0.0, 1.0, size=(5, 300)) + np.array([0.1, 0.12, 0.08, 0.11, 0.09])[:, None]
    both = V.bootstrap_interval(d)
    seeds_only = V.bootstrap_interval(d.mean(axis=1))
    assert both[1] - both[0] > seeds_only[1] - seeds_only[0]  # rows add their own uncertainty
    assert both[0] < d.mean() < both[1]


def test_two_level_interval_covers_by_hand_computation():
    d = np.array([[1.0, 0.0], [1.0, 0.0]])  # two seeds, two rows: the rows differ, the seeds do not
    lo, hi = V.bootstrap_interval(d, n_boot=4000)
    assert lo == 0.0 and hi == 1.0  # a resample of the rows can be (0, 0) or (1, 1): means from 0 to 1


def test_paired_shapes_must_match():
    with pytest.raises(ValueError, match="shape"):
        V.beats(np.zeros((3, 4)), np.zeros((3, 5)), claim="x")


def test_spread_larger_holds_fails_and_is_inconclusive():
    rng = np.random.default_rng(0)
    wide, narrow = rng.normal(0, 5.0, 20), rng.normal(0, 0.5, 20)
    assert V.spread_larger(wide, narrow, claim="wide varies more").holds
    assert V.spread_larger(narrow, wide, claim="narrow varies more").outcome == V.DOES_NOT_HOLD
    same = V.spread_larger(rng.normal(0, 1, 5), rng.normal(0, 1.1, 5), claim="similar")
    assert same.outcome == V.INCONCLUSIVE
    v = V.spread_larger(wide, narrow, claim="x", names=("CoFi", "NASH"))
    assert v.estimate == pytest.approx(wide.std(ddof=1) / narrow.std(ddof=1))
    assert dict(v.values)["p"] < 0.05


def test_spread_larger_needs_three_samples_each():
    with pytest.raises(ValueError, match="at least 3"):
        V.spread_larger([1.0, 2.0], [1.0, 2.0, 3.0], claim="x")
