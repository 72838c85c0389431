"""Pruning experiments end to end: teacher -> NASH or CoFi-T5 -> compacted, saved, reloaded -> scored, timed.

One call, :func:`student`, turns a cached :class:`~nashlib.teacher.Teacher` and a
:class:`~nashlib.prune.PruneConfig` into a finished student:

1. prune a copy of the teacher while distilling from it (``nashlib.prune``: L0 masks, Lagrangian,
   KL on logits + MSE on hidden states), then compact it into a physically smaller model;
2. fine-tune the compacted model with cross-entropy + KL to the teacher (``finetune_steps``);
3. ``save_pretrained`` it with its tokenizer and load it back with ``AutoModelForSeq2SeqLM``: every
   score and timing is of the reloaded model, what a user would deploy;
4. score it on the validation rows the teacher was scored on, with the teacher's beam settings.

Every stage is cached under ``<root>/<task>-<teacher key>/<method>-<key>/`` (root: ``$NASH_RUN_DIR``, else
``build/runs``), keyed by the teacher, the pruning configuration and the :class:`StudentRecipe`; the
pruning and fine-tuning loops resume from their checkpoints, and ``result.json`` is written last, so a
folder without it is unfinished and is never taken for a result.

:func:`small_config` gives the dense small baseline (the paper's T5-Small: two thirds of the width and
half the depth of T5-base), trained exactly as the teacher was. :func:`time_generation` times any set
of models under the one protocol of ``nashlib.timing`` on real validation inputs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
import typing
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import tasks, timing
from .env import REPO_ROOT, atomic_write_text
from .models import count_parameters
from .profiles import check_parameter
from .prune import FinetuneConfig, PruneConfig, finetune, prune
from .teacher import Teacher, TeacherConfig, _save, batches, generate_texts, load_finished, score

__all__ = ["StudentRecipe", "STUDENT_RECIPES", "student_recipe", "Student", "student", "run_dir", "small_config",
           "SMALL_MODELS", "time_generation", "nash", "cofi", "structure", "lineup", "model_sparsity_of_nash",
           "pruning_teachers", "is_generation", "verdict", "scale"]


@dataclass(frozen=True)
class StudentRecipe:
    """How a profile prunes: the same schedule for every method, so that comparisons are fair."""

    steps: int  # pruning steps (L0 masks + distillation); the target sparsity warms up over the first half
    warmup_steps: int  # steps over which the target sparsity rises linearly from 0 (the paper: a linear warm-up)
    finetune_steps: int  # steps of cross-entropy + KL fine-tuning of the compacted model (0: none)
    lr: float  # AdamW learning rate of the weights while pruning
    finetune_lr: float  # AdamW learning rate while fine-tuning the compacted model
    mask_lr: float  # learning rate of the masks' log_alpha
    reg_lr: float  # learning rate of the Lagrange multipliers
    batch: int  # sequences per step
    timing_batch: int  # sequences per timed generate() call
    timing_warmup: int  # untimed generate() calls per model before timing
    timing_repeats: int  # timed rounds (every model once per round, order rotated)
    seeds: tuple[int, ...]  # Figure 8: seeds of the repeated runs
    high_sparsity: float  # Figure 8: CoFi-T5's high target sparsity (the paper: 0.9)

    def __post_init__(self):
        for key, typ in typing.get_type_hints(StudentRecipe).items():
            check_parameter(key, getattr(self, key), typ, owner="StudentRecipe")
        for key in ("steps", "batch", "timing_batch", "timing_repeats"):
            if getattr(self, key) < 1:
                raise ValueError(f"StudentRecipe: {key}={getattr(self, key)!r}; allowed: an integer >= 1")
        for key in ("warmup_steps", "finetune_steps", "timing_warmup"):
            if getattr(self, key) < 0:
                raise ValueError(f"StudentRecipe: {key}={getattr(self, key)!r}; allowed: an integer >= 0")
        if not self.seeds:
            raise ValueError("StudentRecipe: seeds=(); allowed: a non-empty list of integers")
        if not 0 < self.high_sparsity < 1:
            raise ValueError(f"StudentRecipe: high_sparsity={self.high_sparsity!r}; allowed: 0 < s < 1")

    def key(self) -> str:
        """Hash of the fields that change a student (timing and seed lists do not)."""
        fields = {k: v for k, v in dataclasses.asdict(self).items()
                  if not k.startswith("timing_") and k not in ("seeds", "high_sparsity")}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


# cpu: a pruning step of the 18M teachers costs about 1.3 teacher training steps (teacher forward, student
# forward and backward); 200 + 50 steps keep one student to about two minutes on 2 cores for SST-2, and
# three seeds keep Figure 8 within the budget (2.5 hours for every cpu notebook, cold).
STUDENT_RECIPES: dict[str, StudentRecipe] = {
    "smoke": StudentRecipe(steps=6, warmup_steps=3, finetune_steps=2, lr=1e-3, finetune_lr=1e-3, mask_lr=0.1,
                           reg_lr=0.1, batch=8, timing_batch=2, timing_warmup=1,
                           timing_repeats=2, seeds=(0, 1), high_sparsity=0.9),
    "cpu": StudentRecipe(steps=200, warmup_steps=100, finetune_steps=50, lr=3e-4, finetune_lr=3e-4, mask_lr=0.05,
                         reg_lr=0.05, batch=32, timing_batch=8, timing_warmup=1,
                         timing_repeats=5, seeds=(0, 1, 2), high_sparsity=0.9),
    "laptop": StudentRecipe(steps=1500, warmup_steps=750, finetune_steps=500, lr=3e-5, finetune_lr=3e-5,
                            mask_lr=0.01, reg_lr=0.01, batch=8, timing_batch=4, timing_warmup=1,
                            timing_repeats=3, seeds=(0, 1, 2, 3, 4), high_sparsity=0.9),
    # the paper: 20 epochs of pruning on SAMSum/TweetQA at batch 4, 20 seeds for Figure 8 (Appendix A, D)
    "paper": StudentRecipe(steps=73_660, warmup_steps=36_830, finetune_steps=7_366, lr=3e-5, finetune_lr=3e-5,
                           mask_lr=0.01, reg_lr=0.01, batch=4, timing_batch=32, timing_warmup=2,
                           timing_repeats=5, seeds=tuple(range(20)), high_sparsity=0.9),
}


def student_recipe(profile: str, **overrides) -> StudentRecipe:
    """The pruning recipe of ``profile``, with ``overrides`` (field -> value) applied and validated."""
    check_parameter("profile", profile, str)
    if profile not in STUDENT_RECIPES:
        raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(STUDENT_RECIPES)}")
    allowed = [f.name for f in dataclasses.fields(StudentRecipe)]
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise ValueError(f"unknown student recipe field(s) {unknown}; allowed: {', '.join(allowed)}")
    values = {**dataclasses.asdict(STUDENT_RECIPES[profile]), **overrides}
    values["seeds"] = tuple(values["seeds"])
    return StudentRecipe(**values)


def nash(decoder_layers: int, recipe: StudentRecipe, *, sparsity: float = 0.3, selection: str = "uniform",
         seed: int = 0, **changes) -> PruneConfig:
    """NASH-``decoder_layers``: uniform (or ``selection``) shallow decoder + L0 narrow encoder at ``sparsity``."""
    return PruneConfig(method="nash", target_sparsity=sparsity, decoder_layers=decoder_layers, selection=selection,
                       steps=recipe.steps, warmup_steps=recipe.warmup_steps, lr=recipe.lr, mask_lr=recipe.mask_lr,
                       reg_lr=recipe.reg_lr, seed=seed, checkpoint_every=max(1, recipe.steps // 5), **changes)


def cofi(sparsity: float, recipe: StudentRecipe, *, seed: int = 0) -> PruneConfig:
    """CoFi-T5: every mask type on encoder and decoder, the whole model's sparsity constrained."""
    return PruneConfig(method="cofi", target_sparsity=sparsity, decoder_layers=None, steps=recipe.steps,
                       warmup_steps=recipe.warmup_steps, lr=recipe.lr, mask_lr=recipe.mask_lr, reg_lr=recipe.reg_lr,
                       seed=seed, checkpoint_every=max(1, recipe.steps // 5))


def model_sparsity_of_nash(teacher_model, decoder_layers: int, encoder_sparsity: float) -> float:
    """The whole-model sparsity (prunable attention and FFN weights) of NASH-``decoder_layers``.

    Keeping d_s of L decoder layers and ``1 - encoder_sparsity`` of the encoder leaves
    ``(1 - s) * E + d_s / L * D`` of the teacher's ``E + D`` prunable weights. CoFi-T5 in Table 1 gets this
    sparsity as its target: the same budget as NASH-3, so any speed difference is the structure's.
    """
    from .sites import PruningMasks

    full = PruningMasks(teacher_model, types=(), parts=()).full_sizes()
    L = teacher_model.config.num_decoder_layers if teacher_model.config.model_type == "t5" else \
        teacher_model.config.decoder_layers
    kept = (1 - encoder_sparsity) * full["encoder"] + decoder_layers / L * full["decoder"]
    return round(1 - kept / (full["encoder"] + full["decoder"]), 4)


def lineup(teacher: Teacher, recipe: StudentRecipe, *, seed: int = 0) -> dict[str, PruneConfig]:
    """Table 1's pruned models, by the paper's names: NASH-2/3/4 (encoder 0.3) and CoFi-T5 at NASH-3's budget.

    Every notebook that needs one of these asks for it by this configuration, so the cache serves them all.
    """
    return {"CoFi-T5": cofi(model_sparsity_of_nash(teacher.model, 3, 0.3), recipe, seed=seed),
            **{f"NASH-{d}": nash(d, recipe, seed=seed) for d in (2, 3, 4)}}


def pruning_teachers(profile: str, *, margin: float = 0.10, progress: bool = True) -> tuple[dict, pd.DataFrame]:
    """The teachers of ``profile`` that pruning experiments may use, and the table that decided it.

    Trains or loads every teacher of ``teacher.recipes(profile)``; keeps those that beat every trivial
    baseline by ``margin`` (``teacher.usable``). In the ``smoke`` profile the rule is reported but waived:
    micro teachers trained for a few steps exist to exercise the code, not to be good.
    Returns ``({task: Teacher}, table)``; the table has one row per teacher with its verdict. Raises
    ``RuntimeError`` when no teacher passes: there is nothing to prune.
    """
    from .teacher import get_teacher, recipes, usable

    kept, rows = {}, []
    for name, cfg in recipes(profile).items():
        t = get_teacher(cfg, progress=progress)
        verdict = usable(t, margin)
        rows.append(dict(task=name, title=tasks.get(name).title, kind=tasks.get(name).kind,
                         metric=tasks.get(name).metric, teacher=verdict["teacher"],
                         best_baseline=verdict["best_baseline"], usable=verdict["usable"]))
        if verdict["usable"] or profile == "smoke":
            kept[name] = t
    if not kept:
        raise RuntimeError(f"profile {profile}: no teacher passed the rule (see the teachers notebook); nothing to prune")
    table = pd.DataFrame(rows)
    table["used"] = table.task.isin(list(kept))
    return kept, table


def verdict(flags) -> str:
    """A notebook's verdict from its checks (booleans, any shape): every one holds, none does, or some do."""
    import numpy as np

    flags = np.asarray(flags, dtype=bool)
    if flags.size == 0:
        raise ValueError("verdict() needs at least one check")
    return "holds" if flags.all() else "does not hold" if not flags.any() else "partly holds"


def scale(profile: str, teachers) -> str:
    """What the models of a run are, for findings rows: trained from scratch here, or which model was fine-tuned."""
    if profile in ("cpu", "smoke"):
        return "small T5s trained from scratch here"
    return f"{', '.join(sorted({t.config.init for t in teachers}))} fine-tuned here"


def is_generation(task_name: str) -> bool:
    """Whether a task's outputs are free text (summaries, answers, derived text tasks), not a label or score."""
    return tasks.get(task_name).kind not in ("classification", "regression")


# --------------------------------------------------------------------------------------------
# The small dense baseline
# --------------------------------------------------------------------------------------------

# pretrained baselines: the model of the next size down (T5-Small for T5-Base, as in the paper's Table 1)
SMALL_MODELS = {"t5-base": "t5-small", "google-t5/t5-base": "google-t5/t5-small",
                "t5-small": "google/t5-efficient-mini", "google-t5/t5-small": "google/t5-efficient-mini"}


def small_config(cfg: TeacherConfig) -> TeacherConfig:
    """The dense small model of ``cfg``'s task, trained exactly as the teacher was.

    From scratch: T5-Small's proportions to T5-Base (two thirds of the width, half the depth of
    encoder and decoder), at the teacher's head size. Pretrained: :data:`SMALL_MODELS`.
    """
    if cfg.init == "scratch":
        heads = max(1, round(cfg.num_heads * 2 / 3))
        d_model = heads * cfg.d_kv
        return dataclasses.replace(cfg, d_model=d_model, num_heads=heads, d_ff=round(cfg.d_ff * 2 / 3),
                                   encoder_layers=max(1, cfg.encoder_layers // 2),
                                   decoder_layers=max(1, cfg.decoder_layers // 2))
    if cfg.init not in SMALL_MODELS:
        raise ValueError(f"no small baseline known for init={cfg.init!r}; known: {', '.join(SMALL_MODELS)} "
                         "(or 'scratch')")
    return dataclasses.replace(cfg, init=SMALL_MODELS[cfg.init])


# --------------------------------------------------------------------------------------------
# A pruned student, cached
# --------------------------------------------------------------------------------------------

@dataclass
class Student:
    config: PruneConfig
    model: object  # the compacted model as reloaded by AutoModelForSeq2SeqLM.from_pretrained, eval mode
    tokenizer: object
    folder: Path
    info: dict  # what result.json holds: report (sparsities, layers kept), scores, curves, seconds

    @property
    def scores(self) -> dict[str, float]:
        return self.info["scores"]

    @property
    def report(self) -> dict:
        return self.info["report"]


def run_dir(root: str | os.PathLike | None = None) -> Path:
    return Path(root or os.environ.get("NASH_RUN_DIR") or REPO_ROOT / "build" / "runs")


def _key(cfg: PruneConfig, recipe: StudentRecipe) -> str:
    text = json.dumps({"prune": dataclasses.asdict(cfg), "recipe": recipe.key()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def student(teacher: Teacher, cfg: PruneConfig, recipe: StudentRecipe, root: str | os.PathLike | None = None, *,
            progress: bool = True, stop_after: int | None = None) -> Student | None:
    """The finished student of ``teacher`` under ``cfg``: loaded from the cache, or pruned, tuned and scored.

    ``stop_after`` ends the call after that many pruning or fine-tuning steps (as a killed run would)
    and returns None; calling again resumes.
    """
    from transformers import AutoModelForSeq2SeqLM

    tcfg = teacher.config
    folder = run_dir(root) / f"{tcfg.task}-{tcfg.key()}" / f"{cfg.method}-{_key(cfg, recipe)}"
    done = folder / "result.json"
    if done.exists():
        return Student(cfg, *load_finished(folder, done.name))

    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "config.json", json.dumps(
        {"teacher": dataclasses.asdict(tcfg), "prune": dataclasses.asdict(cfg), "recipe": dataclasses.asdict(recipe)},
        indent=2))
    tokenizer = teacher.tokenizer
    train = tasks.load_task(tcfg.task, "train", limit=tcfg.train_examples or None)
    encoded = tasks.encode(train, tokenizer, tcfg.max_source_len, tcfg.max_target_len)
    pruned_dir = folder / "pruned"
    if (pruned_dir / "report.json").exists():  # the pruning stage finished in an earlier call
        model = AutoModelForSeq2SeqLM.from_pretrained(pruned_dir)
        pruned = json.loads((pruned_dir / "report.json").read_text())
    else:
        result = prune(teacher.model, batches(encoded, recipe.batch, cfg.seed, tokenizer.pad_token_id), cfg,
                       folder, progress=progress, stop_after=stop_after)
        if result is None:
            return None
        model = result.model
        pruned = {"report": result.report, "history": result.history}
        _save(pruned_dir, model)
        atomic_write_text(pruned_dir / "report.json", json.dumps(pruned, default=float))
    prune_s = time.perf_counter() - t0
    history = []
    if recipe.finetune_steps:
        ft = FinetuneConfig(steps=recipe.finetune_steps, lr=recipe.finetune_lr, distill_weight=1.0, seed=cfg.seed,
                            checkpoint_every=max(1, recipe.finetune_steps // 4))
        # the fine-tuning batches continue the epoch order where pruning stopped
        data = batches(encoded, recipe.batch, cfg.seed, tokenizer.pad_token_id)
        history = finetune(model, lambda step: data(cfg.steps + step), ft, folder, teacher=teacher.model,
                           stop_after=stop_after, progress=progress)
        if history is None:
            return None
    _save(folder / "model", model.eval(), tokenizer)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder / "model").eval()  # what is scored is what was saved
    train_s = time.perf_counter() - t0
    valid = tasks.load_task(tcfg.task, "validation", limit=tcfg.eval_examples)  # the teacher's rows
    preds = generate_texts(model, tokenizer, list(valid.dataset["source"]), max_source_len=tcfg.max_source_len,
                           max_new_tokens=tcfg.max_target_len, beams=tcfg.beams, progress=progress)
    info = {"prune": dataclasses.asdict(cfg), "recipe": dataclasses.asdict(recipe), "teacher": str(teacher.folder),
            "report": pruned["report"], "scores": score(tcfg.task, preds, valid),
            "parameters": count_parameters(model), "teacher_parameters": count_parameters(teacher.model),
            "prune_seconds": round(prune_s, 1), "finetune_seconds": round(train_s - prune_s, 1),
            "eval_seconds": round(time.perf_counter() - t0 - train_s, 1),
            "prune_curve": [{k: r[k] for k in ("step", "loss", "target", "expected_sparsity") if k in r}
                            for r in pruned["history"]],
            "finetune_curve": [{"step": r["step"], "loss": r["loss"]} for r in history],
            "samples": [{"source": s, "prediction": p, "target": t} for s, p, t in
                        zip(valid.dataset["source"][:5], preds[:5], valid.dataset["target"][:5])],
            "predictions": preds}
    text = json.dumps(info, indent=1, default=float)
    info = json.loads(text)  # the same object a later call reads back
    atomic_write_text(done, text)  # last: its presence means finished
    for leftover in list(folder.glob("checkpoint*")) + list(folder.glob("finetune-*/checkpoint*")):
        shutil.rmtree(leftover, ignore_errors=True)
    return Student(cfg, model, tokenizer, folder, info)


# --------------------------------------------------------------------------------------------
# Speed and structure
# --------------------------------------------------------------------------------------------

def time_generation(models: dict[str, object], tokenizer, sources: list[str], *, max_source_len: int, new_tokens: int,
                    beams: int, warmup: int, repeats: int, baseline: str = "teacher") -> pd.DataFrame:
    """Speedup of every model against ``baseline`` generating for the same real ``sources``.

    One padded batch of ``sources``, tokenized by ``tokenizer`` (or by ``tokenizer[name]`` when it is a
    dict: a model trained with its own vocabulary reads the text its own way); each call generates
    exactly ``new_tokens`` tokens (so a model that stops early is not faster for it) with ``beams``
    beams; ``nashlib.timing`` interleaves the models and pairs the ratios. Returns one row per model:
    ``speedup`` (median paired ratio), its quartiles, the median wall time, the source length in tokens.
    """
    if baseline not in models:
        raise ValueError(f"baseline {baseline!r} is not among the models {sorted(models)}")
    if not sources:
        raise ValueError("sources is empty; give the validation texts to generate from")
    if isinstance(tokenizer, dict) and set(models) - set(tokenizer):
        raise ValueError(f"no tokenizer given for {sorted(set(models) - set(tokenizer))}")
    calls, lengths = {}, {}
    for name, m in models.items():
        tok = tokenizer[name] if isinstance(tokenizer, dict) else tokenizer
        enc = tok(sources, max_length=max_source_len, truncation=True, padding=True, return_tensors="pt")
        inputs = {k: v.to(m.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}  # (B, T_src)
        lengths[name] = int(inputs["input_ids"].shape[1])
        calls[name] = timing.generation_call(m.eval(), inputs, new_tokens=new_tokens, beams=beams)
    device = next(iter(models.values())).device
    samples = timing.measure(calls, warmup=warmup, repeats=repeats, device=device)
    out = timing.speedups(samples, baseline).merge(timing.summarize(samples)[["config", "wall_median_s"]], on="config")
    out["source_tokens"] = out.config.map(lengths)
    return out.rename(columns={"config": "model"})


def structure(model) -> pd.DataFrame:
    """What a (compacted) model kept, one row per layer and block: kept heads or units out of the teacher's.

    Reads ``config.nash_layout`` (written by ``nashlib.compact``); rows name the teacher layer behind each
    kept layer (``nash_selected_layers``, ``nash_selected_encoder_layers``); layers that a layer selection
    dropped have no row (the teacher's depth says which are missing). Hidden dimensions: ``config.d_model``
    against ``nash_layout["full_d_model"]``.
    """
    cfg = model.config
    layout = getattr(cfg, "nash_layout", None)
    if not layout:
        raise ValueError(f"model type {cfg.model_type!r} has no nash_layout; pass a compacted model (nashlib.compact)")
    H, d_ff = layout["full_num_heads"], cfg.d_ff
    rows = []
    for part in ("encoder", "decoder"):
        attr = "nash_selected_layers" if part == "decoder" else "nash_selected_encoder_layers"
        selected = list(getattr(cfg, attr, None) or range(len(layout[part])))
        for pos, row in enumerate(layout[part]):
            for block in ("self", "cross"):
                if block in row:
                    rows.append(dict(part=part, layer=selected[pos], block=block, kept=len(row[block]), full=H))
            rows.append(dict(part=part, layer=selected[pos], block="ffn", kept=row["d_ff"], full=d_ff))
    return pd.DataFrame(rows)
