"""NASH and CoFi-T5 end to end: select decoder layers, prune with L0 masks while distilling, compact.

The training loop runs on ``accelerate`` (device placement, mixed precision, multi-GPU, and the
checkpoint of model, optimizer, RNG states, masks and multipliers). A run writes a checkpoint every
``checkpoint_every`` steps into its run folder (atomically: a half-written checkpoint is never taken
for a finished one) and, started again with the same configuration, resumes from it; killed and
resumed, it ends with the same masks as an uninterrupted run.

Data is a function ``batch(step) -> dict`` of tensors (``input_ids``, ``attention_mask``, ``labels``),
so that the batch at a step does not depend on how many times the run was interrupted.

NASH (Section 4): the student keeps ``decoder_layers`` teacher decoder layers chosen by ``selection``;
L0 masks on the *encoder's* heads and FFN units; the Lagrangian constrains the encoder's sparsity.
CoFi-T5 (the baseline): masks of every type (heads, FFN units, whole attention and FFN sublayers,
hidden dimensions) on encoder and decoder; the Lagrangian constrains the whole model. Simplification:
CoFi's dynamic layer-distillation alignment is replaced by matching each student layer with the
teacher layer at the same position (the student starts as a copy of the teacher, so the positions
coincide until layer masks close a layer).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from .compact import compact
from .distill import BlockOutputs, distillation_loss
from .env import atomic_write_text
from .l0 import Lagrangian, target_schedule
from .select import STRATEGIES, keep_decoder_layers, keep_encoder_layers, select_layers
from .sites import PruningMasks

__all__ = ["PruneConfig", "PruneResult", "prune", "METHODS", "mask_types", "FinetuneConfig", "finetune"]

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
        for key in ("steps", "warmup_steps", "checkpoint_every"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < (1 if key == "steps" else 0):
                raise ValueError(f"{key}={value!r}; allowed: an integer >= {1 if key == 'steps' else 0}")

    def key(self) -> str:
        """A short hash of every field: the run folder's name, so a changed setting never resumes an old run."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class PruneResult:
    model: torch.nn.Module  # the compacted model
    student: torch.nn.Module  # the masked student (dense weights), for inspection
    masks: PruningMasks
    decoder_map: list[int]  # teacher decoder layer behind each student layer
    report: dict  # sparsities, final loss terms
    history: list[dict]  # one row per step


def _decoder_depth(model) -> int:
    return model.config.num_decoder_layers if model.config.model_type == "t5" else model.config.decoder_layers


def _encoder_depth(model) -> int:
    return model.config.num_layers if model.config.model_type == "t5" else model.config.encoder_layers


def _student(teacher, cfg: PruneConfig):
    """The student before pruning: a copy of the teacher, with the selected layers only; and its layer maps."""
    import copy

    L, student = _decoder_depth(teacher), teacher
    decoder_map, encoder_map = list(range(L)), list(range(_encoder_depth(teacher)))
    if cfg.method == "nash" and cfg.decoder_layers is not None and cfg.selection != "l0":
        decoder_map = select_layers(L, cfg.decoder_layers, cfg.selection)
        student = keep_decoder_layers(student, decoder_map)
    if cfg.encoder_layers is not None:
        encoder_map = select_layers(len(encoder_map), cfg.encoder_layers, "uniform")
        student = keep_encoder_layers(student, encoder_map)
    return (copy.deepcopy(teacher) if student is teacher else student), decoder_map, encoder_map


def mask_types(cfg: PruneConfig) -> tuple[str, ...]:
    """The mask types a run learns: its method's, or none for NASH at encoder target 0 (layer selection only)."""
    if cfg.method == "nash" and cfg.target_sparsity == 0:
        return ()
    return METHODS[cfg.method]["types"]


def _save_checkpoint(acc, run_dir: Path, step: int, history: list[dict]) -> None:
    final, tmp, old = run_dir / "checkpoint", run_dir / "checkpoint.tmp", run_dir / "checkpoint.old"
    shutil.rmtree(tmp, ignore_errors=True)
    acc.save_state(str(tmp), safe_serialization=False)  # T5 ties tensors
    atomic_write_text(tmp / "progress.json", json.dumps({"step": step, "history": history}))
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def prune(teacher, batch: Callable[[int], dict], cfg: PruneConfig, run_root: str | os.PathLike, *,
          stop_after: int | None = None, progress: bool = True) -> PruneResult | None:
    """Prune a copy of ``teacher`` under ``cfg``; the run lives in ``run_root/<method>-<cfg.key()>``.

    ``stop_after`` ends the call after that many steps of this call (the checkpoint stays), as a
    killed run would; it then returns None. Calling again resumes.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm import tqdm

    run_dir = Path(run_root) / f"{cfg.method}-{cfg.key()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.json", json.dumps(dataclasses.asdict(cfg), indent=2))
    set_seed(cfg.seed)
    spec = METHODS[cfg.method]
    teacher.eval()
    student, decoder_map, encoder_map = _student(teacher, cfg)
    masks = PruningMasks(student, types=mask_types(cfg), parts=spec["parts"], droprate_init=cfg.droprate_init)
    lagrangian = Lagrangian()
    learn_layers = cfg.selection == "l0" and cfg.method == "nash"
    # learned selection: a second mask set (whole decoder layers) and a second constraint on their number
    layer_masks = PruningMasks(student, types=("layer",), parts=("decoder",)) if learn_layers else None
    layer_lagrangian = Lagrangian() if learn_layers else None
    extra = [layer_masks, layer_lagrangian] if learn_layers else []
    optimizer = torch.optim.AdamW([
        {"params": list(student.parameters()), "lr": cfg.lr, "weight_decay": 0.0},
        {"params": list(masks.parameters()) + (list(layer_masks.parameters()) if learn_layers else []),
         "lr": cfg.mask_lr, "weight_decay": 0.0},
        {"params": list(lagrangian.parameters()) + (list(layer_lagrangian.parameters()) if learn_layers else []),
         "lr": cfg.reg_lr, "weight_decay": 0.0},
    ])
    acc = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=cfg.mixed_precision)
    student, masks, lagrangian, optimizer, *extra = acc.prepare(student, masks, lagrangian, optimizer, *extra)
    teacher.to(acc.device)
    raw_student, raw_masks = acc.unwrap_model(student), acc.unwrap_model(masks)
    raw_masks.model_ref = [raw_student]
    raw_layers = acc.unwrap_model(extra[0]) if learn_layers else None
    if learn_layers:
        raw_layers.model_ref = [raw_student]
        L = _decoder_depth(teacher)

    start, history = 0, []
    if (run_dir / "checkpoint" / "progress.json").exists():
        acc.load_state(str(run_dir / "checkpoint"))
        saved = json.loads((run_dir / "checkpoint" / "progress.json").read_text())
        start, history = saved["step"], saved["history"]

    student.train()
    masks.train()
    steps = range(start, cfg.steps)
    bar = tqdm(steps, desc=f"{cfg.method} pruning", initial=start, total=cfg.steps, disable=not progress)
    done_here = 0
    with contextlib.ExitStack() as hooks:
        hooks.enter_context(raw_masks)
        if learn_layers:
            hooks.enter_context(raw_layers)
        for step in bar:
            data = {k: v.to(acc.device) for k, v in batch(step).items()}
            with torch.no_grad(), BlockOutputs(teacher) as t_blocks:
                t_logits = teacher(**data).logits
            with acc.autocast(), BlockOutputs(raw_student) as s_blocks:
                s_logits = student(**data).logits
                terms = distillation_loss(s_logits, t_logits, s_blocks, t_blocks, decoder_map=decoder_map,
                                          encoder_map=encoder_map,
                                          labels=data.get("labels"), attention_mask=data.get("attention_mask"),
                                          lambda_enc=cfg.lambda_enc, lambda_dec=cfg.lambda_dec,
                                          temperature=cfg.temperature)
            target = target_schedule(step, target=cfg.target_sparsity, warmup_steps=cfg.warmup_steps)
            expected = raw_masks.expected_sparsity(spec["scope"])
            reg = lagrangian(expected, target)
            if learn_layers:  # the share of decoder layers dropped warms up to 1 - d_s / L like the sparsity
                layer_target = target_schedule(step, target=1 - cfg.decoder_layers / L, warmup_steps=cfg.warmup_steps)
                reg = reg + extra[1](1 - raw_layers.expected_layers("decoder") / L, layer_target)
            loss = terms["loss"] + reg
            acc.backward(loss)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            raw_masks.clamp_()
            if learn_layers:
                raw_layers.clamp_()
            row = {"step": step + 1, "target": target, "expected_sparsity": float(expected.detach()),
                   "reg": float(reg.detach()),
                   "lambda_1": float(acc.unwrap_model(lagrangian).lambda_1.detach()),
                   "lambda_2": float(acc.unwrap_model(lagrangian).lambda_2.detach()),
                   **{k: float(v.detach()) for k, v in terms.items()}}
            if learn_layers:
                row["expected_decoder_layers"] = float(raw_layers.expected_layers("decoder"))
            history.append(row)
            bar.set_postfix(loss=f"{row['loss']:.3f}", target=f"{target:.3f}", sparsity=f"{row['expected_sparsity']:.3f}",
                            l1=f"{row['lambda_1']:.3f}")
            done_here += 1
            if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
                _save_checkpoint(acc, run_dir, step + 1, history)
            if stop_after is not None and done_here >= stop_after and step + 1 < cfg.steps:
                return None
    raw_student.eval()
    raw_masks.eval()
    layer_report = {}
    if learn_layers:  # keep the layers whose (binary) evaluation mask is open, then move the width masks over
        z = raw_layers.deterministic()["decoder_layer"]
        kept = torch.nonzero(z > 0).flatten().tolist() or [int(raw_layers.masks["decoder_layer"].log_alpha.argmax())]
        layer_report = {"decoder_layers_kept": kept, "decoder_layers_target": cfg.decoder_layers,
                        "decoder_layers_hit_target": len(kept) == cfg.decoder_layers}
        raw_student = keep_decoder_layers(raw_student, kept)
        state = raw_masks.state_dict()
        raw_masks = PruningMasks(raw_student, types=mask_types(cfg), parts=spec["parts"])
        raw_masks.load_state_dict(state)
        raw_masks.eval()
        decoder_map = kept
    teacher_sizes = PruningMasks(teacher, types=(), parts=()).full_sizes()  # sparsity is against the teacher
    report = {"method": cfg.method, "selection": cfg.selection, "target_sparsity": cfg.target_sparsity,
              "scope": spec["scope"], "decoder_map": decoder_map, "encoder_map": encoder_map, **layer_report,
              **raw_masks.sparsity_report(teacher_sizes), "final": history[-1] if history else {}}
    model = compact(raw_student, raw_masks)
    atomic_write_text(run_dir / "report.json", json.dumps(report, indent=2))
    return PruneResult(model, raw_student, raw_masks, decoder_map, report, history)


@dataclass(frozen=True)
class FinetuneConfig:
    steps: int = 200  # optimizer steps
    lr: float = 3e-5  # AdamW learning rate
    distill_weight: float = 0.0  # weight of KL to the teacher's logits beside cross-entropy (0: labels only)
    temperature: float = 1.0  # distillation temperature
    seed: int = 0  # seeds dropout
    checkpoint_every: int = 50  # steps between checkpoints (0: none)
    mixed_precision: str = "no"  # accelerate's setting
    schedule: str = "constant"  # learning rate: "constant", or "linear" (warm-up, then linear decay to 0)
    warmup_steps: int = 0  # "linear": steps of linear warm-up from 0
    max_grad_norm: float = 0.0  # clip the gradients' global norm to this (0: no clipping)

    def __post_init__(self):
        if not isinstance(self.max_grad_norm, (int, float)) or self.max_grad_norm < 0:
            raise ValueError(f"max_grad_norm={self.max_grad_norm!r}; allowed: a number >= 0 (0: no clipping)")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps={self.steps!r}; allowed: an integer >= 1")
        if not self.distill_weight >= 0:
            raise ValueError(f"distill_weight={self.distill_weight!r}; allowed: >= 0")
        if self.schedule not in ("constant", "linear"):
            raise ValueError(f"schedule={self.schedule!r}; allowed: 'constant', 'linear'")
        if not isinstance(self.warmup_steps, int) or not 0 <= self.warmup_steps < self.steps:
            raise ValueError(f"warmup_steps={self.warmup_steps!r}; allowed: an integer from 0 to steps - 1")

    def lr_factor(self, step: int) -> float:
        """The learning rate at ``step`` as a fraction of ``lr``."""
        if self.schedule == "constant":
            return 1.0
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        return max(0.0, (self.steps - step) / (self.steps - self.warmup_steps))

    def key(self) -> str:
        fields = dataclasses.asdict(self)
        if not self.max_grad_norm:  # added later: enters the key only when set, so earlier runs still resume
            del fields["max_grad_norm"]
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def finetune(model, batch: Callable[[int], dict], cfg: FinetuneConfig, run_root: str | os.PathLike, *,
             teacher=None, stop_after: int | None = None, progress: bool = True) -> list[dict] | None:
    """Fine-tune ``model`` (e.g. a compacted one) in place on labelled batches; resumable like :func:`prune`.

    Loss: cross-entropy on ``labels``, plus ``distill_weight`` times the KL to ``teacher``'s logits.
    Returns the history, or None when ``stop_after`` ended the call early.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm import tqdm

    from .distill import kl_logits

    if cfg.distill_weight > 0 and teacher is None:
        raise ValueError(f"distill_weight={cfg.distill_weight} needs a teacher; pass teacher=...")
    run_dir = Path(run_root) / f"finetune-{cfg.key()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.json", json.dumps(dataclasses.asdict(cfg), indent=2))
    set_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cfg.lr_factor)
    acc = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=cfg.mixed_precision)
    model, optimizer, scheduler = acc.prepare(model, optimizer, scheduler)  # the scheduler is checkpointed too
    if teacher is not None:
        teacher.to(acc.device).eval()
    start, history = 0, []
    if (run_dir / "checkpoint" / "progress.json").exists():
        acc.load_state(str(run_dir / "checkpoint"))
        saved = json.loads((run_dir / "checkpoint" / "progress.json").read_text())
        start, history = saved["step"], saved["history"]
    model.train()
    bar = tqdm(range(start, cfg.steps), desc="fine-tuning", initial=start, total=cfg.steps, disable=not progress)
    for done, step in enumerate(bar, 1):
        data = {k: v.to(acc.device) for k, v in batch(step).items()}
        with acc.autocast():
            out = model(**data)
            loss = out.loss
            row = {"step": step + 1, "ce": float(out.loss.detach())}
            if cfg.distill_weight > 0:
                with torch.no_grad():
                    t_logits = teacher(**data).logits
                kl = kl_logits(out.logits, t_logits, data["labels"] != -100, cfg.temperature)
                loss = loss + cfg.distill_weight * kl
                row["kl"] = float(kl.detach())
        acc.backward(loss)
        if cfg.max_grad_norm:
            acc.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        row["loss"] = float(loss.detach())
        history.append(row)
        bar.set_postfix(loss=f"{row['loss']:.3f}")
        if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
            _save_checkpoint(acc, run_dir, step + 1, history)
        if stop_after is not None and done >= stop_after and step + 1 < cfg.steps:
            return None
    acc.unwrap_model(model).eval()
    atomic_write_text(run_dir / "history.json", json.dumps(history))
    return history
