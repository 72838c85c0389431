"""Verdicts: every "does our number reproduce the paper's claim?" goes through here.

A notebook states a claim and a rule with its thresholds, measures, and asks this module for the
verdict. Each function returns a frozen :class:`Verdict` that carries the outcome, the rule in words
(thresholds filled in), the compared quantity, and the inputs, so the run-info JSON records *why*.

Two kinds of input:

- **point values** (numbers): the rule is a plain comparison; the outcome is ``holds`` or
  ``does not hold``.
- **samples** (sequences, e.g. per-seed scores; paired by position when two are compared): the
  compared quantity is the mean (of the paired differences), with a seeded 95 % percentile bootstrap
  interval. A two-dimensional sample (seeds x evaluation rows: each seed's score of every row, the same
  rows for every seed and model) is resampled at both levels, seeds and rows, so the interval carries
  both the seed-to-seed spread and the finite evaluation set (:func:`bootstrap_interval`). The claim holds
  when the interval lies wholly on the claim's side of the threshold, does not hold when it lies wholly on
  the other side, and is ``inconclusive`` when it straddles it.

:func:`combine` joins several verdicts into one (``partly holds`` when some hold), and
:class:`Finding` pairs a combined verdict with the paper's numbers and ours, in the shape
``nashlib.results.report`` reads from each figure's run-info JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["HOLDS", "DOES_NOT_HOLD", "INCONCLUSIVE", "PARTLY", "OUTCOMES", "Verdict", "Finding",
           "bootstrap_interval", "beats", "within", "between", "at_least", "at_most", "ratio_at_least",
           "target_reached", "trend", "spread_larger", "fact", "not_measured", "combine"]

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
PARTLY = "partly holds"
OUTCOMES = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE, PARTLY)


def _num(x) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class Verdict:
    """One checked claim: its outcome, the rule that gave it, and the numbers behind it.

    ``estimate``: the compared quantity (a difference, a ratio, a value); ``interval``: its 95 %
    bootstrap interval when samples were given; ``n``: samples behind it (1 for point values);
    ``values``: the named inputs; ``parts``: the verdicts a :func:`combine` joined.
    """

    claim: str
    outcome: str
    rule: str
    estimate: float | None = None
    interval: tuple[float, float] | None = None
    n: int = 1
    values: tuple[tuple[str, float], ...] = ()
    rows: int = 0  # evaluation rows resampled beside the n seeds (0: seeds only)
    parts: tuple[Verdict, ...] = field(default=())

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome={self.outcome!r}; allowed: {', '.join(map(repr, OUTCOMES))}")

    @property
    def holds(self) -> bool:
        return self.outcome == HOLDS

    def line(self) -> str:
        """One readable line: outcome, claim, estimate, interval and n, and the rule."""
        details = []
        if self.estimate is not None:
            details.append(f"estimate {self.estimate:.3g}")
        if self.interval is not None:
            rows = f" x {self.rows} rows" if self.rows else ""
            details.append(f"95% CI {self.interval[0]:.3g} to {self.interval[1]:.3g}, n={self.n}{rows}")
        details.append(f"rule: {self.rule}")
        return f"{self.outcome}: {self.claim} ({'; '.join(details)})"

    def asdict(self) -> dict:
        """JSON-ready: plain floats, lists and dicts."""
        return {"claim": self.claim, "outcome": self.outcome, "rule": self.rule,
                "estimate": _num(self.estimate),
                "interval": None if self.interval is None else [float(v) for v in self.interval],
                "n": int(self.n), "rows": int(self.rows), "values": {k: _num(v) for k, v in self.values},
                "parts": [p.asdict() for p in self.parts]}


@dataclass(frozen=True)
class Finding:
    """A paper artefact checked: what the paper says, what we measured, and the verdict."""

    finding: str  # the paper artefact, e.g. "Figure 2"
    claim: str  # what is checked, in words
    paper: str  # the paper's numbers, as text
    ours: str  # our numbers, as text
    verdict: Verdict

    def asdict(self) -> dict:
        """The dict ``report.collect`` reads from run-info JSON, plus the rule and every check."""
        checks = self.verdict.parts or (self.verdict,)
        return {"finding": self.finding, "claim": self.claim, "paper": self.paper, "ours": self.ours,
                "verdict": self.verdict.outcome, "rule": self.verdict.rule,
                "checks": [c.asdict() for c in checks]}


# --- input checks ---------------------------------------------------------------------------------

def _finite(name: str, x) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}={x!r} has type {type(x).__name__}; allowed: a number or a sequence of numbers")
    if not math.isfinite(x):
        raise ValueError(f"{name}={x!r}; allowed: a finite number (not NaN or infinite)")
    return float(x)


def _samples(name: str, x) -> np.ndarray | None:
    """``None`` for a number; a float array for a non-empty sequence of finite numbers (one dimension, or
    two: seeds x rows)."""
    if not isinstance(x, (Sequence, np.ndarray)) or isinstance(x, str):
        _finite(name, x)
        return None
    try:
        arr = np.asarray(x, dtype=float)
    except ValueError as err:
        raise ValueError(f"{name}: {err}; allowed: a sequence of numbers, or seeds x rows of equal length") from err
    if arr.ndim > 2:
        raise ValueError(f"{name} has {arr.ndim} dimensions; allowed: 1 (samples) or 2 (seeds x rows)")
    arr = arr.ravel() if arr.ndim < 2 or arr.shape[1] == 1 else arr
    if arr.size == 0:
        raise ValueError(f"{name} is empty; allowed: a number or a non-empty sequence of numbers")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} holds {arr[bad[0]]} at index {bad[0]}; allowed: finite numbers (no NaN)")
    return arr


def _paired(names: tuple[str, str], a, b) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Samples of a and b, a number broadcast against a sequence; sequences must have equal lengths."""
    sa, sb = _samples(names[0], a), _samples(names[1], b)
    if sa is not None and sb is not None and sa.shape != sb.shape:
        raise ValueError(f"{names[0]} has shape {sa.shape} and {names[1]} {sb.shape}; allowed: equal shapes "
                         "(paired samples) or a single number")
    if sa is None and sb is not None:
        sa = np.full(sb.shape, float(a))
    if sb is None and sa is not None:
        sb = np.full(sa.shape, float(b))
    return sa, sb


def _n(x: np.ndarray) -> int:
    """Seeds (or samples) behind an array of samples."""
    return int(x.shape[0])


def _rows(x: np.ndarray) -> int:
    """Evaluation rows resampled beside the seeds (0 for one-dimensional samples)."""
    return int(x.shape[1]) if x.ndim == 2 else 0


def _tolerance(name: str, tol) -> float:
    tol = _finite(name, tol)
    if tol < 0:
        raise ValueError(f"{name}={tol!r}; allowed: a number >= 0")
    return tol


def bootstrap_interval(samples, *, confidence: float = 0.95, seed: int = 0,
                       n_boot: int = 10000) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``samples``, deterministic for a given ``seed``.

    ``n_boot`` resamples (with replacement, each of the samples' size) are drawn with
    ``numpy.random.default_rng(seed)``; the interval holds the central ``confidence`` of their means.
    Seeds x rows (two dimensions): each resample draws seeds and, independently, rows (the same rows for
    every drawn seed: the rows are shared), and takes the mean over both (a two-level bootstrap).
    One sample, or samples all equal, give a zero-width interval at that value.
    """
    x = _samples("samples", samples)
    if x is None:
        raise ValueError(f"samples={samples!r}; allowed: a non-empty sequence of numbers")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r}; allowed: a number between 0 and 1 (exclusive)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot={n_boot!r}; allowed: an integer >= 1")
    if np.ptp(x) == 0:
        return float(x.flat[0]), float(x.flat[0])
    rng = np.random.default_rng(seed)
    means = np.concatenate([_resampled_means(x, rng, min(1000, n_boot - i)) for i in range(0, n_boot, 1000)])
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


def _resampled_means(x: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` bootstrap means of ``x`` (samples, or seeds x rows resampled at both levels)."""
    if x.ndim == 1:
        return x[rng.integers(0, x.size, size=(count, x.size))].mean(axis=1)  # (count,)
    seeds, rows = x.shape
    u = rng.multinomial(seeds, np.full(seeds, 1 / seeds), size=count)  # (count, seeds): times each seed is drawn
    w = rng.multinomial(rows, np.full(rows, 1 / rows), size=count)  # (count, rows): times each row is drawn
    return np.einsum("bs,sr,br->b", u, x, w) / (seeds * rows)


def _side(interval, low: float, high: float) -> str:
    """HOLDS when the interval lies inside [low, high]; DOES_NOT_HOLD when wholly outside; else INCONCLUSIVE."""
    lo, hi = interval
    if low <= lo and hi <= high:
        return HOLDS
    if hi < low or lo > high:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


# --- comparisons ----------------------------------------------------------------------------------

def beats(a, b, *, margin: float = 0.0, claim: str, higher_is_better: bool = True,
          names: tuple[str, str] = ("a", "b"), seed: int = 0, n_boot: int = 10000) -> Verdict:
    """Does ``a`` beat ``b`` by more than ``margin``?

    Points: the difference (``a - b``, or ``b - a`` when lower is better) must exceed ``margin``; a
    tie at exactly the margin does not hold. Paired samples: the mean paired difference with its 95 %
    bootstrap interval; interval wholly above the margin holds, wholly below does not, else inconclusive.
    """
    margin = _finite("margin", margin)
    sa, sb = _paired(names, a, b)
    sign = 1.0 if higher_is_better else -1.0
    better = "higher" if higher_is_better else "lower"
    if sa is None:
        diff = sign * (float(a) - float(b))
        return Verdict(claim, HOLDS if diff > margin else DOES_NOT_HOLD,
                       f"{names[0]} {better} than {names[1]} by more than {margin:g}", diff,
                       values=((names[0], float(a)), (names[1], float(b))))
    d = sign * (sa - sb)
    ci = bootstrap_interval(d, seed=seed, n_boot=n_boot)
    outcome = HOLDS if ci[0] > margin else DOES_NOT_HOLD if ci[1] < margin else INCONCLUSIVE
    return Verdict(claim, outcome, f"95% CI of the mean paired difference ({better} is better) above margin "
                   f"{margin:g} holds, below it does not", float(d.mean()), ci, _n(d),
                   ((f"mean {names[0]}", float(sa.mean())), (f"mean {names[1]}", float(sb.mean()))), _rows(d))


def within(a, b, *, tolerance: float, claim: str, names: tuple[str, str] = ("a", "b"), seed: int = 0,
           n_boot: int = 10000) -> Verdict:
    """Are ``a`` and ``b`` equal to within ``tolerance``?

    Points: ``|a - b| <= tolerance``. Paired samples: the 95 % interval of the mean difference inside
    ``±tolerance`` holds, wholly outside does not, otherwise inconclusive.
    """
    tol = _tolerance("tolerance", tolerance)
    sa, sb = _paired(names, a, b)
    if sa is None:
        diff = float(a) - float(b)
        return Verdict(claim, HOLDS if abs(diff) <= tol else DOES_NOT_HOLD,
                       f"|{names[0]} - {names[1]}| <= {tol:g}", diff,
                       values=((names[0], float(a)), (names[1], float(b))))
    d = sa - sb
    ci = bootstrap_interval(d, seed=seed, n_boot=n_boot)
    return Verdict(claim, _side(ci, -tol, tol), f"95% CI of the mean difference {names[0]} - {names[1]} "
                   f"inside ±{tol:g} holds, wholly outside does not", float(d.mean()), ci, _n(d),
                   ((f"mean {names[0]}", float(sa.mean())), (f"mean {names[1]}", float(sb.mean()))), _rows(d))


def target_reached(reached, target: float, *, tolerance: float, claim: str, name: str = "reached",
                   seed: int = 0) -> Verdict:
    """Did a run reach ``target`` to within ``tolerance``? (:func:`within` against a fixed target.)"""
    return within(reached, target, tolerance=tolerance, claim=claim, names=(name, "target"), seed=seed)


def between(value, low: float, high: float, *, claim: str, name: str = "value", seed: int = 0) -> Verdict:
    """Is ``value`` inside ``[low, high]`` (both ends included)?

    Samples: the 95 % interval of their mean inside the range holds, wholly outside does not, else
    inconclusive.
    """
    low, high = _finite("low", low), _finite("high", high)
    if low > high:
        raise ValueError(f"low={low!r} > high={high!r}; allowed: low <= high")
    s = _samples(name, value)
    rng = (("low", low), ("high", high))
    if s is None:
        v = float(value)
        return Verdict(claim, HOLDS if low <= v <= high else DOES_NOT_HOLD, f"{low:g} <= {name} <= {high:g}",
                       v, values=((name, v),) + rng)
    ci = bootstrap_interval(s, seed=seed)
    return Verdict(claim, _side(ci, low, high), f"95% CI of mean {name} inside [{low:g}, {high:g}] holds, "
                   "wholly outside does not", float(s.mean()), ci, _n(s), rng, _rows(s))


def at_least(value, threshold: float, *, claim: str, strict: bool = False, partly_at: float | None = None,
             name: str = "value", seed: int = 0) -> Verdict:
    """Is ``value`` at least ``threshold`` (above it, with ``strict``)?

    ``partly_at`` (point values only): a lower threshold from which the claim ``partly holds``.
    Samples: the 95 % interval of their mean wholly at or above the threshold holds, wholly below it
    does not, otherwise inconclusive.
    """
    threshold = _finite("threshold", threshold)
    if partly_at is not None and _finite("partly_at", partly_at) > threshold:
        raise ValueError(f"partly_at={partly_at!r} > threshold={threshold!r}; allowed: partly_at <= threshold")
    op = ">" if strict else ">="
    s = _samples(name, value)
    if s is None:
        v = float(value)
        ok = v > threshold if strict else v >= threshold
        partly = partly_at is not None and not ok and (v > partly_at if strict else v >= partly_at)
        rule = f"{name} {op} {threshold:g}" + (f"; partly holds at {op} {partly_at:g}" if partly_at is not None else "")
        return Verdict(claim, HOLDS if ok else PARTLY if partly else DOES_NOT_HOLD, rule, v, values=((name, v),))
    ci = bootstrap_interval(s, seed=seed)
    ok = ci[0] > threshold if strict else ci[0] >= threshold
    fails = ci[1] <= threshold if strict else ci[1] < threshold
    return Verdict(claim, HOLDS if ok else DOES_NOT_HOLD if fails else INCONCLUSIVE,
                   f"95% CI of mean {name} wholly {op} {threshold:g} holds, wholly on the other side does not",
                   float(s.mean()), ci, _n(s), rows=_rows(s))


def at_most(value, threshold: float, *, claim: str, strict: bool = False, name: str = "value",
            seed: int = 0) -> Verdict:
    """Is ``value`` at most ``threshold`` (below it, with ``strict``)? Samples as in :func:`at_least`."""
    threshold = _finite("threshold", threshold)
    op = "<" if strict else "<="
    s = _samples(name, value)
    if s is None:
        v = float(value)
        ok = v < threshold if strict else v <= threshold
        return Verdict(claim, HOLDS if ok else DOES_NOT_HOLD, f"{name} {op} {threshold:g}", v, values=((name, v),))
    ci = bootstrap_interval(s, seed=seed)
    ok = ci[1] < threshold if strict else ci[1] <= threshold
    fails = ci[0] >= threshold if strict else ci[0] > threshold
    return Verdict(claim, HOLDS if ok else DOES_NOT_HOLD if fails else INCONCLUSIVE,
                   f"95% CI of mean {name} wholly {op} {threshold:g} holds, wholly on the other side does not",
                   float(s.mean()), ci, _n(s), rows=_rows(s))


def ratio_at_least(a, b, *, factor: float, claim: str, names: tuple[str, str] = ("a", "b"),
                   partly_at: float | None = None, seed: int = 0) -> Verdict:
    """Is ``a / b`` at least ``factor`` (e.g. a speedup: baseline time / candidate time >= 2)?

    ``b`` must be positive. Paired samples: the per-pair ratios, judged as in :func:`at_least`.
    """
    sa, sb = _paired(names, a, b)
    if (sb if sb is not None else np.array([float(b)])).min() <= 0:
        raise ValueError(f"{names[1]}={b!r}; allowed: positive numbers (it divides)")
    ratio = sa / sb if sa is not None else float(a) / float(b)
    v = at_least(ratio, factor, claim=claim, partly_at=partly_at, name=f"{names[0]} / {names[1]}", seed=seed)
    inputs = ((names[0], float(a)), (names[1], float(b))) if sa is None else \
        ((f"mean {names[0]}", float(sa.mean())), (f"mean {names[1]}", float(sb.mean())))
    return Verdict(claim, v.outcome, v.rule, v.estimate, v.interval, v.n, v.values + inputs, rows=v.rows)


def trend(values, *, direction: str = "increasing", strict: bool = False, tolerance: float = 0.0, claim: str,
          names: Sequence[str] | None = None) -> Verdict:
    """Does an ordered series move in ``direction`` ("increasing" or "decreasing")?

    Each step is the change to the next value, signed so that the direction counts positive. Not
    strict: every step must be >= -``tolerance`` (ties, and dips up to the tolerance, allowed).
    Strict: every step must be > ``tolerance``. The estimate is the smallest signed step.
    """
    if direction not in ("increasing", "decreasing"):
        raise ValueError(f"direction={direction!r}; allowed: 'increasing', 'decreasing'")
    tol = _tolerance("tolerance", tolerance)
    s = _samples("values", values)
    if s is None or s.ndim != 1 or s.size < 2:
        raise ValueError(f"values={values!r}; allowed: a sequence of at least 2 numbers")
    names = [str(i) for i in range(s.size)] if names is None else [str(n) for n in names]
    if len(names) != s.size:
        raise ValueError(f"{len(names)} names for {s.size} values; allowed: one name per value")
    steps = np.diff(s) * (1.0 if direction == "increasing" else -1.0)
    worst = float(steps.min())
    ok = worst > tol if strict else worst >= -tol
    rule = (f"every step {direction} by more than {tol:g}" if strict
            else f"every step {direction}, or flat, or against it by at most {tol:g}")
    return Verdict(claim, HOLDS if ok else DOES_NOT_HOLD, rule + f" ({' -> '.join(names)})", worst,
                   values=tuple(zip(names, map(float, s))))


def spread_larger(a, b, *, claim: str, names: tuple[str, str] = ("a", "b"), alpha: float = 0.05) -> Verdict:
    """Do the samples ``a`` vary more than the samples ``b`` (e.g. one method's scores over seeds)?

    The Brown-Forsythe test (Levene's test about the medians: robust to skewed samples, which a ratio of
    standard deviations is not) at level ``alpha``, two-sided: ``a``'s spread larger and the test
    significant holds; ``b``'s larger and significant does not hold; not significant is inconclusive.
    The estimate is the ratio of the standard deviations (``a`` over ``b``); each needs >= 3 samples.
    """
    from scipy import stats

    sa, sb = _samples(names[0], a), _samples(names[1], b)
    for name, x in zip(names, (sa, sb)):
        if x is None or x.ndim != 1 or x.size < 3:
            raise ValueError(f"{name}: {x!r}; allowed: a sequence of at least 3 numbers (the spread is tested)")
    if not 0 < _finite("alpha", alpha) < 1:
        raise ValueError(f"alpha={alpha!r}; allowed: 0 < alpha < 1")
    sd_a, sd_b = float(sa.std(ddof=1)), float(sb.std(ddof=1))
    p = 1.0 if np.ptp(sa) == 0 and np.ptp(sb) == 0 else float(stats.levene(sa, sb, center="median").pvalue)
    significant = p < alpha
    outcome = INCONCLUSIVE if not significant else HOLDS if sd_a > sd_b else DOES_NOT_HOLD
    ratio = sd_a / sd_b if sd_b > 0 else math.inf
    return Verdict(claim, outcome, f"Brown-Forsythe test p < {alpha:g} with {names[0]}'s spread larger holds, "
                   f"with {names[1]}'s larger does not, p >= {alpha:g} inconclusive",
                   ratio if math.isfinite(ratio) else None, None, min(sa.size, sb.size),
                   ((f"sd {names[0]}", sd_a), (f"sd {names[1]}", sd_b), ("p", p)))


def fact(observed: bool, *, claim: str, rule: str) -> Verdict:
    """A yes/no observation (e.g. identical tokens) as a verdict: holds when ``observed`` is true."""
    if not isinstance(observed, (bool, np.bool_)):
        raise TypeError(f"observed={observed!r} has type {type(observed).__name__}; allowed: a bool")
    return Verdict(claim, HOLDS if observed else DOES_NOT_HOLD, rule)


def not_measured(*, claim: str, why: str) -> Verdict:
    """An inconclusive verdict for a check this run skipped, saying why."""
    return Verdict(claim, INCONCLUSIVE, f"not measured: {why}")


def combine(verdicts: Sequence[Verdict], *, claim: str, required: Sequence[Verdict] = ()) -> Verdict:
    """One verdict from several checks.

    ``verdicts``: holds if all hold; partly holds if some hold, fully or in part; when none holds even in part,
    does not hold if one of them does not (a part of the claim is contradicted and no part is supported),
    inconclusive if all are inconclusive. ``required``: checks that gate the
    result: if one of them does not hold, the combination does not hold (inconclusive if it is
    inconclusive), whatever the others say. List a check in both to gate on it and count it.
    """
    verdicts, required = tuple(verdicts), tuple(required)
    if not verdicts:
        raise ValueError("verdicts is empty; allowed: at least one Verdict")
    for v in verdicts + required:
        if not isinstance(v, Verdict):
            raise TypeError(f"{v!r} has type {type(v).__name__}; allowed: Verdict")
    outcomes = [v.outcome for v in verdicts]
    k = outcomes.count(HOLDS)
    if k == len(outcomes):
        outcome = HOLDS
    elif k == 0 and PARTLY not in outcomes:  # no part supported, not even in part
        outcome = DOES_NOT_HOLD if DOES_NOT_HOLD in outcomes else INCONCLUSIVE
    else:
        outcome = PARTLY
    rule = (f"{k} of {len(outcomes)} checks hold (all: holds; some: partly; none: does not hold, or inconclusive "
            f"when none is contradicted)")
    gate = [v for v in required if not v.holds]
    if gate:
        outcome = INCONCLUSIVE if all(v.outcome == INCONCLUSIVE for v in gate) else DOES_NOT_HOLD
    if required:
        rule += f"; required to hold: {'; '.join(v.claim for v in required)} ({len(required) - len(gate)} do)"
    parts = verdicts + tuple(v for v in required if all(v is not u for u in verdicts))
    return Verdict(claim, outcome, rule, values=(("checks", float(len(outcomes))), ("holding", float(k))),
                   parts=parts)
