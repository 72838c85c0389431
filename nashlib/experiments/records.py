"""Typed records of what a finished teacher or student holds: scores, samples, training curves.

Each is a frozen dataclass stored as plain JSON through one pair, ``to_json`` / ``from_json``
(``nashlib.training.runs.Record``), so notebooks read ``s.scores.main`` rather than ``info["scores"]["score"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nashlib.training.runs import Record

__all__ = ["Scores", "Sample", "CurvePoint", "PrunePoint", "prune_trace", "samples"]


@dataclass(frozen=True)
class Scores(Record):
    """The paper's metric of a task (``main``) and every metric computed with it, by name (values in [0, 1])."""

    main: float
    metrics: dict[str, float]

    def to_json(self) -> dict:
        return {"score": self.main, **self.metrics}  # on disk as nashlib.data.metrics.compute returns it

    @classmethod
    def from_json(cls, data: dict) -> "Scores":
        return cls(main=data["score"], metrics={k: v for k, v in data.items() if k != "score"})


@dataclass(frozen=True)
class Sample(Record):
    source: str
    prediction: str
    target: str


def samples(sources, predictions, targets, n: int) -> list[Sample]:
    """The first ``n`` validation rows with what the model wrote, for a reader to look at."""
    return [Sample(s, p, t) for s, p, t in zip(list(sources)[:n], predictions[:n], list(targets)[:n])]


@dataclass(frozen=True)
class CurvePoint(Record):
    step: int
    loss: float


# the history keys a PrunePoint reads by name; every other number of a row is a loss term
_TRACE_KEYS = {"step", "loss", "target", "expected_sparsity", "deterministic_sparsity", "lambda_1", "lambda_2",
               "reg"}


@dataclass(frozen=True)
class PrunePoint(Record):
    """One pruning step of the sparsity constraint's controller (the trace a reader sees it work by)."""

    step: int
    loss: float  # the training objective without the constraints' penalties
    target: float  # the sparsity constraint's target at that step (warmed up linearly)
    expected_sparsity: float  # from the hard-concrete probabilities, before the step: what the Lagrangian steers
    deterministic_sparsity: float = float("nan")  # of the evaluation masks after the step: what compaction keeps
    lambda_1: float = 0.0  # the multipliers after the step
    lambda_2: float = 0.0
    reg: float = 0.0  # the constraints' penalty R
    terms: dict[str, float] = field(default_factory=dict)  # every other number of the row: kl, hidden_enc, ce...

    @classmethod
    def of(cls, row: dict) -> "PrunePoint":
        """The point of one history row of ``nashlib.pruning.prune``."""
        known = {k: row[k] for k in _TRACE_KEYS if k in row}
        return cls(**known, terms={k: float(v) for k, v in row.items() if k not in _TRACE_KEYS})


def prune_trace(history: list[dict]) -> list[PrunePoint]:
    return [PrunePoint.of(row) for row in history]
