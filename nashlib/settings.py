"""Settings: one :class:`Profile` per run size, carrying everything that size decides, with one override channel.

A notebook's parameters cell names a profile (``PROFILE = "cpu"``) and may pass overrides
(``OVERRIDES = {"repeats": 3, "student.steps": 100}``); the runner passes the same dictionary from
``--set key=value`` or ``--settings file.yaml``. :func:`get` returns a frozen, validated :class:`Profile`
or raises an error that names the bad field or value and what is allowed. :func:`start` is a notebook's
first step (validate, resolve, check the device, seed, set threads).

What a profile decides:

- **timing** (flat fields: ``teacher_shape`` ... ``alloc_repeats``): shapes and the latency protocol of the
  speed notebooks (``nashlib.speed.timing``); trained students are timed with the same ``warmup`` and
  ``repeats``;
- **teachers** (:class:`TeacherConfig`, one per task): which tasks are trained and how; ``teacher_init``
  replaces every teacher's ``init`` (a local ``save_pretrained`` folder or a hub name), so every notebook
  fine-tunes the same local teacher;
- **student** (:class:`StudentRecipe`): how every pruning method prunes and fine-tunes, and the seeds;
  :meth:`Profile.recipe` gives a task's recipe: with ``per_task_recipes`` (``paper``) the task's row of the
  paper's Tables 8 / 9 (:data:`PAPER_RECIPES`, :func:`paper_student`), else ``student`` for every task;
- **behaviours**: ``device`` (``"cuda"`` is required, not preferred), ``writes_figures`` (only this profile's
  figures go into the committed ``figures/``), ``waive_teacher_rule`` (micro teachers exist to exercise the
  code, not to be good), ``teacher_margin`` (the usable-teacher rule), ``budget_minutes`` (what the runner
  warns about).

Profiles:

- ``smoke``: tiny shapes, seconds per notebook; used by the tests (nbval).
- ``cpu``: the default. Real t5-base / t5-small shapes on 2 CPU threads, offline; quality from small T5s
  trained from scratch here.
- ``laptop``: the same shapes on a laptop CPU, with smaller batches; quality on hub t5-small (needs internet).
- ``paper``: the paper's protocol (Appendix F: batch 32, beam 4) on a GPU; quality on hub t5-base.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass, fields

import torch

from nashlib.data import tasks
from nashlib import env
from nashlib.env import seed_everything, set_threads

__all__ = ["TeacherConfig", "StudentRecipe", "PaperRecipe", "PAPER_RECIPES", "PAPER_TASKS", "paper_student",
           "paper_teacher", "Profile", "PROFILES", "get", "names", "setting_names", "digest",
           "parse_assignment", "load_settings_file", "check_parameter", "start"]


# A field added to a recipe after figures were committed, whose default leaves every run as it was, is declared
# ``_added(default)``: settings.digest leaves it out while it holds its default, so adding it does not make the
# committed figures stale (a profile that sets it gets a new digest, as it should).
def _added(default):
    return dataclasses.field(default=default, metadata={"digest": "omit_default"})


SELECTS = ("at_target", "last")  # nashlib.pruning.prune.SELECTS (a test keeps the two equal)
_TYPE_NAMES = {int: "int", float: "float", str: "str", bool: "bool", dict: "dict"}


def check_parameter(name: str, value, expected, owner: str = "parameter"):
    """Raise ``TypeError`` unless ``value`` has type ``expected``; return the value.

    ``expected`` is a type or a ``tuple[int, ...]``-style annotation. A list is accepted for a
    tuple; an int for a float; a bool is never an int.
    This is what catches a wrongly typed value injected by papermill (``-p SEED abc``).
    """
    origin = typing.get_origin(expected)
    if origin is tuple:
        item = typing.get_args(expected)[0]
        ok = isinstance(value, (list, tuple)) and all(_is(v, item) for v in value)
        want = f"a list of {_TYPE_NAMES.get(item, item)}"
    else:
        ok = _is(value, expected)
        want = _TYPE_NAMES.get(expected, str(expected))
    if not ok:
        raise TypeError(f"{owner}: {name}={value!r} has type {type(value).__name__}; expected {want}")
    return value


def _is(value, typ) -> bool:
    if typ is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


def _check_types(obj, owner: str) -> None:
    """Every field of the dataclass ``obj`` against its annotation (nested dataclasses are checked by their own)."""
    for key, typ in typing.get_type_hints(type(obj)).items():
        if dataclasses.is_dataclass(typ) or typing.get_origin(typ) is tuple and \
                dataclasses.is_dataclass(typing.get_args(typ)[0]):
            continue
        check_parameter(key, getattr(obj, key), typ, owner=owner)


def _at_least(obj, owner: str, minimum: int, keys) -> None:
    for key in keys:
        if getattr(obj, key) < minimum:
            raise ValueError(f"{owner}: {key}={getattr(obj, key)!r}; allowed: an integer >= {minimum}")


# --------------------------------------------------------------------------------------------
# Teachers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TeacherConfig:
    task: str  # a task of nashlib.data.tasks
    init: str = "scratch"  # "scratch", or a from_pretrained name or folder (t5-small, t5-base, a path)
    d_model: int = 256  # scratch: hidden size
    d_kv: int = 32  # scratch: size of one attention head
    num_heads: int = 8  # scratch: heads per attention block
    d_ff: int = 1024  # scratch: FFN units per layer
    encoder_layers: int = 4  # scratch: encoder depth
    decoder_layers: int = 12  # scratch: decoder depth (t5-base's 12, so NASH-2/3/4 select as in the paper)
    vocab_size: int = 8000  # scratch: Unigram vocabulary trained on the task's training text
    train_examples: int = 0  # training rows used (0: the whole split)
    eval_examples: int = 500  # validation rows scored
    max_source_len: int = 128  # source tokens (truncated)
    max_target_len: int = 32  # target tokens (truncated); also the generation limit
    batch: int = 32  # sequences per optimizer step
    steps: int = 2000  # optimizer steps
    lr: float = 1e-3  # AdamW peak learning rate (linear warm-up, then linear decay to 0)
    warmup_steps: int = 100  # warm-up steps of the learning rate
    beams: int = 4  # beam size when scoring (summarisation: 4, as in the paper)
    seed: int = 0  # seeds the initial weights, the batch order and dropout
    dropout: float = 0.1  # scratch: T5's dropout rate (its default, 0.1)
    max_grad_norm: float = 0.0  # clip the gradients' global norm to this while training (0: no clipping)
    eval_every: int = 0  # early stopping: score the held-out dev rows every this many steps (0: train all steps)
    patience: int = 0  # early stopping: stop after this many dev scores without a new best (the best is kept)
    dev_examples: int = 0  # early stopping: training rows held out (the split's last) as dev rows
    # where the rows come from (nashlib.data.tasks.load_task): "local" (the staged files; the offline profiles),
    # "auto" (the hub's real splits when it answers, the local files offline) or "hub"
    source: str = _added("local")

    def __post_init__(self):
        for key, typ in typing.get_type_hints(TeacherConfig).items():
            check_parameter(key, getattr(self, key), typ, owner="TeacherConfig")
        tasks.get(self.task)  # an unknown task lists the known ones
        if self.source not in tasks.SOURCES:
            raise ValueError(f"TeacherConfig: source={self.source!r}; allowed: {', '.join(map(repr, tasks.SOURCES))}")
        for key in ("d_model", "d_kv", "num_heads", "d_ff", "encoder_layers", "decoder_layers", "eval_examples",
                    "max_source_len", "max_target_len", "batch", "steps", "beams"):
            if getattr(self, key) < 1:
                raise ValueError(f"TeacherConfig: {key}={getattr(self, key)!r}; allowed: an integer >= 1")
        for key in ("train_examples", "warmup_steps"):
            if getattr(self, key) < 0:
                raise ValueError(f"TeacherConfig: {key}={getattr(self, key)!r}; allowed: an integer >= 0")
        if self.vocab_size < 16:
            raise ValueError(f"TeacherConfig: vocab_size={self.vocab_size!r}; allowed: an integer >= 16")
        if not self.lr > 0:
            raise ValueError(f"TeacherConfig: lr={self.lr!r}; allowed: a number > 0")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"TeacherConfig: dropout={self.dropout!r}; allowed: 0 <= dropout < 1")
        stopping = (self.eval_every, self.patience, self.dev_examples)
        if any(stopping) and not (all(v >= 1 for v in stopping) and self.eval_every <= self.steps):
            raise ValueError(f"TeacherConfig: eval_every={self.eval_every}, patience={self.patience}, dev_examples="
                             f"{self.dev_examples}; allowed: all three 0 (no early stopping), or all >= 1 with "
                             f"eval_every <= steps")
        if self.max_grad_norm < 0:
            raise ValueError(f"TeacherConfig: max_grad_norm={self.max_grad_norm!r}; allowed: a number >= 0")

    def rows(self, split: str, limit: int | None = None) -> tasks.TaskData:
        """``split`` of this teacher's task from :attr:`source` (its first ``limit`` rows); every caller that
        trains or scores on the teacher's task reads it here, so all of them read the same rows."""
        return tasks.load_task(self.task, split, source=self.source, limit=limit)


# --------------------------------------------------------------------------------------------
# The paper's settings per task (Appendix D, Tables 8 and 9), as data
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaperRecipe:
    """One group of the paper's Tables 8 (NLG) and 9 (NLU): how every task of the group is pruned and fine-tuned.
    AdamW at 3e-5, reg lr 0.01 and lambda_enc = lambda_dec = 0.001 (PruneConfig's defaults) are common to all."""

    epochs: int  # pruning epochs ("training epochs")
    warmup_epochs: int  # epochs over which the target sparsity rises to its value
    finetune_epochs: int  # fine-tuning epochs after pruning (at most: the best validation checkpoint is kept)
    eval_every: int  # "evaluation steps": validation every this many steps
    batch: int  # samples per update
    max_source_len: int  # "max input length"
    max_target_len: int  # "max target length" (to be generated)
    lr: float = 3e-5
    reg_lr: float = 0.01


PAPER_RECIPES: dict[str, PaperRecipe] = {
    "nlg_small": PaperRecipe(20, 16, 20, 1000, 4, 512, 128),  # TweetQA, SAMSum
    "nlg_large": PaperRecipe(3, 2, 3, 1000, 4, 512, 128),  # XSum, CNN/DailyMail
    "nlu_small": PaperRecipe(150, 120, 20, 20, 32, 128, 5),  # fewer than 1,000 training rows: CB, COPA
    "nlu_middle": PaperRecipe(100, 80, 20, 50, 32, 128, 5),  # 1,000 to 10,000: MRPC, RTE, STS-B, CoLA, WiC, BoolQ
    "nlu_high": PaperRecipe(20, 16, 20, 500, 32, 128, 5),  # more than 10,000: MNLI, QQP, QNLI, SST-2
}
# task -> (its group in Appendix D, the training rows of the split the paper used: the official train splits;
# Dolly: its 15,011 rows less the 1k Gu et al. hold out, on Table 8's small-NLG recipe, as the paper gives none)
PAPER_TASKS: dict[str, tuple[str, int]] = {
    "samsum": ("nlg_small", 14_732), "tweetqa": ("nlg_small", 10_692), "dolly": ("nlg_small", 14_011),
    "xsum": ("nlg_large", 204_045), "cnn_dailymail": ("nlg_large", 287_113),
    "cb": ("nlu_small", 250), "copa": ("nlu_small", 400),
    "mrpc": ("nlu_middle", 3_668), "rte": ("nlu_middle", 2_490), "stsb": ("nlu_middle", 5_749),
    "cola": ("nlu_middle", 8_551), "wic": ("nlu_middle", 5_428), "boolq": ("nlu_middle", 9_427),
    "qnli": ("nlu_high", 104_743), "sst2": ("nlu_high", 67_349),
}
PAPER_PATIENCE = 10  # ours (the paper trains every fine-tuning epoch): stop after 10 evaluations without a new best


def paper_teacher(task: str, eval_examples: int, **changes) -> TeacherConfig:
    """The paper profile's teacher of ``task``: T5-base fine-tuned densely on the task's training split as its
    students are after pruning (``task``'s row of Tables 8 / 9: the fine-tuning epochs turned into steps, batch,
    learning rate, input and target lengths; no warm-up, AdamW). The paper gives no teacher recipe of its own.
    Generation tasks are scored with beam 4, NLU answers (at most 5 tokens) greedily; ``changes`` replace fields.
    Where its rows come from is the profile's to say (the paper profile: :func:`_online`)."""
    if task not in PAPER_TASKS:
        raise ValueError(f"task {task!r} has no row in the paper's Tables 8 / 9; allowed: {', '.join(PAPER_TASKS)}")
    group, rows = PAPER_TASKS[task]
    r = PAPER_RECIPES[group]
    steps = r.finetune_epochs * -(-rows // r.batch)
    cfg = TeacherConfig(task, init="t5-base", eval_examples=eval_examples, max_source_len=r.max_source_len,
                        max_target_len=r.max_target_len, batch=r.batch, steps=steps, lr=r.lr, warmup_steps=0,
                        beams=4 if group.startswith("nlg") else 1)
    return dataclasses.replace(cfg, **changes)


_SCRATCH_CPU = dict(d_model=128, d_kv=32, num_heads=4, d_ff=512, vocab_size=4000)  # see below
_STOPPING_CPU = dict(eval_every=250, patience=3, dev_examples=500)  # early stopping on 500 held-out training rows
_SCRATCH_TINY = dict(d_model=32, d_kv=8, num_heads=4, d_ff=64, encoder_layers=2, decoder_layers=4, vocab_size=400,
                     train_examples=256, eval_examples=16, batch=8, steps=8, warmup_steps=2)

# cpu teachers: 4 + 12 layers (a decoder as deep as t5-base's), d_model 128, 4 heads of 32, 512 FFN units, a
# 4000-piece Unigram vocabulary: 4.5 M weights. Measured here (2 cores, batch 32, lr 1e-3, all dev rows, greedy):
# SST-2 73.9 % after 1500 steps (3.5 min); SST-2 frequent words ROUGE-L 79.3 after 2000 steps (about 5 min).
# The earlier d_model 256 teachers (8 heads, 1024 units, 8k vocabulary, 18 M weights) scored 72.4 % and 74.2 in
# 9.4 and 13.8 minutes, and a NASH pruning step cost ~0.6 s against 0.125 s now (CoFi-T5: 0.21 s): at 500 steps a
# cpu student takes about 80 s (CoFi-T5 about 2 min), which is what lets every notebook fit the 2-hour budget.
# Which tasks: those a from-scratch model learns on 2 cores, chosen by measurement with the earlier d_model 256
# teachers (4 + 12 layers, 8k Unigram vocabulary, batch 32, lr 1e-3; ROUGE-L on 300 dev rows, greedy):
# - sst2_frequent (derived: an SST-2 sentence's frequent words, each once, alphabetical) is the generation task.
#   With the 1602 words in at least 40 training phrases, dropout 0 and clipping at 1.0, ROUGE-L rose
#   36.1 / 48.1 / 54.1 / 61.3 at 500 / 1000 / 1500 / 2000 steps (16 minutes), but its best trivial baseline
#   (the sentence's words, each once, sorted) scores 49.9 on all 872 dev rows: a margin too thin to trust, so
#   the cpu task keeps the 534 words in at least 100 phrases (baseline 37.5; that teacher: 74.2, 872 rows).
# - The derived samsum_turns task (a speaker's first two turns of a SAMSum dialogue) stayed below its trivial
#   baselines after 300 and 1000 steps at d_model 256 (1.7 s a step) and 128.
# - sst2_content (content words of an SST-2 sentence, in order; copy baseline ROUGE-L 71.6): ROUGE-L 13 after
#   900 steps (dropout 0.1), 9 after 300 steps without dropout and with clipping, and 28.0 after 3000 steps
#   (dropout 0, clip 1.0, 39 minutes): it learns which words to write, not their order.
# laptop / paper: the paper's tasks on pretrained T5 (Tables 8 and 9: AdamW 3e-5; NLG batch 4, 20 epochs on
# SAMSum/TweetQA; NLU batch 32; max lengths 512/128 and 128/5).
def _online(*teachers: TeacherConfig) -> tuple[TeacherConfig, ...]:
    """The laptop / paper teachers read the hub's real splits when it answers, the staged files offline."""
    return tuple(dataclasses.replace(t, source="auto") for t in teachers)


_TEACHERS: dict[str, tuple[TeacherConfig, ...]] = {  # per profile, one per task
    "smoke": (
        TeacherConfig("sst2", **_SCRATCH_TINY, max_source_len=32, max_target_len=4, beams=1),
        TeacherConfig("sst2_frequent", **_SCRATCH_TINY, max_source_len=32, max_target_len=8,
                      beams=2, eval_every=4, patience=1, dev_examples=16),  # early stopping exercised
    ),
    "cpu": (  # until the dev score stops improving (at most 3000 / 4000 steps: 1.4 / 1.9 epochs at batch 32)
        TeacherConfig("sst2", **_SCRATCH_CPU, eval_examples=872, max_source_len=64, max_target_len=4, batch=32,
                      steps=3000, lr=1e-3, warmup_steps=100, beams=1, **_STOPPING_CPU),
        TeacherConfig("sst2_frequent", **_SCRATCH_CPU, eval_examples=872, max_source_len=64, max_target_len=16,
                      batch=32, steps=4000, lr=1e-3, warmup_steps=100, beams=1, dropout=0.0,
                      max_grad_norm=1.0, **_STOPPING_CPU),
        # the paper's generation tasks, tried at a fixed short budget and reported (they are not pruned here)
        TeacherConfig("samsum", **_SCRATCH_CPU, eval_examples=200, max_source_len=192, max_target_len=48,
                      batch=16, steps=300, lr=1e-3, warmup_steps=30, beams=1, max_grad_norm=1.0),
        TeacherConfig("tweetqa", **_SCRATCH_CPU, eval_examples=300, max_source_len=96, max_target_len=16,
                      batch=16, steps=300, lr=1e-3, warmup_steps=30, beams=1, max_grad_norm=1.0),
    ),
    "laptop": _online(
        TeacherConfig("samsum", init="t5-small", eval_examples=200, max_source_len=512,
                      max_target_len=128, batch=8, steps=3000, lr=3e-4, warmup_steps=100),
        TeacherConfig("tweetqa", init="t5-small", eval_examples=300, max_source_len=256,
                      max_target_len=32, batch=16, steps=2000, lr=3e-4, warmup_steps=100),
        TeacherConfig("rte", init="t5-small", eval_examples=277, max_source_len=128, max_target_len=5,
                             batch=32, steps=1000, lr=3e-4, warmup_steps=50, beams=1),
        TeacherConfig("cb", init="t5-small", eval_examples=56, max_source_len=128, max_target_len=5,
                            batch=32, steps=300, lr=3e-4, warmup_steps=20, beams=1),
        # Table 2 only (not in pruning_tasks): instruction tuning, 256-token prompts and answers as Gu et al.
        TeacherConfig("dolly", init="t5-small", eval_examples=200, max_source_len=256, max_target_len=256,
                      batch=8, steps=3000, lr=3e-4, warmup_steps=100),
    ),
    # every task any notebook uses at paper scale (Table 1's four, Table 3's and Table 4's NLU columns, Table 11's
    # ten, Table 2's Dolly), scored on their validation splits: all of SAMSum's 818 and TweetQA's 1086 rows and
    # of the GLUE / SuperGLUE dev sets, the first 1000 articles of XSum's and CNN/DailyMail's (beam 4 over 11-13k
    # articles is hours per model), Gu et al.'s 1k Dolly rows held out; Dolly's answers 256 tokens as Gu et al.'s
    "paper": _online(*(paper_teacher(task, n) for task, n in (
        ("samsum", 818), ("tweetqa", 1086), ("xsum", 1000), ("cnn_dailymail", 1000),
        ("rte", 277), ("boolq", 3270), ("cb", 56), ("cola", 1043), ("sst2", 872), ("mrpc", 408), ("stsb", 1500),
        ("qnli", 5463), ("wic", 638), ("copa", 100))), paper_teacher("dolly", 1000, max_target_len=256)),
}


# --------------------------------------------------------------------------------------------
# Students
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StudentRecipe:
    """How a profile prunes: the same schedule for every method, so that comparisons are fair."""

    steps: int  # pruning steps (L0 masks + distillation)
    warmup_steps: int  # steps over which the target sparsity rises linearly from 0 (the paper: 16 of 20 epochs, 80 %)
    finetune_steps: int  # steps of cross-entropy + KL fine-tuning of the compacted model (0: none)
    lr: float  # AdamW learning rate of the weights while pruning
    finetune_lr: float  # AdamW learning rate while fine-tuning the compacted model
    mask_lr: float  # learning rate of the masks' log_alpha
    reg_lr: float  # learning rate of the Lagrange multipliers
    batch: int  # sequences per step
    timing_batch: int  # sequences per timed generate() call of a trained model (warm-up and rounds: the profile's)
    seeds: tuple[int, ...]  # Figure 8: seeds of the repeated runs (the paper: 20)
    high_sparsity: float  # Figure 8: CoFi-T5's high target sparsity (the paper: 0.9)
    paired_seeds: tuple[int, ...] = (0,)  # every other comparison: each model trained once per seed, paired by seed
    threads: int = 0  # torch threads while a student trains (0: the profile's); fixed, so re-runs are bit-identical
    select: str = "at_target"  # PruneConfig.select of every student: "at_target" (latest on-target step) | "last"
    # fine-tuning until convergence (the paper: evaluate every N steps, keep the best validation checkpoint): score
    # the student on the validation rows every this many fine-tuning steps, stop after finetune_patience scores
    # without a new best or at finetune_steps, keep the best (0, 0: a fixed finetune_steps, the best not chosen)
    finetune_eval_every: int = _added(0)
    finetune_patience: int = _added(0)

    def __post_init__(self):
        for key, typ in typing.get_type_hints(StudentRecipe).items():
            check_parameter(key, getattr(self, key), typ, owner="StudentRecipe")
        for key in ("steps", "batch", "timing_batch"):
            if getattr(self, key) < 1:
                raise ValueError(f"StudentRecipe: {key}={getattr(self, key)!r}; allowed: an integer >= 1")
        for key in ("warmup_steps", "finetune_steps", "threads"):
            if getattr(self, key) < 0:
                raise ValueError(f"StudentRecipe: {key}={getattr(self, key)!r}; allowed: an integer >= 0")
        for key in ("seeds", "paired_seeds"):
            values = getattr(self, key)
            if not values or min(values) < 0 or len(set(values)) != len(values):
                raise ValueError(f"StudentRecipe: {key}={values!r}; allowed: a non-empty list of distinct "
                                 "integers >= 0")
        if not 0 < self.high_sparsity < 1:
            raise ValueError(f"StudentRecipe: high_sparsity={self.high_sparsity!r}; allowed: 0 < s < 1")
        if self.select not in SELECTS:
            raise ValueError(f"StudentRecipe: select={self.select!r}; allowed: {', '.join(map(repr, SELECTS))}")
        every, patience = self.finetune_eval_every, self.finetune_patience  # checked together below
        if (every or patience) and not (every >= 1 and patience >= 1 and every <= self.finetune_steps):
            raise ValueError(f"StudentRecipe: finetune_eval_every={every}, finetune_patience={patience}; allowed: "
                             f"both 0 (fine-tune all finetune_steps), or both >= 1 with finetune_eval_every <= "
                             f"finetune_steps ({self.finetune_steps})")


    def describe(self) -> str:
        """The schedule in words, for a notebook's header: steps, warm-up, fine-tuning and how it ends."""
        tune = f"{self.finetune_steps} fine-tuning steps"
        if self.finetune_eval_every:
            tune = (f"at most {tune} (validation every {self.finetune_eval_every}, the best kept, patience "
                    f"{self.finetune_patience})")
        return f"{self.steps} pruning steps (target warm-up {self.warmup_steps}), {tune}, batch {self.batch}"

# Every recipe warms the target up over 80 % of the pruning steps (the paper: 16 of 20 epochs, Tables 8-9) and
# keeps the latest step whose deterministic sparsity is on target (select="at_target", nashlib.pruning.prune).
# cpu: measured on the cpu generation teacher (sst2_frequent, NASH-3 at encoder target 0.3, batch 16, reg_lr 0.01,
# the paper's): the controller (l1 (s - t) + l2 (s - t)^2, Adam on the multipliers) swings l1 from about +1 to
# -3 and back with a period of several hundred steps, so the last step lands wherever the cycle is. Last step,
# seed 0: 500 steps (mask_lr 0.05) 0.355, (mask_lr 0.1) 0.396, (0.2) 0.346; 1000 steps (0.05) 0.322, (0.2) 0.296,
# (0.5) 0.286; 2000 steps (0.05) 0.320; reg_lr 0.05 (mask_lr 0.25), 600 or 1000 steps: 0.288, 0.290; a mask lr
# decaying to 0 after the warm-up froze the cycle at 0.287. The cycle crosses the target after the warm-up,
# and "at_target" keeps the step closest to it: with this recipe (500 steps, warm-up 400, batch 16, mask_lr
# 0.05, one thread) seeds 0-9 reached 0.2998, 0.2998, 0.3001, 0.3079, 0.3037, 0.3001, 0.3001, 0.3001, 0.3005,
# 0.2998 (10 of 10 within 0.01; kept steps 466-491). On build_t5("tiny") with random batches
# (tests/test_controller.py) the same recipe reaches the target for 10 of 10 seeds.
# Cost: a pruning step of the 4.5 M-weight cpu teachers at batch 16 is 0.13 s on one thread (NASH-3; CoFi-T5
# 0.20 s); two one-thread workers train ~1.6x as many students per minute as one two-thread process (the step is
# bound by per-operation overhead), so a NASH student takes ~40 s of wall time and a CoFi-T5 student ~60 s.
# Seeds: 5 paired seeds for every comparison, 20 for Figure 8 (the paper's count), on one pruning task
# (Profile.pruning_tasks): about 150 students, ~85 minutes of the 2-hour budget (README: measured times).
_STUDENTS: dict[str, StudentRecipe] = {
    "smoke": StudentRecipe(steps=6, warmup_steps=5, finetune_steps=2, lr=1e-3, finetune_lr=1e-3, mask_lr=0.1,
                           reg_lr=0.1, batch=8, timing_batch=2, seeds=(0, 1, 2), high_sparsity=0.9,
                           paired_seeds=(0, 1), threads=1),
    "cpu": StudentRecipe(steps=500, warmup_steps=400, finetune_steps=50, lr=3e-4, finetune_lr=3e-4, mask_lr=0.05,
                         reg_lr=0.01, batch=16, timing_batch=8, seeds=tuple(range(20)), high_sparsity=0.9,
                         paired_seeds=(0, 1, 2, 3, 4), threads=1),
    "laptop": StudentRecipe(steps=1500, warmup_steps=1200, finetune_steps=500, lr=3e-5, finetune_lr=3e-5,
                            mask_lr=0.01, reg_lr=0.01, batch=8, timing_batch=4, seeds=(0, 1, 2, 3, 4),
                            high_sparsity=0.9, paired_seeds=(0, 1, 2, 3, 4)),
    # the paper: 20 epochs of pruning on SAMSum/TweetQA at batch 4, target warm-up over 16 of them (Tables 8-9),
    # 20 seeds for Figure 8 (Appendix A, D)
    "paper": StudentRecipe(steps=73_660, warmup_steps=58_928, finetune_steps=7_366, lr=3e-5, finetune_lr=3e-5,
                           mask_lr=0.01, reg_lr=0.01, batch=4, timing_batch=32,
                           seeds=tuple(range(20)), high_sparsity=0.9, paired_seeds=(0, 1, 2, 3, 4)),
}


def paper_student(task: str, base: StudentRecipe) -> StudentRecipe:
    """``base`` with the steps, warm-up, batch, learning rates and evaluation of ``task``'s row of Tables 8 / 9
    (epochs turned into steps over the task's training rows); seeds, timing and the rest stay ``base``'s."""
    if task not in PAPER_TASKS:
        raise ValueError(f"task {task!r} has no row in the paper's Tables 8 / 9; allowed: {', '.join(PAPER_TASKS)}")
    group, rows = PAPER_TASKS[task]
    r = PAPER_RECIPES[group]
    per_epoch = -(-rows // r.batch)  # updates per epoch (the last batch may be short)
    finetune = r.finetune_epochs * per_epoch
    return dataclasses.replace(base, steps=r.epochs * per_epoch, warmup_steps=r.warmup_epochs * per_epoch,
                               finetune_steps=finetune, lr=r.lr, finetune_lr=r.lr, reg_lr=r.reg_lr, batch=r.batch,
                               finetune_eval_every=min(r.eval_every, finetune), finetune_patience=PAPER_PATIENCE)


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    name: str  # the profile's name
    description: str  # one line for the README and run info
    device: str  # "cpu" or "cuda"
    threads: int  # torch intra-op threads; 0 leaves torch's default
    # --- generation latency (Figure 2 / Table 1 speed columns) -------------------------------
    teacher_shape: str  # the unpruned model whose latency is 1.00x
    small_shape: str  # the dense small baseline (T5-Small in the paper)
    warmup: int  # untimed runs of each configuration before timing
    repeats: int  # timed runs of each configuration (interleaved across configurations)
    batch: int  # sequences per generate() call
    beams: int  # beam size (the paper: 4)
    src_len: int  # source tokens per sequence
    new_tokens: int  # generated tokens per sequence, forced (random weights must not stop early)
    decoder_depths: tuple[int, ...]  # decoder depths timed against the teacher
    encoder_sparsity: float  # sparsity of the narrow (NASH-like) encoder, the paper's 0.3
    # --- one Transformer layer against sequence length (Figure 3) ----------------------------
    seq_lens: tuple[int, ...]  # sequence lengths of the layer input
    layer_heads: tuple[int, ...]  # attention-head counts compared
    layer_d_ff: tuple[int, ...]  # FFN widths compared
    layer_batch: int  # batch of the layer input
    memory_len: int  # encoder length the decoder layer cross-attends to
    min_sample_s: float  # a timed sample loops the layer until it lasts at least this long
    # --- component profile (Figure 4) --------------------------------------------------------
    profile_repeats: int  # profiled generate() calls per decoding mode
    # --- fast generation (notebook fast_generation) --------------------------------------------
    alloc_repeats: int  # timed rounds of stock and fast t5-base generation in each of the two processes
    #                     started with and without the glibc allocator settings; 0 skips that comparison

    # --- quality: teachers, students, behaviours ------------------------------------------------
    teachers: tuple[TeacherConfig, ...]  # one per task this profile trains (see TeacherConfig)
    student: StudentRecipe  # how every pruning method prunes and fine-tunes, and the seeds
    teacher_init: str  # "" keeps each teacher's init; else a save_pretrained folder or hub name for every teacher
    pruning_tasks: tuple[str, ...]  # the tasks whose teachers the pruning notebooks prune (empty: every usable one)
    teacher_margin: float  # a teacher is pruned only if it beats every trivial baseline by this (metric / 100)
    waive_teacher_rule: bool  # report the rule but prune every teacher (micro teachers of the tests)
    writes_figures: bool  # this profile's figures are the committed figures/ (one profile at most)
    workers: int  # processes that train students at once (each with student.threads threads); 1: in the notebook
    budget_minutes: int  # what `make figures` in this profile should take, cold; the runner warns past it
    # each task's students follow its row of the paper's Tables 8 / 9 (paper_student; recipe(task)) instead of
    # `student`'s steps, warm-up, batch, learning rates and evaluation (False: `student` for every task)
    per_task_recipes: bool = _added(False)
    # CPU kernels every notebook kernel of this profile starts with (env.KERNEL_SETTINGS; "": the CPU's own). The
    # committed cpu figures pin AVX2, so that machines with AVX-512 train the bits an AVX2 machine trains (README)
    kernel_isa: str = _added("")
    # (notebook, tasks) pairs: the tasks a notebook prunes where they are not `pruning_tasks` (the paper's own
    # table's tasks). The runner hands each notebook its tasks as the `pruning_tasks` override (tasks_for), unless
    # the user overrides `pruning_tasks` for every notebook
    notebook_tasks: tuple[object, ...] = _added(())  # checked by _check_notebook_tasks
    # Figure 2's quality sweeps (notebook fig2_quality_sweeps): how many of the paper's target sparsities each of the
    # four curves runs, evenly spaced, the first and last kept (0: all of them, 7 encoder and 5 decoder targets)
    sweep_points: int = _added(0)

    def __post_init__(self) -> None:
        owner = f"profile {self.name!r}"
        _check_types(self, owner)
        self._check_notebook_tasks(owner)
        if self.teacher_init:  # one local (or hub) teacher for every task and every notebook
            object.__setattr__(self, "teachers", tuple(dataclasses.replace(t, init=self.teacher_init)
                                                       for t in self.teachers))
        self._check_timing(owner)
        if self.kernel_isa not in ("", "avx2"):
            raise ValueError(f"{owner}: kernel_isa={self.kernel_isa!r}; allowed: '' (the CPU's own kernels), 'avx2'")
        if not 0 <= self.teacher_margin < 1:
            raise ValueError(f"{owner}: teacher_margin={self.teacher_margin!r}; allowed: 0 <= margin < 1")
        for key in ("budget_minutes", "workers"):
            if getattr(self, key) < 1:
                raise ValueError(f"{owner}: {key}={getattr(self, key)!r}; allowed: an integer >= 1")
        if self.sweep_points == 1 or self.sweep_points < 0:
            raise ValueError(f"{owner}: sweep_points={self.sweep_points!r}; allowed: 0 (every target) or an integer "
                             ">= 2 (the first and the last target among them)")
        task_names = [t.task for t in self.teachers]
        if len(set(task_names)) != len(task_names):
            raise ValueError(f"{owner}: teachers name a task twice ({task_names}); allowed: one teacher per task")
        unknown = [t for t in self.pruning_tasks if t not in task_names]
        if unknown:
            raise ValueError(f"{owner}: pruning_tasks={list(self.pruning_tasks)} names {unknown}, which have no "
                             f"teacher; allowed: tasks among {task_names}")

    def _check_notebook_tasks(self, owner: str) -> None:
        task_names = [t.task for t in self.teachers]
        for pair in self.notebook_tasks:
            ok = isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], str) and \
                isinstance(pair[1], (list, tuple)) and pair[1] and all(isinstance(t, str) for t in pair[1])
            if not ok:
                raise ValueError(f"{owner}: notebook_tasks entry {pair!r}; allowed: (notebook name, non-empty list "
                                 "of task names)")
            unknown = [t for t in pair[1] if t not in task_names]
            if unknown:
                raise ValueError(f"{owner}: notebook_tasks of {pair[0]!r} names {unknown}, which have no teacher; "
                                 f"allowed: tasks among {task_names}")
        names = [pair[0] for pair in self.notebook_tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}: notebook_tasks names a notebook twice ({names}); allowed: once each")
        object.__setattr__(self, "notebook_tasks", tuple((n, tuple(ts)) for n, ts in self.notebook_tasks))

    def tasks_for(self, notebook: str) -> tuple[str, ...]:
        """The tasks ``notebook`` prunes: its :attr:`notebook_tasks` entry, else :attr:`pruning_tasks`."""
        return dict(self.notebook_tasks).get(notebook, self.pruning_tasks)

    def _check_timing(self, owner: str) -> None:
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"{owner}: device={self.device!r}; allowed: 'cpu', 'cuda'")
        positive = ["repeats", "batch", "beams", "src_len", "new_tokens", "layer_batch",
                    "memory_len", "profile_repeats"]
        for key in positive:
            if getattr(self, key) < 1:
                raise ValueError(f"{owner}: {key}={getattr(self, key)!r}; must be >= 1")
        for key in ("warmup", "threads", "alloc_repeats"):
            if getattr(self, key) < 0:
                raise ValueError(f"{owner}: {key}={getattr(self, key)!r}; must be >= 0")
        if not 0.0 <= self.encoder_sparsity < 1.0:
            raise ValueError(f"{owner}: encoder_sparsity={self.encoder_sparsity!r}; "
                             "allowed: 0 <= sparsity < 1")
        if self.min_sample_s <= 0:
            raise ValueError(f"{owner}: min_sample_s={self.min_sample_s!r}; must be > 0")
        for key in ("decoder_depths", "seq_lens", "layer_heads", "layer_d_ff"):
            values = getattr(self, key)
            if not values or min(values) < 1:
                raise ValueError(f"{owner}: {key}={values!r}; "
                                 "must be a non-empty list of integers >= 1")


    def teacher(self, task: str) -> TeacherConfig:
        """The teacher configuration of ``task``."""
        for t in self.teachers:
            if t.task == task:
                return t
        raise ValueError(f"profile {self.name!r} has no teacher for task {task!r}; "
                         f"its tasks: {', '.join(self.tasks) or '(none)'}")

    def recipe(self, task: str) -> StudentRecipe:
        """How ``task``'s students are pruned and fine-tuned: its Tables 8 / 9 row with :attr:`per_task_recipes`
        (a task the tables lack keeps :attr:`student`), else :attr:`student`."""
        return paper_student(task, self.student) if self.per_task_recipes and task in PAPER_TASKS else self.student

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(t.task for t in self.teachers)

    def scale(self) -> str:
        """What the quality models are, said plainly (for findings rows), from the teachers' ``init``."""
        inits = sorted({t.init for t in self.teachers})
        if inits == ["scratch"]:
            return "small T5s trained from scratch here"
        return f"{', '.join(inits)} fine-tuned here"

    def asdict(self) -> dict:
        return dataclasses.asdict(self)


_SMOKE = dict(
    name="smoke",
    description="seconds per notebook: tiny shapes, used by the tests",
    device="cpu", threads=2,
    teacher_shape="tiny", small_shape="tiny-small",
    warmup=1, repeats=2, batch=2, beams=2, src_len=16, new_tokens=4,
    decoder_depths=(4, 3, 2, 1), encoder_sparsity=0.3,
    seq_lens=(1, 8, 32), layer_heads=(4, 2), layer_d_ff=(256, 64),
    layer_batch=2, memory_len=16, min_sample_s=0.002,
    profile_repeats=1,
    alloc_repeats=1,
    teachers=_TEACHERS["smoke"], student=_STUDENTS["smoke"], teacher_init="", teacher_margin=0.10,
    # one task, as cpu: the smoke budget (5 minutes); the rehearsal profile exercises pruning several tasks
    pruning_tasks=("sst2_frequent",),
    notebook_tasks=(("fig7_multitask", ("sst2_frequent", "sst2")),),  # Figure 7's mixtures: the tasks cpu learns
    waive_teacher_rule=True, writes_figures=False, workers=1, budget_minutes=5, sweep_points=2,
)

_CPU = dict(
    name="cpu",
    description="offline on 2 CPU threads: real t5-base / t5-small shapes, random weights for timing",
    device="cpu", threads=2,
    teacher_shape="t5-base", small_shape="t5-small",
    warmup=1, repeats=5, batch=4, beams=4, src_len=256, new_tokens=32,
    decoder_depths=(12, 6, 4, 3, 2, 1), encoder_sparsity=0.3,
    seq_lens=(1, 8, 32, 128, 512), layer_heads=(12, 6, 2), layer_d_ff=(3072, 1536, 512),
    layer_batch=4, memory_len=256, min_sample_s=0.05,
    profile_repeats=4,
    alloc_repeats=3,
    teachers=_TEACHERS["cpu"], student=_STUDENTS["cpu"], teacher_init="", teacher_margin=0.10,
    pruning_tasks=("sst2_frequent",),  # one task: paired seeds for every model fit the 2-hour budget (README)
    # Figure 7 mixes the two tasks a from-scratch cpu teacher learns (the generation task first)
    notebook_tasks=(("fig7_multitask", ("sst2_frequent", "sst2")),),
    waive_teacher_rule=False, writes_figures=True, workers=2, budget_minutes=120,
    kernel_isa="avx2",  # the figures' bits on every x86-64 CPU with AVX2 (runner: kernel environment; start checks)
)

_LAPTOP = dict(
    _CPU,
    name="laptop",
    description="a laptop CPU with internet: t5-small from the hub for quality, t5 shapes for timing",
    threads=0, batch=2, src_len=256, repeats=3,
    teachers=_TEACHERS["laptop"], student=_STUDENTS["laptop"], writes_figures=False, workers=1,
    pruning_tasks=("samsum", "tweetqa", "rte", "cb"),  # not dolly: Table 2's teacher
    notebook_tasks=(("fig7_multitask", ("samsum", "tweetqa", "rte", "cb")),),
    budget_minutes=24 * 60,  # rough: a day of laptop CPU for the hub t5-small teachers and students
    kernel_isa="",  # a laptop's own kernels
)

_PAPER = dict(
    _CPU,
    name="paper",
    description="the paper's scale on a GPU: t5-base from the hub, batch 32, beam 4 (Appendix F)",
    device="cuda", threads=0,
    warmup=2, repeats=5, batch=32, beams=4, src_len=512, new_tokens=64,
    layer_batch=32, memory_len=512, min_sample_s=0.05,
    profile_repeats=3,
    alloc_repeats=0,  # glibc's allocator settings concern CPU memory; the GPU run skips that comparison
    teachers=_TEACHERS["paper"], student=_STUDENTS["paper"], writes_figures=False, workers=1,
    # Table 1's four (not dolly: Table 2's teacher; Table 11 takes the NLU teachers itself), and where a notebook's
    # paper artefact has its own tasks, those: Table 3's five, Table 4's three, Figure 6's SAMSum (Section 5.2),
    # Figure 8's RTE and SAMSum (Appendix A), Table 10's TweetQA and SAMSum (Appendix G.1)
    pruning_tasks=("samsum", "tweetqa", "xsum", "cnn_dailymail"),
    notebook_tasks=(("table3_layer_selection", ("rte", "boolq", "cb", "samsum", "tweetqa")),
                    ("table4_encoder_pruning", ("rte", "samsum", "tweetqa")),
                    ("fig6_pruned_structure", ("samsum",)), ("fig8_cofi_instability", ("rte", "samsum")),
                    ("table10_shallow_decoders", ("tweetqa", "samsum")),
                    # Figure 7: SAMSum, TweetQA and five GLUE / SuperGLUE tasks (Section 5.1; the paper does not
                    # name the five: ours are Tables 3-4's three and two of Table 11's, all scored by accuracy)
                    ("fig7_multitask", ("samsum", "tweetqa", "rte", "boolq", "cb", "sst2", "mrpc"))),
    budget_minutes=7 * 24 * 60,  # rough: 20-epoch t5-base teachers and students on one GPU
    kernel_isa="",
    per_task_recipes=True,  # Tables 8 / 9 per task; `student` keeps the seeds, timing batch and Figure 8's target
)

# The paper profile at tiny sizes on the CPU, for CI: its teachers are the paper's (same tasks, same hub names,
# "t5-base"), trained a few steps on a few rows; with the hub-layout stand-ins of nashlib.standins in a local
# Hugging Face cache and HF_HUB_OFFLINE=1 (tests/test_rehearsal.py), every notebook runs the paper's code path.
# What differs from `paper`: sizes (steps, rows, lengths, seeds, the timing shapes), the device (cpu) and the
# usable-teacher rule (waived: a few steps on random stand-in weights learn nothing). Table 2's datasets (Dolly,
# Self-Instruct, Vicuna) are on the hub only: the rehearsal reads their stand-ins from a datasets cache
# (nashlib.standins.build_datasets_cache, HF_DATASETS_CACHE), as a user's machine does after a first online load.
_REHEARSAL_TEACHER = dict(train_examples=64, eval_examples=8, max_source_len=64, max_target_len=16, batch=4, steps=6,
                          warmup_steps=2)
_REHEARSAL = dict(
    _PAPER,
    name="rehearsal",
    description="the paper profile at tiny sizes on the CPU, on hub-layout stand-ins with the hub offline (CI)",
    **{k: _SMOKE[k] for k in ("device", "threads", "teacher_shape", "small_shape", "warmup", "repeats", "batch",
                              "src_len", "new_tokens", "decoder_depths", "seq_lens", "layer_heads", "layer_d_ff",
                              "layer_batch", "memory_len", "min_sample_s", "profile_repeats", "alloc_repeats",
                              "waive_teacher_rule", "budget_minutes")},
    per_task_recipes=False,  # a size: Tables 8 / 9's step counts are the paper's; the rehearsal's are a few steps
    sweep_points=2,
    teachers=tuple(dataclasses.replace(t, **_REHEARSAL_TEACHER) for t in _TEACHERS["paper"]),
    student=dataclasses.replace(_STUDENTS["paper"], steps=6, warmup_steps=5, finetune_steps=2, batch=4,
                                timing_batch=2, seeds=(0, 1, 2), paired_seeds=(0, 1), threads=1),
)

PROFILES: dict[str, dict] = {p["name"]: p for p in (_SMOKE, _CPU, _LAPTOP, _PAPER, _REHEARSAL)}


def names() -> list[str]:
    return list(PROFILES)


# --------------------------------------------------------------------------------------------
# The one override channel: {"repeats": 3, "student.steps": 100, "teachers.sst2.steps": 50}
# --------------------------------------------------------------------------------------------

_NESTED = ("teachers", "student")


def setting_names(name: str) -> list[str]:
    """Every name an override of profile ``name`` may use: flat fields, ``student.<field>``,
    ``teachers.<task>.<field>``."""
    flat = [f.name for f in fields(Profile) if f.name not in ("name",) + _NESTED]
    student = [f"student.{f.name}" for f in fields(StudentRecipe)]
    teacher = [f"teachers.{t.task}.{f.name}" for t in PROFILES[name]["teachers"] for f in fields(TeacherConfig)
               if f.name != "task"]
    return flat + student + teacher


def _flatten(overrides: dict, prefix: str = "") -> dict:
    """``{"student": {"steps": 3}}`` -> ``{"student.steps": 3}``; dotted keys pass through."""
    out = {}
    for key, value in overrides.items():
        check_parameter("override key", key, str, owner="OVERRIDES")
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _tuples(cls, values: dict) -> dict:
    """Lists given for ``tuple[...]`` fields of ``cls`` become tuples (YAML and JSON have no tuples)."""
    hints = typing.get_type_hints(cls)
    return {k: tuple(v) if isinstance(v, list) and typing.get_origin(hints.get(k)) is tuple else v
            for k, v in values.items()}


def get(name: str, overrides: dict | None = None, **flat) -> Profile:
    """The profile ``name`` with ``overrides`` (and keyword overrides of flat fields) applied, validated."""
    check_parameter("PROFILE", name, str)
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; allowed: {', '.join(PROFILES)}")
    check_parameter("OVERRIDES", {} if overrides is None else overrides, dict)
    changes = {**_flatten(overrides or {}), **flat}
    allowed = setting_names(name)
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown} for profile {name!r}; allowed: {', '.join(allowed)}")
    base = PROFILES[name]
    values = {k: v for k, v in changes.items() if "." not in k}
    student = {k.split(".", 1)[1]: v for k, v in changes.items() if k.startswith("student.")}
    values["student"] = StudentRecipe(**_tuples(StudentRecipe, {**dataclasses.asdict(base["student"]), **student}))
    teachers = []
    for t in base["teachers"]:
        mine = {k.rsplit(".", 1)[1]: v for k, v in changes.items() if k.startswith(f"teachers.{t.task}.")}
        teachers.append(dataclasses.replace(t, **mine) if mine else t)
    values["teachers"] = tuple(teachers)
    return Profile(**_tuples(Profile, {**base, **values}))


def digest(p: Profile) -> str:
    """16 hex digits of the hash of every value of ``p`` (nested recipes included): what a figure records, so
    that an edit of ``settings.py`` that leaves this profile's values alone does not make its figures stale."""
    text = json.dumps(_digest_values(p), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _digest_values(obj):
    """``dataclasses.asdict`` without the fields declared :func:`_added` that hold their default."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _digest_values(getattr(obj, f.name)) for f in fields(obj)
                if not (f.metadata.get("digest") == "omit_default" and getattr(obj, f.name) == f.default)}
    if isinstance(obj, (list, tuple)):
        return [_digest_values(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _digest_values(v) for k, v in obj.items()}
    return obj


def parse_assignment(text: str) -> tuple[str, object]:
    """``"student.steps=100"`` -> ``("student.steps", 100)``; the value is read as YAML (numbers, lists, strings)."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {text!r}; allowed: KEY=VALUE, e.g. --set repeats=3 or --set student.steps=100")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ValueError(f"--set {text!r}: the value is not valid YAML ({err})") from err
    if isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string; a number is meant
        try:
            value = float(value) if value.strip().lower() not in ("nan", "inf", "-inf", "infinity") else value
        except ValueError:
            pass
    return key.strip(), value


def load_settings_file(path) -> dict:
    """Overrides from a YAML or JSON file holding one mapping (setting -> value, nested or dotted)."""
    import yaml
    from pathlib import Path

    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise ValueError(f"settings file {str(path)!r} cannot be read ({err.strerror})") from err
    except yaml.YAMLError as err:
        raise ValueError(f"settings file {str(path)!r} is not valid YAML or JSON ({err})") from err
    if not isinstance(data, dict):
        raise ValueError(f"settings file {str(path)!r} holds a {type(data).__name__}; allowed: a mapping of "
                         "settings to values, e.g. 'repeats: 3'")
    return data


def _check_kernels(p: Profile) -> None:
    """Warn when this process does not run the kernels the profile pins: its numbers will not be the committed
    ones (the run info records the capability it had). They are chosen at process start, so only a new process
    with the variables set (the runner starts every kernel so) can fix it."""
    import warnings

    have = torch.backends.cpu.get_cpu_capability()
    if p.kernel_isa and have.lower() != p.kernel_isa:
        settings = " ".join(f"{k}={v}" for k, v in env.KERNEL_SETTINGS[p.kernel_isa].items())
        warnings.warn(f"profile {p.name!r} pins the CPU kernels to {p.kernel_isa.upper()}, and this process runs "
                      f"{have}: trained models and scores will differ from the committed figures. Start it with "
                      f"{settings} (python -m nashlib.runner and make figures do).", RuntimeWarning, stacklevel=3)


def notebook_overrides(p: Profile, name: str, overrides: dict | None) -> dict | None:
    """``overrides`` for notebook ``name``: with its own tasks (``Profile.notebook_tasks``) as ``pruning_tasks``
    where the profile lists them, unless the user's overrides set ``pruning_tasks`` (for every notebook)."""
    own = dict(p.notebook_tasks).get(name)
    if own is None or "pruning_tasks" in (overrides or {}):
        return overrides
    return {**(overrides or {}), "pruning_tasks": list(own)}


def start(profile: str, *, seed: int, out_dir: str, overrides: dict | None = None, notebook: str = ""):
    """A notebook's first step, from its parameters cell: validate every parameter (papermill injects
    them unchecked), resolve the profile (with the notebook's own tasks, :func:`notebook_overrides`, whether the
    runner or a person runs it), check its device, seed everything and set the threads.

    Returns ``(profile, run)``: the :class:`Profile` and a short summary dict.
    """
    check_parameter("SEED", seed, int)
    check_parameter("OUT_DIR", out_dir, str)
    folder = env.REPO_ROOT / "notebooks"  # absent where nashlib is installed without the repository
    if notebook and folder.is_dir() and not (folder / f"{notebook}.py").exists():
        raise ValueError(f"notebook={notebook!r} is not a notebook of notebooks/; allowed: a file name there "
                         "without '.py', e.g. 'table1_nash_vs_baselines'")
    p = get(profile, overrides)
    if notebook:
        p = get(profile, notebook_overrides(p, notebook, overrides))
    if p.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"profile {p.name!r} runs on a CUDA GPU, and torch sees none "
                           f"(torch {torch.__version__}, cuda available: False). Use PROFILE='cpu' or "
                           "'laptop' here, or install a CUDA build of torch on a GPU machine.")
    _check_kernels(p)
    seed_everything(seed)
    threads = set_threads(p.threads)
    return p, {"profile": p.name, "device": p.device, "threads": threads, "seed": seed}
