"""Pruned students end to end: teacher -> NASH or CoFi-T5 -> compacted, fine-tuned, saved, reloaded -> scored.

One call, :func:`student`, turns a cached :class:`~nashlib.experiments.teachers.Teacher` and a
:class:`~nashlib.pruning.prune.PruneConfig` into a finished student:

1. prune a copy of the teacher while distilling from it (``nashlib.pruning.prune``: L0 masks, constraints,
   KL on logits + MSE on hidden states), then compact it into a physically smaller model;
2. fine-tune the compacted model with cross-entropy + KL to the teacher (``finetune_steps``);
3. ``save_pretrained`` it with its tokenizer and load it back with ``AutoModelForSeq2SeqLM``: every
   score and timing is of the reloaded model, what a user would deploy;
4. score it on the validation rows the teacher was scored on, with the teacher's beam settings.

A student is a run folder (``nashlib.training.runs``) ``<root>/<task>-<teacher key>/<method>-<key>/`` (root:
``$NASH_RUN_DIR``, else ``build/runs``), keyed by the pruning configuration, the fine-tuning configuration
and the batch size. Its stages are cached too: ``pruned/`` (the compacted model and its report, a run of its
own) and the loops' checkpoints, so a killed student resumes; ``info.json`` (a :class:`StudentInfo`) is
written last.

A student trains with ``recipe.threads`` torch threads, whatever the caller's, so that it is the same model
on every re-run. :func:`prefetch` trains the students a notebook is about to ask for in ``workers`` processes
at once (one thread each on the cpu profile: a pruning step of these small models is bound by per-operation
overhead, so two one-thread processes train ~1.6x as many students per minute as one two-thread process);
:func:`student` then loads them from the cache.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from nashlib.data import tasks
from nashlib.env import REPO_ROOT, threads
from nashlib.experiments.generation import generate_texts, score
from nashlib.experiments.records import CurvePoint, PrunePoint, Sample, Scores, prune_trace, samples
from nashlib.experiments import teachers
from nashlib.experiments.teachers import Teacher
from nashlib.pruning.prune import PruneConfig, PruneReport, prune
from nashlib.settings import StudentRecipe
from nashlib.shapes import count_parameters
from nashlib.training.batches import batches
from nashlib.training.finetune import FinetuneConfig, finetune
from nashlib.training.runs import Identity, Record, Run, code_version, kernels, key

__all__ = ["Student", "StudentInfo", "student", "student_run", "run_dir", "finetune_config", "prefetch"]


@dataclass(frozen=True)
class StudentInfo(Record):
    """What a finished student's ``info.json`` holds."""

    prune: PruneConfig
    recipe: StudentRecipe
    teacher: str  # the teacher's folder
    report: PruneReport  # sparsities, layer maps, final loss terms of the pruning run
    scores: Scores  # on the teacher's validation rows, with the teacher's beams
    parameters: int  # of the compacted model, embeddings excluded
    teacher_parameters: int
    prune_seconds: float
    finetune_seconds: float
    eval_seconds: float
    prune_curve: list[PrunePoint]  # the whole pruning trace, one point per step (``nashlib.experiments.traces``)
    finetune_curve: list[CurvePoint]
    samples: list[Sample]
    predictions: list[str]  # one per validation row
    # fine-tuning until convergence (recipe.finetune_eval_every): the validation score at each evaluation (``loss``
    # holds it) and the fine-tuning step whose weights were kept (0: the last step; no evaluation)
    finetune_dev_curve: list[CurvePoint] = dataclasses.field(default_factory=list)
    finetune_best_step: int = 0


@dataclass
class Student:
    config: PruneConfig
    model: object  # the compacted model as reloaded by AutoModelForSeq2SeqLM.from_pretrained, eval mode
    tokenizer: object
    folder: Path
    info: StudentInfo

    @property
    def scores(self) -> Scores:
        return self.info.scores

    @property
    def report(self) -> PruneReport:
        return self.info.report


def run_dir(root: str | os.PathLike | None = None) -> Path:
    return Path(root or os.environ.get("NASH_RUN_DIR") or REPO_ROOT / "build" / "runs")


def finetune_config(cfg: PruneConfig, recipe: StudentRecipe) -> FinetuneConfig | None:
    """How the compacted model is fine-tuned (cross-entropy + KL to the teacher); None without fine-tuning."""
    if not recipe.finetune_steps:
        return None
    return FinetuneConfig(steps=recipe.finetune_steps, lr=recipe.finetune_lr, distill_weight=1.0, seed=cfg.seed,
                          checkpoint_every=max(1, recipe.finetune_steps // 4), eval_every=recipe.finetune_eval_every,
                          patience=recipe.finetune_patience)


def student_run(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, root: str | os.PathLike | None = None
                ) -> Run:
    """The run folder of a student: keyed by what makes it (pruning, fine-tuning, batch size, threads), under its
    teacher's."""
    tcfg = teacher.config
    made_by = key(cfg, finetune_config(cfg, recipe), recipe.batch, recipe.threads, code_version(), kernels())
    return Run(run_dir(root) / f"{tcfg.task}-{key(tcfg)}" / f"{cfg.method}-{made_by}")


def _pruned(teacher: Teacher, cfg: PruneConfig, data, run: Run, stop_after, progress):
    """The compacted model, its report and pruning history: from the ``pruned/`` stage, or pruned now."""
    stage = Run(run.folder / "pruned")
    if stage.finished:  # the pruning stage finished in an earlier call
        info = stage.info()
        return stage.load_model(), PruneReport.from_json(info["report"]), info["history"]
    result = prune(teacher.model, data, cfg, run.folder, progress=progress, stop_after=stop_after)
    if result is None:
        return None
    stage.save("model", result.model)
    stage.finish({"report": result.report, "history": result.history})
    return result.model, result.report, result.history


def _evaluate(teacher: Teacher, cfg, recipe, model, pruned, history, seconds, progress) -> StudentInfo:
    """Score the reloaded student on the teacher's validation rows: its :class:`StudentInfo`."""
    tcfg, (report, prune_history), (prune_s, train_s) = teacher.config, pruned, seconds
    t0 = time.perf_counter()
    valid = tcfg.rows("validation", tcfg.eval_examples)  # the teacher's rows
    preds = generate_texts(model, teacher.tokenizer, list(valid.dataset["source"]), max_source_len=tcfg.max_source_len,
                           max_new_tokens=tcfg.max_target_len, beams=tcfg.beams, progress=progress)
    return StudentInfo(
        prune=cfg, recipe=recipe, teacher=str(teacher.folder), report=report, scores=score(tcfg.task, preds, valid),
        parameters=count_parameters(model), teacher_parameters=count_parameters(teacher.model),
        prune_seconds=round(prune_s, 1), finetune_seconds=round(train_s - prune_s, 1),
        eval_seconds=round(time.perf_counter() - t0, 1),
        prune_curve=prune_trace(prune_history),
        finetune_curve=[CurvePoint(r["step"], r["loss"]) for r in history],
        finetune_dev_curve=[CurvePoint(r["step"], r["dev"]) for r in history if "dev" in r],
        finetune_best_step=_best_step(history),
        samples=samples(valid.dataset["source"], preds, valid.dataset["target"], 5), predictions=preds)


def _best_step(history: list[dict]) -> int:
    """The fine-tuning step whose weights were kept: the first best validation score (0 without evaluations)."""
    scored = [r for r in history if "dev" in r]
    return max(scored, key=lambda r: r["dev"])["step"] if scored else 0


def student(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, root: str | os.PathLike | None = None, *,
            progress: bool = True, stop_after: int | None = None) -> Student | None:
    """The finished student of ``teacher`` under ``cfg``: loaded from the cache, or pruned, tuned and scored.

    ``stop_after`` ends the call after that many pruning or fine-tuning steps (as a killed run would)
    and returns None; calling again resumes.
    """
    run = student_run(teacher, cfg, recipe, root)
    with run.lock():  # a second process asking for the same student waits, then loads it
        if run.finished:
            return Student(cfg, run.load_model(), teacher.tokenizer, run.folder, StudentInfo.from_json(run.info()))
        with threads(recipe.threads):
            return _train(teacher, cfg, recipe, run, progress, stop_after)


def _train_one(teacher_config, teacher_root: str, cfg: PruneConfig, recipe: StudentRecipe, root) -> str:
    """A worker process's job: load the cached teacher, train one student (then it is cached); its folder."""
    from nashlib.experiments.teachers import get_teacher

    teacher = get_teacher(teacher_config, teacher_root, progress=False)
    return str(student(teacher, cfg, recipe, root, progress=False).folder)


def prefetch(teacher: Teacher, configs: Iterable[PruneConfig], recipe: StudentRecipe, *, workers: int,
             root: str | os.PathLike | None = None) -> int:
    """Train the students of ``configs`` that are not cached yet, ``workers`` processes at a time.

    Returns how many were trained. With ``workers=1`` (or one missing student) they train here, one after
    the other. The results are the same either way (each trains with ``recipe.threads`` threads); a later
    :func:`student` call loads them.
    """
    todo, seen = [], set()
    for cfg in configs:
        run = student_run(teacher, cfg, recipe, root)
        if not run.finished and run.folder not in seen:
            seen.add(run.folder)
            todo.append(cfg)
    if workers <= 1 or len(todo) <= 1:
        for cfg in todo:
            student(teacher, cfg, recipe, root)
        return len(todo)
    teacher_root = str(teacher.folder.parent)
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited threads or locks
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
        jobs = [pool.submit(_train_one, teacher.config, teacher_root, cfg, recipe, root) for cfg in todo]
        for job in jobs:
            job.result()  # a worker's error is raised here, naming its cause
    return len(todo)


_ROWS: dict[str, tuple] = {}  # teacher folder -> (training rows, encoded): tokenised once per process


def _training_rows(teacher: Teacher):
    """The teacher task's training rows and their encoding with the teacher's tokenizer (memoised by folder)."""
    name = str(teacher.folder)
    if name not in _ROWS:
        tcfg = teacher.config
        train = tcfg.rows("train", tcfg.train_examples or None)
        _ROWS.clear()  # one teacher's rows at a time: a notebook works through its teachers in turn
        _ROWS[name] = train, tasks.encode(train, teacher.tokenizer, tcfg.max_source_len, tcfg.max_target_len)
    return _ROWS[name]


def _train(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, run: Run, progress: bool,
           stop_after: int | None) -> Student | None:
    tcfg, tokenizer, t0 = teacher.config, teacher.tokenizer, time.perf_counter()
    ft = finetune_config(cfg, recipe)
    train, encoded = _training_rows(teacher)
    identity = Identity.of({"teacher": tcfg, "prune": cfg, "finetune": ft, "recipe": recipe}, teacher=teacher.model,
                           data=[list(train.dataset["source"]), list(train.dataset["target"])])
    run.begin({"teacher": tcfg, "prune": cfg, "finetune": ft, "recipe": recipe}, identity=identity)
    data = batches(encoded, recipe.batch, cfg.seed, tokenizer.pad_token_id)
    pruned = _pruned(teacher, cfg, data, run, stop_after, progress)
    if pruned is None:
        return None
    model, report, prune_history = pruned
    prune_s, history = time.perf_counter() - t0, []
    if ft is not None:  # the fine-tuning batches continue the epoch order where pruning stopped
        evaluate = None
        if ft.eval_every:  # the paper keeps the best checkpoint on the validation rows it reports (CoFi's trainer)
            valid = tcfg.rows("validation", tcfg.eval_examples)
            evaluate = teachers.scorer(tcfg, tokenizer, valid)
        history = finetune(model, lambda step: data(cfg.steps + step), ft, run.folder, teacher=teacher.model,
                           evaluate=evaluate, stop_after=stop_after, progress=progress)
        if history is None:
            return None
    run.save("model", model.eval(), tokenizer)
    model = run.load_model()  # what is scored is what was saved
    info = _evaluate(teacher, cfg, recipe, model, (report, prune_history), history,
                     (prune_s, time.perf_counter() - t0), progress)
    info = StudentInfo.from_json(run.finish(info.to_json()))  # what a later call reads back
    return Student(cfg, model, tokenizer, run.folder, info)
