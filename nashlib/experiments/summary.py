"""One row per model for the pruning notebooks' tables, and the invariants every scored student must meet.

Every pruning notebook scores a teacher, sometimes a small dense model, and students of several
configurations, and puts them side by side. :func:`check_student` is the one place that says what a
scored student must be (the compacted model as reloaded from disk, scored on its teacher's rows, no
larger than its teacher, with the decoder depth its configuration asked for); :func:`student_row` and
:func:`dense_row` give the typed :class:`ModelRow` each table is built from, with *reached* sparsities
(what the compacted model kept, deterministic masks), never the targets alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from nashlib.arch import arch_of
from nashlib.data import tasks
from nashlib.experiments.records import Scores
from nashlib.experiments.students import Student
from nashlib.experiments.teachers import Teacher
from nashlib.pruning.structure import structure
from nashlib.shapes import count_parameters

__all__ = ["ModelRow", "check_student", "student_row", "dense_row", "frame", "nonempty_decoder_layers"]


@dataclass(frozen=True)
class ModelRow:
    task: str
    title: str
    metric: str
    model: str  # the notebook's label: "teacher", "NASH-3", "CoFi-T5", "uniform", ...
    quality: float  # the task's metric x 100, on the teacher's validation rows
    params_M: float  # millions of weights, token embeddings and LM head excluded (the paper's footnote 2)
    params_total_M: float  # millions of weights, everything
    target_sparsity: float | None  # what the pruning run aimed at (None: not pruned)
    encoder_sparsity: float | None  # reached, against the teacher's prunable encoder weights (None: not a pruned model)
    decoder_sparsity: float | None
    model_sparsity: float | None
    encoder_layers: int
    decoder_layers: int
    decoder_layers_nonempty: int  # decoder layers in which any head or FFN unit is left
    eval_rows: int
    seed: int | None = None  # the training seed of a model trained once per seed (None: trained once)
    missed: bool | None = None  # a pruned model whose reached sparsity ended outside its tolerance (None: dense)


def nonempty_decoder_layers(model) -> int:
    """Decoder layers in which anything (a head or an FFN unit) is left; a dense model's depth."""
    if getattr(model.config, "nash_layout", None) is None:
        return arch_of(model).depth("decoder")
    s = structure(model)
    dec = s[s.part == "decoder"]
    return int((dec.groupby("layer").kept.sum() > 0).sum())


def check_student(s: Student, teacher: Teacher, *, decoder_layers: int | None = None) -> Student:
    """Raise ``AssertionError`` (naming the student) unless ``s`` is what the notebooks may report; return it.

    The scored model is the compacted one as reloaded; it was scored on the teacher's validation rows;
    its score is a fraction; it has no more weights than its teacher (fewer when it dropped decoder
    layers); its decoder has ``decoder_layers`` layers when given.
    """
    name = f"{s.config.method} student in {s.folder.name}"
    assert s.model.config.model_type == "nash_t5", f"{name}: the scored model is not the compacted, reloaded one"
    assert len(s.info.predictions) == len(teacher.info.predictions), f"{name}: scored on other rows than its teacher"
    assert 0.0 <= s.scores.main <= 1.0, f"{name}: score {s.scores.main} outside [0, 1]"
    assert s.info.teacher_parameters == count_parameters(teacher.model), f"{name}: pruned from another teacher"
    assert s.info.parameters <= s.info.teacher_parameters, f"{name}: more weights than its teacher"
    for part in ("encoder", "decoder", "model"):
        reached = getattr(s.report, f"{part}_actual")
        assert 0.0 <= reached <= 1.0, f"{name}: {part} sparsity {reached} outside [0, 1]"
    if decoder_layers is not None:
        depth = arch_of(s.model).depth("decoder")
        assert depth == decoder_layers, f"{name}: {depth} decoder layers, asked for {decoder_layers}"
        if decoder_layers < arch_of(teacher.model).depth("decoder"):
            assert s.info.parameters < s.info.teacher_parameters, f"{name}: dropped layers but no weights"
    return s


def _row(label: str, model, scores: Scores, teacher: Teacher, seed: int | None = None, missed: bool | None = None,
         **sparsity) -> ModelRow:
    task, arch = tasks.get(teacher.config.task), arch_of(model)
    return ModelRow(task=task.name, title=task.title, metric=task.metric, model=label, quality=scores.main * 100,
                    params_M=count_parameters(model) / 1e6,
                    params_total_M=count_parameters(model, exclude_embeddings=False) / 1e6,
                    encoder_layers=arch.depth("encoder"), decoder_layers=arch.depth("decoder"),
                    decoder_layers_nonempty=nonempty_decoder_layers(model), eval_rows=len(teacher.info.predictions),
                    seed=seed, missed=missed, **sparsity)


def student_row(label: str, s: Student, teacher: Teacher) -> ModelRow:
    """The row of a checked student: its quality, size, and the sparsities it *reached*."""
    r = s.report
    return _row(label, s.model, s.scores, teacher, seed=s.config.seed, missed=r.missed,
                target_sparsity=s.config.target_sparsity, encoder_sparsity=r.encoder_actual,
                decoder_sparsity=r.decoder_actual, model_sparsity=r.model_actual)


def dense_row(label: str, model, scores: Scores, teacher: Teacher, *, seed: int | None = None) -> ModelRow:
    """The row of a dense model (the teacher itself: sparsity 0; another dense model: not pruned, None)."""
    zero = 0.0 if model is teacher.model else None
    return _row(label, model, scores, teacher, seed=seed, target_sparsity=None, encoder_sparsity=zero,
                decoder_sparsity=zero, model_sparsity=zero)


def frame(rows: list[ModelRow]) -> pd.DataFrame:
    """The rows as a table (None becomes NaN), in the order given."""
    return pd.DataFrame([dataclasses.asdict(r) for r in rows]).astype({"target_sparsity": float,
                                                                      "encoder_sparsity": float,
                                                                      "decoder_sparsity": float,
                                                                      "model_sparsity": float})
