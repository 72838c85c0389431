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

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from nashlib.data import tasks
from nashlib.env import REPO_ROOT
from nashlib.experiments.generation import generate_texts, score
from nashlib.experiments.records import CurvePoint, Sample, Scores, samples
from nashlib.settings import TeacherConfig
from nashlib.shapes import Shape, load, t5_config
from nashlib.training.batches import batches
from nashlib.training.finetune import FinetuneConfig, finetune
from nashlib.training.runs import Record, Run, key

__all__ = ["Teacher", "TeacherInfo", "get_teacher", "teacher_dir", "teacher_run", "train_tokenizer",
           "load_tokenizer"]


# --------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------

def train_tokenizer(texts: list[str], vocab_size: int):
    """A Unigram tokenizer (SentencePiece-style, like T5's) trained on ``texts``.

    ``<pad>`` is id 0, ``</s>`` id 1 (appended to every encoded text), ``<unk>`` id 2, as in T5.
    Line breaks are kept (dialogues are line-structured) as their own ``\\n`` pieces. The trainer is
    not bit-reproducible (pieces of near-equal score come out in another order from run to run), so a
    teacher saves its tokenizer before training and a resumed run reuses it.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(r"[ \t]*\r?\n[ \t]*"), "\n")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split("\n", "isolated"), pre_tokenizers.Metaspace()])
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    assert (fast.pad_token_id, fast.eos_token_id, fast.unk_token_id) == (0, 1, 2)
    return fast


def load_tokenizer(name_or_path: str):
    """``AutoTokenizer.from_pretrained`` with an error that says what to do offline."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as err:
        raise OSError(f"could not load the tokenizer of {name_or_path!r} from a folder or the Hugging Face hub "
                      f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). Without "
                      "internet, pass a folder written by save_pretrained (model and tokenizer), or use the "
                      "'cpu' profile, whose teachers are trained here from scratch.") from err


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
    return Run(teacher_dir(root) / f"{cfg.task}-{key(cfg)}")


def _load(cfg: TeacherConfig, run: Run) -> Teacher:
    info = TeacherInfo.from_json(run.info())
    return Teacher(cfg, run.load_model(), load_tokenizer(str(run.folder / "model")), run.folder, info)


def _scratch(cfg: TeacherConfig, run: Run, train: tasks.TaskData):
    """Tokenizer and randomly initialised T5 of a from-scratch teacher; the tokenizer is saved before training."""
    from transformers import T5ForConditionalGeneration

    if (run.folder / "tokenizer").exists():  # a resumed run reuses its vocabulary (training it is not reproducible)
        tokenizer = load_tokenizer(str(run.folder / "tokenizer"))
    else:
        tokenizer = train_tokenizer(list(train.dataset["source"]) + list(train.dataset["target"]), cfg.vocab_size)
        run.save("tokenizer", tokenizer)
    shape = Shape(cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff, cfg.encoder_layers, cfg.decoder_layers,
                  len(tokenizer))
    config = t5_config(shape)
    config.dropout_rate = cfg.dropout
    return tokenizer, T5ForConditionalGeneration(config)


def _evaluate(cfg: TeacherConfig, model, tokenizer, history: list[dict], splits, seconds, progress: bool):
    """Score the trained teacher on its validation rows: its :class:`TeacherInfo`."""
    train, valid = splits
    t0 = time.perf_counter()
    preds = generate_texts(model, tokenizer, list(valid.dataset["source"]), max_source_len=cfg.max_source_len,
                           max_new_tokens=cfg.max_target_len, beams=cfg.beams, progress=progress)
    return TeacherInfo(
        config=cfg, scores=score(cfg.task, preds, valid), train_seconds=round(seconds, 1),
        eval_seconds=round(time.perf_counter() - t0, 1), parameters=sum(p.numel() for p in model.parameters()),
        vocab=len(tokenizer), train=train.summary(), validation=valid.summary(),
        curve=[CurvePoint(h["step"], h["loss"]) for h in history],
        samples=samples(valid.dataset["source"], preds, valid.dataset["target"], 8), predictions=preds)


def get_teacher(cfg: TeacherConfig, root: str | os.PathLike | None = None, *, progress: bool = True,
                stop_after: int | None = None) -> Teacher | None:
    """The finished teacher of ``cfg``: loaded from the cache, or trained, scored and cached.

    ``stop_after`` ends training after that many steps of this call (as a killed run would) and returns
    None; calling again resumes. Loading needs ``import nashlib`` only; nothing is trained twice.
    """
    run = teacher_run(cfg, root)
    if run.finished:
        return _load(cfg, run)
    t0 = time.perf_counter()
    if cfg.init != "scratch":  # first, so that a missing model fails before any data is read or folder made
        tokenizer, model = load_tokenizer(cfg.init), load(cfg.init)
    train = tasks.load_task(cfg.task, "train", limit=cfg.train_examples or None)
    valid = tasks.load_task(cfg.task, "validation", limit=cfg.eval_examples)
    run.begin(cfg)
    torch.manual_seed(cfg.seed)  # the initial weights of a scratch model
    if cfg.init == "scratch":
        tokenizer, model = _scratch(cfg, run, train)
    encoded = tasks.encode(train, tokenizer, cfg.max_source_len, cfg.max_target_len)
    ft = FinetuneConfig(steps=cfg.steps, lr=cfg.lr, seed=cfg.seed, checkpoint_every=max(1, cfg.steps // 10),
                        warmup_steps=cfg.warmup_steps, schedule="linear", max_grad_norm=cfg.max_grad_norm)
    history = finetune(model, batches(encoded, cfg.batch, cfg.seed, tokenizer.pad_token_id), ft, run.folder,
                       stop_after=stop_after, progress=progress)
    if history is None:
        return None
    model = model.eval()
    info = _evaluate(cfg, model, tokenizer, history, (train, valid), time.perf_counter() - t0, progress)
    run.save("model", model, tokenizer)
    info = TeacherInfo.from_json(run.finish(info.to_json()))  # what a later call reads back
    return Teacher(cfg, model, tokenizer, run.folder, info)
