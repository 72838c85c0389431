"""Teachers: one fine-tuned model per task, trained (or loaded) once, cached on disk, reused everywhere.

Every quality number in the paper is "a teacher fine-tuned on task X, then pruned, then scored with
metric M". A :class:`TeacherConfig` says which teacher:

- ``init="scratch"`` (the ``cpu`` and ``smoke`` profiles, offline): a T5 of small width with a decoder
  as deep as t5-base's (12 layers, so NASH-2/3/4 select layers as in the paper) and a Unigram
  vocabulary trained on the task's own training text. No pretrained weights exist offline, and a
  from-scratch model learns only some tasks in minutes on 2 cores: the profile's ``teachers``
  (``nashlib.settings``) name which.
- ``init=<hub name or folder>`` (``laptop``: ``t5-small``; ``paper``: ``t5-base``): ``from_pretrained``
  of the model and its tokenizer, fine-tuned on the paper's task with its Table 8/9 settings.

A teacher is a run folder (``nashlib.training.runs``) ``<root>/<task>-<key>/`` (root:
``$NASH_TEACHER_DIR``, else ``build/teachers``): ``model/`` (``save_pretrained`` of model and tokenizer)
and ``info.json`` (a :class:`TeacherInfo`: configuration, training curve, scores, seconds), written last.
A folder without ``info.json`` is unfinished: training resumes from its checkpoint
(:func:`nashlib.training.finetune.finetune`), so an interrupted run never passes for a finished one.

Trivial baselines and the usable-teacher rule are in ``nashlib.experiments.baselines``; generation and
scoring in ``nashlib.experiments.generation``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from nashlib.data import tasks
from nashlib.data.tokenizer import load_tokenizer, train_tokenizer
from nashlib.env import REPO_ROOT
from nashlib.experiments.generation import generate_texts, score
from nashlib.experiments.records import CurvePoint, Sample, Scores, samples
from nashlib.settings import TeacherConfig
from nashlib.shapes import Shape, load, t5_config
from nashlib.training.batches import batches
from nashlib.training.finetune import FinetuneConfig, finetune
from nashlib.training.runs import Identity, Record, Run, code_version, kernels, key

__all__ = ["Teacher", "TeacherInfo", "get_teacher", "teacher_dir", "teacher_run", "train_tokenizer", "scorer",
           "load_tokenizer"]


# --------------------------------------------------------------------------------------------
# The cached teacher
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TeacherInfo(Record):
    """What a finished teacher's ``info.json`` holds."""

    config: TeacherConfig
    scores: Scores  # on the validation rows below, with the configuration's beams
    train_seconds: float
    eval_seconds: float
    parameters: int
    vocab: int
    train: str  # where the training rows came from (nashlib.data.tasks.TaskData.summary)
    validation: str
    curve: list[CurvePoint]  # training loss per step
    dev: str  # the rows early stopping scored (held out of the training split), or "" without early stopping
    dev_curve: list[CurvePoint]  # the dev score (the task's main metric) at each evaluation; ``loss`` holds it
    best_step: int  # the step whose weights were kept (the last step without early stopping)
    samples: list[Sample]
    predictions: list[str]  # one per validation row


@dataclass
class Teacher:
    config: TeacherConfig
    model: object  # in eval mode
    tokenizer: object
    folder: Path
    info: TeacherInfo

    @property
    def scores(self) -> Scores:
        return self.info.scores


def teacher_dir(root: str | os.PathLike | None = None) -> Path:
    return Path(root or os.environ.get("NASH_TEACHER_DIR") or REPO_ROOT / "build" / "teachers")


def teacher_run(cfg: TeacherConfig, root: str | os.PathLike | None = None) -> Run:
    """The run folder of the teacher ``cfg``, named by its task and the key of every field."""
    return Run(teacher_dir(root) / f"{cfg.task}-{key(cfg, code_version(), kernels())}")  # code, kernels: what trains it


def _load(cfg: TeacherConfig, run: Run) -> Teacher:
    info = TeacherInfo.from_json(run.info())
    return Teacher(cfg, run.load_model(), load_tokenizer(str(run.folder / "model")), run.folder, info)


def _scratch(cfg: TeacherConfig, run: Run, train: tasks.TaskData):
    """Tokenizer and randomly initialised T5 of a from-scratch teacher; the tokenizer is saved before training."""
    from transformers import T5ForConditionalGeneration

    if (run.folder / "tokenizer").exists():  # a resumed run reuses its vocabulary (the same, and no retraining)
        tokenizer = load_tokenizer(str(run.folder / "tokenizer"))
    else:
        tokenizer = train_tokenizer(list(train.dataset["source"]) + list(train.dataset["target"]), cfg.vocab_size)
        run.save("tokenizer", tokenizer)
    shape = Shape(cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff, cfg.encoder_layers, cfg.decoder_layers,
                  len(tokenizer))
    config = t5_config(shape)
    config.dropout_rate = cfg.dropout
    return tokenizer, T5ForConditionalGeneration(config)


def scorer(cfg: TeacherConfig, tokenizer, data: tasks.TaskData, progress: bool = False):
    """``model -> the task's main metric on data``, generated as the teacher is scored (its beams and limits)."""
    def main_score(model) -> float:
        preds = generate_texts(model, tokenizer, list(data.dataset["source"]), max_source_len=cfg.max_source_len,
                               max_new_tokens=cfg.max_target_len, beams=cfg.beams, progress=progress)
        return score(cfg.task, preds, data).main
    return main_score


def _hold_out(cfg: TeacherConfig, train: tasks.TaskData) -> tuple[tasks.TaskData, tasks.TaskData | None]:
    """The training rows and the dev rows early stopping scores: the split's last ``dev_examples`` rows."""
    if not cfg.dev_examples:
        return train, None
    n = len(train) - cfg.dev_examples
    if n < cfg.batch:
        raise ValueError(f"TeacherConfig: dev_examples={cfg.dev_examples} leaves {n} of {len(train)} training rows "
                         f"of {cfg.task}; allowed: at most {len(train) - cfg.batch}")
    cut = lambda rows, what: dataclasses.replace(  # noqa: E731
        train, dataset=train.dataset.select(rows), derived=f"{train.derived + '; ' if train.derived else ''}{what}")
    return (cut(range(n), f"the last {cfg.dev_examples} rows held out as dev rows"),
            cut(range(n, len(train)), f"the training split's last {cfg.dev_examples} rows (dev)"))


def _evaluate(cfg: TeacherConfig, model, tokenizer, history: list[dict], splits, seconds, progress: bool):
    """Score the trained teacher on its validation rows: its :class:`TeacherInfo`."""
    train, dev, valid = splits
    t0 = time.perf_counter()
    preds = generate_texts(model, tokenizer, list(valid.dataset["source"]), max_source_len=cfg.max_source_len,
                           max_new_tokens=cfg.max_target_len, beams=cfg.beams, progress=progress)
    dev_curve = [CurvePoint(h["step"], h["dev"]) for h in history if "dev" in h]
    best = max(dev_curve, key=lambda c: c.loss).step if dev_curve else history[-1]["step"]  # the first best
    return TeacherInfo(
        config=cfg, scores=score(cfg.task, preds, valid), train_seconds=round(seconds, 1),
        eval_seconds=round(time.perf_counter() - t0, 1), parameters=sum(p.numel() for p in model.parameters()),
        vocab=len(tokenizer), train=train.summary(), validation=valid.summary(),
        curve=[CurvePoint(h["step"], h["loss"]) for h in history], dev=dev.summary() if dev else "",
        dev_curve=dev_curve, best_step=best,
        samples=samples(valid.dataset["source"], preds, valid.dataset["target"], 8), predictions=preds)


def get_teacher(cfg: TeacherConfig, root: str | os.PathLike | None = None, *, progress: bool = True,
                stop_after: int | None = None) -> Teacher | None:
    """The finished teacher of ``cfg``: loaded from the cache, or trained, scored and cached.

    ``stop_after`` ends training after that many steps of this call (as a killed run would) and returns
    None; calling again resumes. Loading needs ``import nashlib`` only; nothing is trained twice: a second
    process asking for the same teacher waits for the first (``Run.lock``) and loads its result.
    """
    run = teacher_run(cfg, root)
    if not run.finished and cfg.init != "scratch":
        load_tokenizer(cfg.init)  # a model that cannot be had fails here, before any lock file or folder
    with run.lock():
        if run.finished:
            return _load(cfg, run)
        return _train(cfg, run, progress, stop_after)


def _train(cfg: TeacherConfig, run: Run, progress: bool, stop_after: int | None) -> Teacher | None:
    t0 = time.perf_counter()
    if cfg.init != "scratch":  # first, so that a missing model fails before any data is read or folder made
        tokenizer, model = load_tokenizer(cfg.init), load(cfg.init)
    train, dev = _hold_out(cfg, cfg.rows("train", cfg.train_examples or None))
    valid = cfg.rows("validation", cfg.eval_examples)
    data = [list(train.dataset["source"]), list(train.dataset["target"])]  # the rows it learns from
    run.begin(cfg, identity=Identity.of(cfg, model=None if cfg.init == "scratch" else model, data=data))
    torch.manual_seed(cfg.seed)  # the initial weights of a scratch model
    if cfg.init == "scratch":
        tokenizer, model = _scratch(cfg, run, train)
    encoded = tasks.encode(train, tokenizer, cfg.max_source_len, cfg.max_target_len)
    ft = FinetuneConfig(steps=cfg.steps, lr=cfg.lr, seed=cfg.seed, checkpoint_every=max(1, cfg.steps // 10),
                        warmup_steps=cfg.warmup_steps, schedule="linear", max_grad_norm=cfg.max_grad_norm,
                        eval_every=cfg.eval_every, patience=cfg.patience)
    history = finetune(model, batches(encoded, cfg.batch, cfg.seed, tokenizer.pad_token_id), ft, run.folder,
                       evaluate=scorer(cfg, tokenizer, dev) if dev else None, stop_after=stop_after,
                       progress=progress)
    if history is None:
        return None
    model = model.eval()
    info = _evaluate(cfg, model, tokenizer, history, (train, dev, valid), time.perf_counter() - t0, progress)
    run.save("model", model, tokenizer)
    info = TeacherInfo.from_json(run.finish(info.to_json()))  # what a later call reads back
    return Teacher(cfg, model, tokenizer, run.folder, info)
