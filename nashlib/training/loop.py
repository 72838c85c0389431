"""The one optimisation loop: teachers, pruning and fine-tuning all train through :class:`Loop`.

The loop owns what every run shares: seeding, ``accelerate`` (device placement, mixed precision, the
checkpoint of models, optimizer, scheduler and RNG states), the learning-rate schedule, gradient
clipping, per-step history rows, checkpoints every ``checkpoint_every`` steps into the run folder,
resuming from them, and ``stop_after`` (end the call early, as a killed run would). What a run
*computes* plugs in as a step function ``step_fn(step, data) -> (loss, row)``, and what it does after
each optimizer step (clamping masks, reading multipliers) as ``after_step(step) -> row`` hooks, so
pruning adds its masks, constraints and distillation without a loop of its own.

Data is a function ``batch(step) -> dict`` of tensors, so that the batch at a step does not depend on
how many times the run was interrupted; killed and resumed, a run ends where an uninterrupted one does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from nashlib.training.runs import load_progress, loop_identity, save_checkpoint

__all__ = ["Loop", "lr_factor", "SCHEDULES"]

SCHEDULES = ("constant", "linear")

StepFn = Callable[[int, dict], tuple[torch.Tensor, dict]]


def lr_factor(step: int, *, steps: int, schedule: str = "constant", warmup_steps: int = 0) -> float:
    """The learning rate at ``step`` as a fraction of the peak: constant, or linear warm-up then linear decay to 0."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r}; allowed: {', '.join(map(repr, SCHEDULES))}")
    if schedule == "constant":
        return 1.0
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return max(0.0, (steps - step) / (steps - warmup_steps))


def _number(v) -> float:
    return float(v.detach()) if isinstance(v, torch.Tensor) else float(v)


class Loop:
    """A resumable training run in ``folder``: build it (it seeds), build the modules, :meth:`prepare`, :meth:`run`.

    Seeding comes first so that whatever the caller draws next (initial weights, mask noise) is the same
    in every run of the same configuration.
    """

    def __init__(self, folder: str | Path, *, steps: int, seed: int, checkpoint_every: int = 0,
                 mixed_precision: str = "no", max_grad_norm: float = 0.0, schedule: str = "constant",
                 warmup_steps: int = 0, desc: str = "training", progress: bool = True):
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps={steps!r}; allowed: an integer >= 1")
        lr_factor(0, steps=steps, schedule=schedule, warmup_steps=warmup_steps)  # validates the schedule
        self.folder, self.steps, self.checkpoint_every = Path(folder), steps, checkpoint_every
        self.max_grad_norm, self.desc, self.progress = max_grad_norm, desc, progress
        self.schedule, self.warmup_steps = schedule, warmup_steps
        self.settings = dict(steps=steps, seed=seed, mixed_precision=mixed_precision, max_grad_norm=max_grad_norm,
                             schedule=schedule, warmup_steps=warmup_steps)  # what a resumed checkpoint must share
        set_seed(seed)
        self.acc = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=mixed_precision)
        self.model = self.optimizer = self.scheduler = self.identity = None

    @property
    def device(self) -> torch.device:
        return self.acc.device

    def autocast(self):
        """Mixed precision for the forward passes a step function wants under it."""
        return self.acc.autocast()

    def unwrap(self, module):
        return self.acc.unwrap_model(module)

    def prepare(self, *modules, optimizer: torch.optim.Optimizer) -> list:
        """Hand the modules (the first one is the model whose gradients are clipped) and the optimizer to
        accelerate, with the schedule as a checkpointed scheduler; returns the prepared modules.

        The modules' initial state is fingerprinted here, before any checkpoint is loaded: a checkpoint
        resumes only a run that starts from the same weights (and settings, run identity, code)."""
        self.identity = loop_identity(self.folder, modules, self.settings)
        factor = lambda step: lr_factor(step, steps=self.steps, schedule=self.schedule,  # noqa: E731
                                        warmup_steps=self.warmup_steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        *prepared, self.optimizer, self.scheduler = self.acc.prepare(*modules, optimizer, scheduler)
        self.model = prepared[0]
        return prepared

    def run(self, batch: Callable[[int], dict], step_fn: StepFn, *, stop_after: int | None = None,
            after_step: Iterable[Callable[[int], dict | None]] = (), show: tuple[str, ...] = ("loss",),
            until: Callable[[], bool] | None = None) -> list[dict] | None:
        """Train from the checkpoint (or step 0) to ``steps``; the history, one row per step.

        ``stop_after`` ends the call after that many steps of this call (the checkpoint stays) and returns
        None, as a killed run would; calling again resumes. ``until`` (asked after each step's hooks) ends
        training for good when it returns True (early stopping): the history so far is returned.
        """
        from tqdm import tqdm

        if self.optimizer is None:
            raise RuntimeError("Loop.run before Loop.prepare: hand the modules and optimizer over first")
        start, history = load_progress(self.acc, self.folder, self.identity)
        bar = tqdm(range(start, self.steps), desc=self.desc, initial=start, total=self.steps,
                   disable=not self.progress)
        for done, step in enumerate(bar, 1):
            history.append(self._step(step, batch, step_fn, after_step))
            bar.set_postfix({k: f"{history[-1][k]:.3f}" for k in show if k in history[-1]})
            last = step + 1 == self.steps or (until is not None and until())
            if self.checkpoint_every and (step + 1) % self.checkpoint_every == 0 and not last:
                save_checkpoint(self.acc, self.folder, step + 1, history, self.identity)
            if stop_after is not None and done >= stop_after and not last:
                return None
            if last:
                break
        bar.close()
        return history

    def _step(self, step: int, batch, step_fn: StepFn, after_step) -> dict:
        data = {k: v.to(self.device) for k, v in batch(step).items()}
        loss, row = step_fn(step, data)
        self.acc.backward(loss)
        if self.max_grad_norm:
            self.acc.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        row = {"step": step + 1, **{k: _number(v) for k, v in row.items()}}
        for hook in after_step:
            row.update(hook(step) or {})
        return row
