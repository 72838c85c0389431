"""Fine-tuning on labelled batches (cross-entropy, optionally plus KL to a teacher), through :class:`Loop`.

Teachers are trained with it (from scratch or from a pretrained model), and compacted students are
fine-tuned with it after pruning.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from nashlib.env import atomic_write_bytes, atomic_write_text
from nashlib.training.loop import MIXED_PRECISION, SCHEDULES, Loop, check_mixed_precision
from nashlib.training.runs import Run, key

__all__ = ["FinetuneConfig", "finetune"]


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
    eval_every: int = 0  # early stopping: score the model every this many steps (0: train all ``steps``)
    patience: int = 0  # early stopping: stop after this many scores without a new best; the best is kept

    def __post_init__(self):
        def allowed(name, ok, what):
            if not ok:
                raise ValueError(f"FinetuneConfig: {name}={getattr(self, name)!r}; allowed: {what}")

        integer = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
        real = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
        allowed("steps", integer(self.steps) and self.steps >= 1, "an integer >= 1")
        allowed("lr", real(self.lr) and self.lr >= 0, "a finite number >= 0")
        allowed("distill_weight", real(self.distill_weight) and self.distill_weight >= 0, "a finite number >= 0")
        allowed("temperature", real(self.temperature) and self.temperature > 0, "a finite number > 0")
        allowed("seed", integer(self.seed) and self.seed >= 0, "an integer >= 0")
        allowed("checkpoint_every", integer(self.checkpoint_every) and self.checkpoint_every >= 0, "an integer >= 0")
        allowed("mixed_precision", self.mixed_precision in MIXED_PRECISION, ", ".join(map(repr, MIXED_PRECISION)))
        allowed("schedule", self.schedule in SCHEDULES, ", ".join(map(repr, SCHEDULES)))
        allowed("warmup_steps", integer(self.warmup_steps) and 0 <= self.warmup_steps < self.steps,
                "an integer from 0 to steps - 1")
        allowed("max_grad_norm", real(self.max_grad_norm) and self.max_grad_norm >= 0, "a number >= 0 (0: no clipping)")
        allowed("eval_every", integer(self.eval_every) and 0 <= self.eval_every <= self.steps,
                "an integer from 0 (no early stopping) to steps")
        allowed("patience", integer(self.patience) and (self.patience >= 1 if self.eval_every else self.patience == 0),
                "an integer >= 1 with eval_every, 0 without")


def _step_fn(model, teacher, cfg: FinetuneConfig, loop: Loop):
    from nashlib.pruning.distill import kl_logits

    def step_fn(step: int, data: dict):
        with loop.autocast():
            out = model(**data)
            loss, row = out.loss, {"ce": out.loss}
            if cfg.distill_weight > 0:
                with torch.no_grad():
                    t_logits = teacher(**data).logits  # (B, T_tgt, V)
                kl = kl_logits(out.logits, t_logits, data["labels"] != -100, cfg.temperature)
                loss = loss + cfg.distill_weight * kl
                row["kl"] = kl
        # a mean over target tokens: this process's share of the global batch's (exactly 1.0 in one process)
        return loss * loop.share(data["labels"] != -100), {**row, "loss": loss}

    return step_fn


class _Best:
    """Early stopping: every ``eval_every`` steps ``evaluate(model)`` (higher is better) is recorded in the
    history row as ``dev``; a score above the best so far copies the weights; ``patience`` scores in a row
    without one end training (:meth:`stop`), and :meth:`restore` loads the best copy. The copy, the best score
    and the count are written to ``best.pt`` at each checkpoint, so a restarted run continues exactly.
    """

    def __init__(self, model, evaluate: Callable, cfg: FinetuneConfig, folder: Path):
        self.model, self.evaluate, self.cfg, self.path = model, evaluate, cfg, folder / "best.pt"
        self.state = torch.load(self.path, weights_only=True) if self.path.exists() else None

    def after(self, step: int) -> dict | None:
        done, cfg, row = step + 1, self.cfg, None
        if done % cfg.eval_every == 0 or done == cfg.steps:
            self.model.eval()
            score = float(self.evaluate(self.model))
            self.model.train()
            if self.state is None or score > self.state["score"]:
                weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                self.state = {"step": done, "score": score, "weights": weights, "waited": 0}
            else:
                self.state["waited"] += 1
            row = {"dev": score}
        if cfg.checkpoint_every and done % cfg.checkpoint_every == 0 and self.state is not None:
            buffer = io.BytesIO()
            torch.save(self.state, buffer)
            atomic_write_bytes(self.path, buffer.getvalue())
        return row

    def stop(self) -> bool:
        return self.state is not None and self.state["waited"] >= self.cfg.patience

    def restore(self) -> None:
        if self.state is not None:
            self.model.load_state_dict(self.state["weights"])


def finetune(model, batch: Callable[[int], dict], cfg: FinetuneConfig, run_root: str | os.PathLike, *,
             teacher=None, evaluate: Callable | None = None, stop_after: int | None = None,
             progress: bool = True) -> list[dict] | None:
    """Fine-tune ``model`` in place; the run (checkpoints, history) lives in ``run_root/finetune-<key>``.

    Loss: cross-entropy on ``labels``, plus ``distill_weight`` times the KL to ``teacher``'s logits.
    With ``cfg.eval_every``, ``evaluate(model) -> float`` (higher is better, on rows held out from training)
    scores it every that many steps, training stops after ``cfg.patience`` scores without a new best, and
    the model ends with the best-scoring weights (:class:`_Best`; the history's rows carry ``dev``).
    Returns the history (one row per step), or None when ``stop_after`` ended the call early; calling
    again resumes.
    """
    if cfg.distill_weight > 0 and teacher is None:
        raise ValueError(f"distill_weight={cfg.distill_weight} needs a teacher; pass teacher=...")
    if bool(cfg.eval_every) != (evaluate is not None):
        raise ValueError(f"eval_every={cfg.eval_every} needs evaluate=... (and evaluate needs eval_every > 0)")
    check_mixed_precision(cfg.mixed_precision)  # before the run folder is made
    run = Run(Path(run_root) / f"finetune-{key(cfg)}").begin(cfg)
    loop = Loop(run.folder, steps=cfg.steps, seed=cfg.seed, checkpoint_every=cfg.checkpoint_every,
                mixed_precision=cfg.mixed_precision, max_grad_norm=cfg.max_grad_norm, schedule=cfg.schedule,
                warmup_steps=cfg.warmup_steps, desc="fine-tuning", progress=progress)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    prepared, = loop.prepare(model, optimizer=optimizer)
    if teacher is not None:
        teacher.to(loop.device).eval()
    prepared.train()
    best = _Best(loop.unwrap(prepared), evaluate, cfg, run.folder) if evaluate is not None else None
    history = loop.run(batch, _step_fn(prepared, teacher, cfg, loop), stop_after=stop_after,
                       after_step=[best.after] if best else (), until=best.stop if best else None)
    if history is None:
        return None
    if best:
        best.restore()
    loop.unwrap(prepared).eval()
    atomic_write_text(run.folder / "history.json", json.dumps(history))
    return history
