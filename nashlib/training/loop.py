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

Several processes (data parallel; ``torchrun --nproc_per_node N`` or ``accelerate launch --multi_gpu
--num_processes N``; on the CPU gloo) train the run one process gives: every process builds the same global
``batch(step)`` and takes its own contiguous rows (:meth:`Loop.shard`); a step function multiplies each
term that is a mean over tokens by :meth:`Loop.share` of those tokens, and the loop averages the gradients
over the processes before clipping, so each step follows the gradient of the global batch's mean (to float
rounding). With one process every share is exactly 1.0 and no gradient is exchanged: bit for bit the
single-process run. Each process keeps its own run folders (:func:`process_root`). Dropout and mask noise
are drawn per process, as in any data-parallel run: only without dropout do N processes reproduce one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from nashlib.training.runs import load_progress, loop_identity, save_checkpoint

__all__ = ["Loop", "lr_factor", "process_root", "process_state", "check_mixed_precision", "SCHEDULES",
           "MIXED_PRECISION"]

SCHEDULES = ("constant", "linear")
MIXED_PRECISION = ("no", "fp16", "bf16")  # accelerate's settings

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


def check_mixed_precision(mixed_precision: str, cuda: bool | None = None) -> None:
    """Refuse a mixed-precision setting this machine cannot honour, saying why (before any folder is made).

    fp16 autocast needs a CUDA GPU (with a gradient scaler); bf16 runs on a CUDA GPU that supports it, and on
    the CPU through torch's CPU autocast.
    """
    cuda = torch.cuda.is_available() if cuda is None else cuda
    if mixed_precision not in MIXED_PRECISION:
        raise ValueError(f"mixed_precision={mixed_precision!r}; allowed: {', '.join(map(repr, MIXED_PRECISION))}")
    if mixed_precision == "fp16" and not cuda:
        raise ValueError("mixed_precision='fp16' needs a CUDA GPU (fp16 autocast with a gradient scaler), and torch "
                         "sees none; allowed here: 'no' or 'bf16' (CPU autocast)")
    if mixed_precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise ValueError(f"mixed_precision='bf16' is not supported by {torch.cuda.get_device_name(0)}; "
                         "allowed here: 'no' or 'fp16'")


def process_state():
    """accelerate's process state as :class:`Loop` sets it up (the CPU when torch sees no GPU: gloo across
    processes). Ask this, not a bare ``PartialState()``, which on a CPU-only machine would settle on one process."""
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def process_root(root: str | Path) -> Path:
    """Where this process keeps its run folders: ``root`` in the main (or only) process, ``root/processes/<rank>``
    in the others of a multi-process launch, so that no two processes write one folder; the main process's
    folders hold the result (every process trains the same weights)."""
    rank = process_state().process_index
    return Path(root) if rank == 0 else Path(root) / "processes" / str(rank)


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
        from accelerate import Accelerator, DataLoaderConfiguration
        from accelerate.utils import set_seed

        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps={steps!r}; allowed: an integer >= 1")
        check_mixed_precision(mixed_precision)
        lr_factor(0, steps=steps, schedule=schedule, warmup_steps=warmup_steps)  # validates the schedule
        self.folder, self.steps, self.checkpoint_every = Path(folder), steps, checkpoint_every
        self.max_grad_norm, self.desc, self.progress = max_grad_norm, desc, progress
        self.schedule, self.warmup_steps = schedule, warmup_steps
        self.settings = dict(steps=steps, seed=seed, mixed_precision=mixed_precision, max_grad_norm=max_grad_norm,
                             schedule=schedule, warmup_steps=warmup_steps)  # what a resumed checkpoint must share
        set_seed(seed)
        # split_batches: a step is one global batch, so the schedule steps once per step in any number of processes
        self.acc = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=mixed_precision,
                               dataloader_config=DataLoaderConfiguration(split_batches=True))
        self.model = self.optimizer = self.scheduler = self.identity = None

    @property
    def device(self) -> torch.device:
        return self.acc.device

    @property
    def processes(self) -> int:
        return self.acc.num_processes

    def shard(self, data: dict) -> dict:
        """This process's contiguous rows of the global batch ``data`` (all of it in one process)."""
        if self.processes == 1:
            return data
        rows = len(next(iter(data.values())))
        if rows % self.processes:
            raise ValueError(f"a global batch of {rows} rows does not split evenly over {self.processes} processes; "
                             f"allowed: a batch size that is a multiple of {self.processes}")
        n, i = rows // self.processes, self.acc.process_index
        return {k: v[i * n:(i + 1) * n] for k, v in data.items()}

    def share(self, mask: torch.Tensor) -> float:
        """The factor for a term that is a mean over the tokens ``mask`` marks in this process's rows: processes x
        local tokens / tokens of the global batch, so that the averaged gradients are those of the global mean
        (exactly 1.0 in one process)."""
        if self.processes == 1:
            return 1.0
        local = mask.sum().to(torch.float64).reshape(1)
        total = self.acc.reduce(local.clone(), reduction="sum")  # (1,) summed over the processes
        return self.processes * float(local) / max(float(total), 1.0)

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
        if self.processes > 1:  # not wrapped in DDP: _average_gradients exchanges every parameter's gradient,
            # also the masks' and multipliers', which no wrapped forward would reach
            prepared = [self.acc.prepare_model(m, evaluation_mode=True) for m in modules]
            self.optimizer, self.scheduler = self.acc.prepare(optimizer, scheduler)
        else:
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
        data = {k: v.to(self.device) for k, v in self.shard(batch(step)).items()}
        loss, row = step_fn(step, data)
        self.acc.backward(loss)
        if self.processes > 1:
            self._average_gradients()
        if self.max_grad_norm:
            self.acc.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        row = {"step": step + 1, **{k: _number(v) for k, v in row.items()}}
        for hook in after_step:
            row.update(hook(step) or {})
        return row

    def _average_gradients(self) -> None:
        """Every optimised parameter's gradient averaged over the processes (one all-reduce per tensor)."""
        import torch.distributed as dist

        for group in self.optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                    p.grad.div_(self.processes)
