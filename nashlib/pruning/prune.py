"""NASH and CoFi-T5 end to end: select decoder layers, prune with L0 masks while distilling, compact.

Training runs through the shared loop (``nashlib.training.loop``: accelerate, checkpoints every
``checkpoint_every`` steps into the run folder, resume, ``stop_after``); pruning plugs in a step function
(teacher and student forward, distillation terms, the constraints' penalties) and a hook that clamps the
masks and traces the constraints. Killed and resumed, a run ends with the same masks as an uninterrupted one.

Data is a function ``batch(step) -> dict`` of tensors (``input_ids``, ``attention_mask``, ``labels``),
so that the batch at a step does not depend on how many times the run was interrupted.

NASH (Section 4): the student keeps ``decoder_layers`` teacher decoder layers chosen by ``selection``;
L0 masks on the *encoder's* heads and FFN units; one constraint on the encoder's sparsity (with
``selection="l0"`` a second one on the number of decoder layers, learned by whole-layer masks).
CoFi-T5 (the baseline): masks of every type (heads, FFN units, whole attention and FFN sublayers,
hidden dimensions) on encoder and decoder; one constraint on the whole model's sparsity. Simplification:
CoFi's dynamic layer-distillation alignment is replaced by matching each student layer with the
teacher layer at the same position (the student starts as a copy of the teacher, so the positions
coincide until layer masks close a layer).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from nashlib.arch import arch_of
from nashlib.env import atomic_write_text
from nashlib.pruning.compact import compact
from nashlib.pruning.constraints import Constraint, LayerCount, Sparsity
from nashlib.pruning.distill import BlockOutputs, distillation_loss
from nashlib.pruning.layers import STRATEGIES, keep_decoder_layers, keep_encoder_layers, select_layers
from nashlib.pruning.masks import PruningMasks
from nashlib.training.loop import Loop
from nashlib.training.runs import Record, Run, key

__all__ = ["PruneConfig", "PruneReport", "PruneResult", "prune", "run_folder", "METHODS", "mask_types"]

METHODS = {
    "nash": dict(types=("heads", "ffn_units"), parts=("encoder",), scope="encoder"),
    "cofi": dict(types=("heads", "ffn_units", "mha_layer", "ffn_layer", "hidden"), parts=("encoder", "decoder"),
                 scope="model"),
}


@dataclass(frozen=True)
class PruneConfig:
    method: str = "nash"  # "nash" or "cofi"
    target_sparsity: float = 0.3  # of the encoder (nash) or of the whole model (cofi)
    decoder_layers: int | None = 3  # nash: decoder layers kept; None keeps all (cofi ignores it)
    selection: str = "uniform"  # nash: uniform | uniform-paper | low | high | l0 (learned layer masks)
    encoder_layers: int | None = None  # nash: keep this many encoder layers, chosen uniformly (Table 4); None: all
    steps: int = 200  # optimizer steps
    warmup_steps: int = 100  # steps over which the target sparsity rises linearly from 0
    lr: float = 3e-5  # AdamW learning rate of the model weights
    mask_lr: float = 0.01  # learning rate of the masks' log_alpha
    reg_lr: float = 0.01  # learning rate of the Lagrange multipliers (gradient ascent)
    lambda_enc: float = 1e-3  # weight of the encoder hidden-state MSE
    lambda_dec: float = 1e-3  # weight of the decoder hidden-state MSE
    temperature: float = 1.0  # distillation temperature
    droprate_init: float = 0.5  # initial drop rate of head and unit masks
    seed: int = 0  # seeds the masks' noise, dropout and mask sampling
    checkpoint_every: int = 50  # steps between checkpoints (0: none)
    mixed_precision: str = "no"  # accelerate's setting: no | fp16 | bf16

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; allowed: {', '.join(METHODS)}")
        if not isinstance(self.target_sparsity, (int, float)) or not 0 <= self.target_sparsity < 1:
            raise ValueError(f"target_sparsity={self.target_sparsity!r}; allowed: 0 <= target < 1")
        if self.selection not in STRATEGIES + ("l0",):
            raise ValueError(f"unknown selection strategy {self.selection!r}; allowed: "
                             f"{', '.join(STRATEGIES + ('l0',))}")
        if self.selection == "l0" and (self.method != "nash" or self.decoder_layers is None):
            raise ValueError("selection='l0' learns which decoder layers NASH keeps: it needs method='nash' "
                             "and decoder_layers set")
        if self.encoder_layers is not None and (self.method != "nash" or not isinstance(self.encoder_layers, int)
                                                or self.encoder_layers < 1):
            raise ValueError(f"encoder_layers={self.encoder_layers!r}; allowed: None, or an integer >= 1 with "
                             "method='nash'")
        for name in ("steps", "warmup_steps", "checkpoint_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (1 if name == "steps" else 0):
                raise ValueError(f"{name}={value!r}; allowed: an integer >= {1 if name == 'steps' else 0}")


@dataclass(frozen=True)
class PruneReport(Record):
    """What a pruning run ended with; sparsities are against the teacher's prunable weights."""

    method: str
    selection: str
    target_sparsity: float
    scope: str  # what the sparsity constraint measured: "encoder" (nash) or "model" (cofi)
    decoder_map: list[int]  # teacher decoder layer behind each student layer
    encoder_map: list[int]  # teacher encoder layer behind each student layer
    encoder_expected: float
    encoder_actual: float
    decoder_expected: float
    decoder_actual: float
    model_expected: float
    model_actual: float
    final: dict[str, float]  # the last history row: loss terms, targets, multipliers
    decoder_layers_kept: list[int] | None = None  # learned selection (selection="l0") only
    decoder_layers_target: int | None = None
    decoder_layers_hit_target: bool | None = None


@dataclass
class PruneResult:
    model: torch.nn.Module  # the compacted model
    student: torch.nn.Module  # the masked student (dense weights), for inspection
    masks: PruningMasks
    decoder_map: list[int]  # teacher decoder layer behind each student layer
    report: PruneReport
    history: list[dict]  # one row per step


def run_folder(cfg: PruneConfig, run_root: str | os.PathLike) -> Path:
    """Where the pruning run of ``cfg`` keeps its checkpoint and ``report.json``."""
    return Path(run_root) / f"{cfg.method}-{key(cfg)}"


def mask_types(cfg: PruneConfig) -> tuple[str, ...]:
    """The mask types a run learns: its method's, or none for NASH at encoder target 0 (layer selection only)."""
    if cfg.method == "nash" and cfg.target_sparsity == 0:
        return ()
    return METHODS[cfg.method]["types"]


def _student(teacher, cfg: PruneConfig):
    """The student before pruning: a copy of the teacher, with the selected layers only; and its layer maps."""
    arch, student = arch_of(teacher), teacher
    decoder_map, encoder_map = list(range(arch.depth("decoder"))), list(range(arch.depth("encoder")))
    if cfg.method == "nash" and cfg.decoder_layers is not None and cfg.selection != "l0":
        decoder_map = select_layers(len(decoder_map), cfg.decoder_layers, cfg.selection)
        student = keep_decoder_layers(student, decoder_map)
    if cfg.encoder_layers is not None:
        encoder_map = select_layers(len(encoder_map), cfg.encoder_layers, "uniform")
        student = keep_encoder_layers(student, encoder_map)
    return (copy.deepcopy(teacher) if student is teacher else student), decoder_map, encoder_map


def _constraints(student, cfg: PruneConfig) -> list[Constraint]:
    """The run's constraints; the first holds the width masks that compaction reads."""
    spec = METHODS[cfg.method]
    masks = PruningMasks(student, types=mask_types(cfg), parts=spec["parts"], droprate_init=cfg.droprate_init)
    out: list[Constraint] = [Sparsity(masks, spec["scope"], cfg.target_sparsity, cfg.warmup_steps)]
    if cfg.selection == "l0":  # learned selection: whole-layer masks, constrained to keep decoder_layers
        layers = PruningMasks(student, types=("layer",), parts=("decoder",))
        out.append(LayerCount(layers, cfg.decoder_layers, cfg.warmup_steps))
    return out


def _prepare(loop: Loop, student, constraints: list[Constraint], cfg: PruneConfig):
    """One AdamW with three groups (weights, masks, multipliers), handed to the loop with every module."""
    group = lambda params, lr: {"params": list(params), "lr": lr, "weight_decay": 0.0}  # noqa: E731
    optimizer = torch.optim.AdamW([
        group(student.parameters(), cfg.lr),
        group((p for c in constraints for p in c.masks.parameters()), cfg.mask_lr),
        group((p for c in constraints for p in c.lagrangian.parameters()), cfg.reg_lr),
    ])
    student, *modules = loop.prepare(student, *(m for c in constraints for m in (c.masks, c.lagrangian)),
                                     optimizer=optimizer)
    raw = loop.unwrap(student)
    for c, masks, lagrangian in zip(constraints, modules[::2], modules[1::2]):
        c.masks, c.lagrangian = loop.unwrap(masks), loop.unwrap(lagrangian)
        c.masks.model_ref = [raw]  # the hooks go on the model the loop trains
    return student, raw


def _step_fn(teacher, student, raw_student, constraints: list[Constraint], cfg: PruneConfig, maps, loop: Loop):
    """One pruning step's loss: distillation from the teacher plus every constraint's penalty."""
    decoder_map, encoder_map = maps

    def step_fn(step: int, data: dict):
        with torch.no_grad(), BlockOutputs(teacher) as t_blocks:
            t_logits = teacher(**data).logits  # (B, T_tgt, V)
        with loop.autocast(), BlockOutputs(raw_student) as s_blocks:
            s_logits = student(**data).logits  # (B, T_tgt, V)
            terms = distillation_loss(s_logits, t_logits, s_blocks, t_blocks, decoder_map=decoder_map,
                                      encoder_map=encoder_map, labels=data.get("labels"),
                                      attention_mask=data.get("attention_mask"), lambda_enc=cfg.lambda_enc,
                                      lambda_dec=cfg.lambda_dec, temperature=cfg.temperature)
        reg = sum(c.penalty(step) for c in constraints)
        return terms["loss"] + reg, {**terms, "reg": reg}  # the row's "loss" is the distillation loss

    return step_fn


def _after_step(constraints: list[Constraint]):
    def after(step: int) -> dict:
        for c in constraints:
            c.masks.clamp_()
        return {k: v for c in constraints for k, v in c.trace().items()}

    return after


def prune(teacher, batch: Callable[[int], dict], cfg: PruneConfig, run_root: str | os.PathLike, *,
          stop_after: int | None = None, progress: bool = True) -> PruneResult | None:
    """Prune a copy of ``teacher`` under ``cfg``; the run lives in :func:`run_folder` ``(cfg, run_root)``.

    ``stop_after`` ends the call after that many steps of this call (the checkpoint stays), as a
    killed run would; it then returns None. Calling again resumes.
    """
    run = Run(run_folder(cfg, run_root)).begin(cfg)
    loop = Loop(run.folder, steps=cfg.steps, seed=cfg.seed, checkpoint_every=cfg.checkpoint_every,
                mixed_precision=cfg.mixed_precision, desc=f"{cfg.method} pruning", progress=progress)
    teacher.eval()
    student, decoder_map, encoder_map = _student(teacher, cfg)
    constraints = _constraints(student, cfg)  # draws the masks' initial noise: after seeding, before training
    student, raw = _prepare(loop, student, constraints, cfg)
    teacher.to(loop.device)
    student.train()
    step_fn = _step_fn(teacher, student, raw, constraints, cfg, (decoder_map, encoder_map), loop)
    with contextlib.ExitStack() as hooks:
        for c in constraints:
            hooks.enter_context(c.masks.train())
        history = loop.run(batch, step_fn, stop_after=stop_after, after_step=[_after_step(constraints)],
                           show=("loss", "target", "expected_sparsity", "lambda_1"))
    if history is None:
        return None
    return _finish(teacher, raw, constraints, cfg, (decoder_map, encoder_map), history, run)


def _finish(teacher, student, constraints: list[Constraint], cfg: PruneConfig, maps, history: list[dict],
            run: Run) -> PruneResult:
    """Let each constraint settle the structure (learned layers), then report and compact."""
    decoder_map, encoder_map = maps
    student.eval()
    width = constraints[0].masks.eval()
    for c in constraints:
        student, decoder_map = c.finish(student, decoder_map)
    if width.model_ref[0] is not student:  # layers were removed: the width masks move to the new student
        state, width = width.state_dict(), PruningMasks(student, types=width.types, parts=width.parts)
        width.load_state_dict(state)
        width.eval()
    teacher_sizes = PruningMasks(teacher, types=(), parts=()).full_sizes()  # sparsity is against the teacher
    extras = {k: v for c in constraints for k, v in c.report().items()}
    report = PruneReport(method=cfg.method, selection=cfg.selection, target_sparsity=cfg.target_sparsity,
                         scope=METHODS[cfg.method]["scope"], decoder_map=decoder_map, encoder_map=encoder_map,
                         **width.sparsity_report(teacher_sizes), final=history[-1], **extras)
    model = compact(student, width)
    atomic_write_text(run.folder / "report.json", json.dumps(report.to_json(), indent=2))
    return PruneResult(model, student, width, decoder_map, report, history)
