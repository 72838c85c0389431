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

The controller: each constraint's target rises linearly from 0 over ``warmup_steps`` (the paper warms up
over 16 of 20 epochs, 80 %) and the penalty is ``l1 (s - t) + l2 (s - t)^2`` with ``l1, l2`` learned by
gradient ascent at ``reg_lr`` (the released code's ``lagrangian_regularization``). The report compares
the *deterministic* sparsity of the constrained scope (``reached``, what compaction keeps) with the target:
a run further than ``tolerance`` is marked ``missed``. Every step's target, expected and deterministic
sparsity, multipliers and loss terms are in the history (the student's trace).

Which step's masks a run keeps (``select``): ``"last"``, the final step's (the paper's text says no more), or
``"at_target"``: of the checked steps (every ``select_every`` steps after the warm-up; by default every
step) at which every constraint's deterministic value is within ``tolerance`` of its target, the one closest
to it (the later on a tie). The released code also selects: it
evaluates every ``eval_steps`` and, once the expected sparsity has reached the target (or after 15 of 20
epochs), saves the best-scoring checkpoint as the result. Ours needs no validation rows (the rows every
model is scored on must not choose the model), only the target. Measured on the cpu generation teacher, the
controller (Adam on the multipliers at reg_lr 0.01, on the masks at mask_lr) ends in an oscillation around
the target whose period is hundreds of steps (amplitude about 0.01-0.05 after 500-2000 steps), so the last
step's masks land wherever the cycle is; the oscillation crosses the target, and ``"at_target"`` keeps such a
step. A run that never got within ``tolerance`` keeps its last step and is ``missed``; ``selected_step`` in
the report says which step it kept.

Paper text or released code, one named switch each (the defaults, which every notebook uses, are the
paper's text; ``mask_init`` and ``eval_mask`` follow the released code, see ``nashlib.pruning.masks``):

- ``distill``: ``"paper"`` KL(student || teacher) at T = 1, weight 1 (Section 4.3); ``"released"``
  0.5 * T^2 * KL(teacher || student) at T = 2 (the released ``calculate_distillation_loss``); ``"none"``
  cross-entropy on the labels and no layer loss: what the released training step really optimises (it
  comments the distillation out and forces the layer loss to 0). See ``nashlib.pruning.distill.DISTILL``.
- ``layer_loss``: the hidden-state MSE terms (``lambda_enc``, ``lambda_dec``) on or off;
- ``high_bias``: when the kept decoder layers exclude layer 0 (``selection="high"``), ``"move"`` its
  position-bias table into the new first layer (better, this library's default) or ``"zero"``: no
  position bias, as the released code's rebuilt blocks, which is what the paper's Table 3 measured.

Every field is checked when a :class:`PruneConfig` is made; layer counts against the teacher's depth at
the start of :func:`prune`, before the run folder exists.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from nashlib.arch import arch_of
from nashlib.env import atomic_write_bytes, atomic_write_text
from nashlib.pruning.compact import compact
from nashlib.pruning.constraints import Constraint, LayerCount, Sparsity
from nashlib.pruning.distill import DISTILL, BlockOutputs, distillation_loss
from nashlib.pruning.layers import STRATEGIES, keep_decoder_layers, keep_encoder_layers, select_layers
from nashlib.pruning.masks import PruningMasks
from nashlib.training.loop import MIXED_PRECISION, Loop, check_mixed_precision
from nashlib.training.runs import CorruptCheckpoint, Record, Run, key

__all__ = ["PruneConfig", "PruneReport", "PruneResult", "prune", "run_folder", "METHODS", "mask_types"]

METHODS = {
    "nash": dict(types=("heads", "ffn_units"), parts=("encoder",), scope="encoder"),
    "cofi": dict(types=("heads", "ffn_units", "mha_layer", "ffn_layer", "hidden"), parts=("encoder", "decoder"),
                 scope="model"),
}
# Figure 2's sweeps (Section 3): CoFi-T5 on one part alone, constrained to that part's sparsity, with its
# sub-layer masks (depth: whole attention / FFN sub-layers removed) or with head and unit masks only (width)
_DEPTH, _WIDTH = ("heads", "ffn_units", "mha_layer", "ffn_layer"), ("heads", "ffn_units")
METHODS.update({f"cofi-{part}{suffix}": dict(types=types, parts=(part,), scope=part)
                for part in ("encoder", "decoder") for suffix, types in (("", _DEPTH), ("-width", _WIDTH))})


MASK_INITS, EVAL_MASKS, HIGH_BIAS = ("released", "droprate"), ("per_layer", "global"), ("move", "zero")
SELECTS = ("last", "at_target")
SELECTED = "selected.pt"  # the latest at-target snapshot of a run with select="at_target" (survives a restart)


def _allowed(name: str, value, ok: bool, allowed: str) -> None:
    """Raise the one error format of a bad field: its name, its value, what is allowed."""
    if not ok:
        raise ValueError(f"PruneConfig: {name}={value!r}; allowed: {allowed}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class PruneConfig:
    method: str = "nash"  # "nash", "cofi", or CoFi-T5 on one part: "cofi-encoder[-width]", "cofi-decoder[-width]"
    target_sparsity: float = 0.3  # of the encoder (nash), of the whole model (cofi), of the part (cofi-<part>)
    decoder_layers: int | None = 3  # nash: decoder layers kept; None keeps all (cofi ignores it)
    selection: str = "uniform"  # nash: uniform | uniform-paper | low | high | l0 (learned layer masks)
    encoder_layers: int | None = None  # nash: keep this many encoder layers, chosen uniformly (Table 4); None: all
    steps: int = 200  # optimizer steps
    warmup_steps: int = 160  # steps over which the target sparsity rises linearly from 0 (the paper: 80 %)
    lr: float = 3e-5  # AdamW learning rate of the model weights
    mask_lr: float = 0.01  # learning rate of the masks' log_alpha
    reg_lr: float = 0.01  # learning rate of the Lagrange multipliers (gradient ascent)
    lambda_enc: float = 1e-3  # weight of the encoder hidden-state MSE (the layer loss)
    lambda_dec: float = 1e-3  # weight of the decoder hidden-state MSE (the layer loss)
    temperature: float | None = None  # distillation temperature; None: the ``distill`` variant's (1 or 2)
    droprate_init: float = 0.5  # initial drop rate of head and unit masks (mask_init="droprate")
    seed: int = 0  # seeds the masks' noise, dropout and mask sampling
    checkpoint_every: int = 50  # steps between checkpoints (0: none)
    mixed_precision: str = "no"  # accelerate's setting: no | fp16 | bf16
    mask_init: str = "released"  # PruningMasks(init=...): "released" (the released code's) | "droprate"
    eval_mask: str = "per_layer"  # PruningMasks(deterministic=...): zeros counted "per_layer" (released) | "global"
    distill: str = "paper"  # logit distillation: "paper" | "released" | "none" (see DISTILL)
    layer_loss: bool = True  # the hidden-state MSE terms; distill="none" has none (set to False)
    high_bias: str = "move"  # when layer 0 is dropped: "move" its position-bias table | "zero" (released)
    tolerance: float = 0.01  # a run whose deterministic sparsity ends further from the target is *missed*
    select: str = "last"  # which masks and weights the run ends with: "last" step's | closest "at_target" step
    select_every: int = 1  # select="at_target": steps between the checks, after the warm-up

    def __post_init__(self):
        _allowed("method", self.method, self.method in METHODS, ", ".join(map(repr, METHODS)))
        _allowed("target_sparsity", self.target_sparsity, _is_real(self.target_sparsity) and
                 0 <= self.target_sparsity < 1, "0 <= target < 1")
        strategies = STRATEGIES + ("l0",)
        _allowed("selection", self.selection, self.selection in strategies, ", ".join(map(repr, strategies)))
        for name in ("decoder_layers", "encoder_layers"):
            v = getattr(self, name)
            _allowed(name, v, v is None or _is_int(v) and v >= 1,
                     "None or an integer >= 1 (at most the teacher's layers, checked by prune)")
        if self.selection == "l0" and (self.method != "nash" or self.decoder_layers is None):
            raise ValueError("PruneConfig: selection='l0' learns which decoder layers NASH keeps: it needs "
                             "method='nash' and decoder_layers set")
        _allowed("encoder_layers", self.encoder_layers, self.encoder_layers is None or self.method == "nash",
                 f"None with method={self.method!r}")
        _allowed("steps", self.steps, _is_int(self.steps) and self.steps >= 1, "an integer >= 1")
        _allowed("warmup_steps", self.warmup_steps, _is_int(self.warmup_steps) and 0 <= self.warmup_steps <=
                 self.steps, f"an integer from 0 to steps={self.steps!r}")
        _allowed("checkpoint_every", self.checkpoint_every, _is_int(self.checkpoint_every) and
                 self.checkpoint_every >= 0, "an integer >= 0")
        _allowed("seed", self.seed, _is_int(self.seed) and self.seed >= 0, "an integer >= 0")
        for name in ("lr", "mask_lr", "reg_lr", "lambda_enc", "lambda_dec"):
            v = getattr(self, name)
            _allowed(name, v, _is_real(v) and v >= 0, "a finite number >= 0")
        _allowed("temperature", self.temperature, self.temperature is None or _is_real(self.temperature) and
                 self.temperature > 0, "None or a finite number > 0")
        _allowed("droprate_init", self.droprate_init, _is_real(self.droprate_init) and
                 0 < self.droprate_init < 1, "0 < droprate_init < 1")
        _allowed("tolerance", self.tolerance, _is_real(self.tolerance) and 0 < self.tolerance < 1,
                 "0 < tolerance < 1")
        _allowed("select_every", self.select_every, _is_int(self.select_every) and self.select_every >= 1,
                 "an integer >= 1")
        for name, options in (("mixed_precision", MIXED_PRECISION), ("mask_init", MASK_INITS),
                              ("eval_mask", EVAL_MASKS), ("distill", tuple(DISTILL)), ("high_bias", HIGH_BIAS),
                              ("select", SELECTS)):
            v = getattr(self, name)
            _allowed(name, v, v in options, ", ".join(map(repr, options)))
        _allowed("layer_loss", self.layer_loss, isinstance(self.layer_loss, bool), "True or False")
        if self.distill == "none":  # the released code's effective objective: no layer loss either
            object.__setattr__(self, "layer_loss", False)

    def check_teacher(self, teacher) -> None:
        """Layer counts against ``teacher``'s depth: called by :func:`prune` before its folder is made."""
        arch = arch_of(teacher)
        for name, part in (("decoder_layers", "decoder"), ("encoder_layers", "encoder")):
            v, depth = getattr(self, name), arch.depth(part)
            if v is not None and v > depth and not (name == "decoder_layers" and self.method != "nash"):
                raise ValueError(f"PruneConfig: {name}={v}; allowed: None or 1 to {depth}, the teacher's "
                                 f"{part} layers")


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
    reached: float  # the deterministic sparsity of the scope the constraint measures (what compaction keeps)
    tolerance: float
    missed: bool  # |reached - target_sparsity| > tolerance
    final: dict[str, float]  # the last history row: loss terms, targets, multipliers
    decoder_layers_kept: list[int] | None = None  # learned selection (selection="l0") only
    decoder_layers_target: int | None = None
    decoder_layers_hit_target: bool | None = None
    selected_step: int | None = None  # the step whose masks and weights the run kept (None: the last, select="last")


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
        student = keep_decoder_layers(student, decoder_map, position_bias=cfg.high_bias)
    if cfg.encoder_layers is not None:
        encoder_map = select_layers(len(encoder_map), cfg.encoder_layers, "uniform")
        student = keep_encoder_layers(student, encoder_map)
    return (copy.deepcopy(teacher) if student is teacher else student), decoder_map, encoder_map


def _mask_options(cfg: PruneConfig) -> dict:
    return dict(droprate_init=cfg.droprate_init, init=cfg.mask_init, deterministic=cfg.eval_mask)


def _constraints(student, cfg: PruneConfig) -> list[Constraint]:
    """The run's constraints; the first holds the width masks that compaction reads."""
    spec = METHODS[cfg.method]
    masks = PruningMasks(student, types=mask_types(cfg), parts=spec["parts"], **_mask_options(cfg))
    out: list[Constraint] = [Sparsity(masks, spec["scope"], cfg.target_sparsity, cfg.warmup_steps)]
    if cfg.selection == "l0":  # learned selection: whole-layer masks, constrained to keep decoder_layers
        layers = PruningMasks(student, types=("layer",), parts=("decoder",), **_mask_options(cfg))
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
    """One pruning step's loss: the ``distill`` variant's objective plus every constraint's penalty."""
    decoder_map, encoder_map = maps
    kd = DISTILL[cfg.distill]  # None: cross-entropy on the labels only (the released code's effective objective)
    layer_weight = 1.0 if cfg.layer_loss else 0.0  # without the layer loss its terms are traced, not trained

    def step_fn(step: int, data: dict):
        target_share = loop.share(data["labels"] != -100)  # 1.0 in one process (Loop.share)
        if kd is None:
            with loop.autocast():
                ce = student(**data).loss
            terms = {"loss": ce * target_share, "ce": ce}
        else:
            with torch.no_grad(), BlockOutputs(teacher) as t_blocks:
                t_logits = teacher(**data).logits  # (B, T_tgt, V)
            with loop.autocast(), BlockOutputs(raw_student) as s_blocks:
                s_logits = student(**data).logits  # (B, T_tgt, V)
                terms = distillation_loss(
                    s_logits, t_logits, s_blocks, t_blocks, decoder_map=decoder_map, encoder_map=encoder_map,
                    labels=data.get("labels"), attention_mask=data.get("attention_mask"),
                    lambda_enc=cfg.lambda_enc * layer_weight, lambda_dec=cfg.lambda_dec * layer_weight,
                    temperature=cfg.temperature or kd.temperature, direction=kd.direction, kl_weight=kd.weight,
                    shares=(target_share, loop.share(data["attention_mask"])))
        reg = sum(c.penalty(step) for c in constraints)
        return terms["loss"] + reg, {**terms, "reg": reg}  # the row's "loss" is the objective without R

    return step_fn


def _after_step(constraints: list[Constraint]):
    """Clamp the masks; the trace row: each constraint's target, expected and deterministic value, multipliers."""
    def after(step: int) -> dict:
        for c in constraints:
            c.masks.clamp_()
        return {k: v for c in constraints for k, v in c.trace().items()}

    return after


class _AtTarget:
    """``select="at_target"``: keep the checked step whose deterministic values are closest to their targets.

    After the warm-up, every ``select_every`` steps (and at the last step), every constraint's deterministic
    value (what compaction would keep) is compared with its target; a step where all are within
    ``tolerance`` and the largest gap is no larger than the best so far is copied (student weights and
    masks; on a tie the later step wins). At each checkpoint a copy taken since the last one is written to
    ``selected.pt`` in the run folder, so a restarted run continues from it. :meth:`restore` loads the copy
    at the end. The released code does the like: it starts saving its best checkpoint only once the target
    is reached (and then chooses by the validation score; this chooses by the target alone).
    """

    def __init__(self, raw, constraints: list[Constraint], cfg: PruneConfig, folder: Path):
        self.raw, self.constraints, self.cfg, self.path = raw, constraints, cfg, folder / SELECTED
        self.state, self.unsaved = self._read(), False  # a restarted run resumes from its last written copy

    def gap(self) -> float:
        return max(abs(c.deterministic() - c.target) for c in self.constraints)

    def after(self, step: int) -> None:
        done, cfg = step + 1, self.cfg
        if done >= cfg.warmup_steps and (done % cfg.select_every == 0 or done == cfg.steps):
            gap = self.gap()
            if gap <= cfg.tolerance and (self.state is None or gap <= self.state["gap"]):
                clone = lambda sd: {k: v.detach().clone() for k, v in sd.items()}  # noqa: E731
                self.state = {"step": done, "gap": gap, "student": clone(self.raw.state_dict()),
                              "masks": [clone(c.masks.state_dict()) for c in self.constraints]}
                self.unsaved = True
        if self.unsaved and cfg.checkpoint_every and done % cfg.checkpoint_every == 0:
            buffer = io.BytesIO()
            torch.save(self.state, buffer)
            atomic_write_bytes(self.path, buffer.getvalue())
            self.unsaved = False
        return None

    def restore(self) -> int:
        """Load the kept copy (if any); the step whose weights and masks the run keeps."""
        if self.state is None:
            return self.cfg.steps
        self.raw.load_state_dict(self.state["student"])
        for c, masks in zip(self.constraints, self.state["masks"]):
            c.masks.load_state_dict(masks)
        return int(self.state["step"])

    def _read(self):
        if not self.path.exists():
            return None
        try:
            return torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable file is reported with its path
            raise CorruptCheckpoint(f"{self.path}: the at-target snapshot cannot be read ({err}); delete the run "
                                    "folder to prune again") from err


def prune(teacher, batch: Callable[[int], dict], cfg: PruneConfig, run_root: str | os.PathLike, *,
          stop_after: int | None = None, progress: bool = True) -> PruneResult | None:
    """Prune a copy of ``teacher`` under ``cfg``; the run lives in :func:`run_folder` ``(cfg, run_root)``.

    ``stop_after`` ends the call after that many steps of this call (the checkpoint stays), as a
    killed run would; it then returns None. Calling again resumes.
    """
    cfg.check_teacher(teacher)  # before the run folder is made
    check_mixed_precision(cfg.mixed_precision)
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
    selector = _AtTarget(raw, constraints, cfg, run.folder) if cfg.select == "at_target" else None
    after = [_after_step(constraints)] + ([selector.after] if selector else [])
    with contextlib.ExitStack() as hooks:
        for c in constraints:
            hooks.enter_context(c.masks.train())
        history = loop.run(batch, step_fn, stop_after=stop_after, after_step=after,
                           show=("loss", "target", "expected_sparsity", "deterministic_sparsity", "lambda_1"))
    if history is None:
        return None
    selected = selector.restore() if selector else None
    return _finish(teacher, raw, constraints, cfg, (decoder_map, encoder_map), history, run, selected)


def _finish(teacher, student, constraints: list[Constraint], cfg: PruneConfig, maps, history: list[dict],
            run: Run, selected: int | None = None) -> PruneResult:
    """Let each constraint settle the structure (learned layers), then report and compact."""
    decoder_map, encoder_map = maps
    student.eval()
    width = constraints[0].masks.eval()
    for c in constraints:
        student, decoder_map = c.finish(student, decoder_map)
    reached = constraints[0].deterministic()  # on the masks' own model: the scope the constraint measured
    if width.model_ref[0] is not student:  # layers were removed: the width masks move to the new student
        state = width.state_dict()
        width = PruningMasks(student, types=width.types, parts=width.parts, **_mask_options(cfg))
        width.load_state_dict(state)
        width.eval()
    teacher_sizes = PruningMasks(teacher, types=(), parts=()).full_sizes()  # sparsity is against the teacher
    extras = {k: v for c in constraints for k, v in c.report().items()}
    report = PruneReport(method=cfg.method, selection=cfg.selection, target_sparsity=cfg.target_sparsity,
                         scope=METHODS[cfg.method]["scope"], decoder_map=decoder_map, encoder_map=encoder_map,
                         **width.sparsity_report(teacher_sizes), reached=reached, tolerance=cfg.tolerance,
                         missed=abs(reached - cfg.target_sparsity) > cfg.tolerance, final=history[-1],
                         selected_step=selected, **extras)
    model = compact(student, width)
    atomic_write_text(run.folder / "report.json", json.dumps(report.to_json(), indent=2))
    return PruneResult(model, student, width, decoder_map, report, history)
