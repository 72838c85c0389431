"""Typed records of what a finished teacher or student holds: scores, samples, training curves.

Each is a frozen dataclass stored as plain JSON through one pair, ``to_json`` / ``from_json``
(``nashlib.training.runs.Record``), so notebooks read ``s.scores.main`` rather than ``info["scores"]["score"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from nashlib.training.runs import Record

__all__ = ["Scores", "Sample", "CurvePoint", "PrunePoint", "samples"]


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


@dataclass(frozen=True)
class PrunePoint(Record):
    step: int
    loss: float  # the distillation loss (without the constraints' penalties)
    target: float  # the sparsity constraint's target at that step
    expected_sparsity: float
