"""Pruning constraints: a quantity the masks control, a target it warms up to, and a Lagrangian that enforces it.

Each constraint holds its masks (a :class:`~nashlib.pruning.masks.PruningMasks`), its :class:`Lagrangian`,
its target and its warm-up, and gives the penalty of a step and a trace row for the history. A pruning
run sums the penalties of its constraints; nothing in the run branches on which ones it has:

- :func:`encoder_sparsity` (NASH, Section 4): the encoder's expected sparsity;
- :func:`model_sparsity` (CoFi-T5): the whole model's expected sparsity;
- :class:`LayerCount` (NASH with learned layer selection): the share of decoder layers dropped, whose target
  ``1 - d_s / L`` keeps ``d_s`` of ``L`` layers; at the end it removes the layers whose mask is closed.

:class:`Lagrangian` turns a gap into the penalty ``R = l1 (s - t) + l2 (s - t)^2`` with learned multipliers
``l1, l2``. They are trained by gradient *ascent* (the constraint must bind), so their gradients are flipped
by a hook: torch optimizers refuse a negative learning rate.
"""

from __future__ import annotations

import torch
from torch import nn

from nashlib.pruning.masks import PruningMasks

__all__ = ["Lagrangian", "target_schedule", "Constraint", "Sparsity", "LayerCount", "encoder_sparsity",
           "model_sparsity"]


class Lagrangian(nn.Module):
    """``R = l1 (s - t) + l2 (s - t)^2`` with multipliers learned by gradient ascent."""

    def __init__(self):
        super().__init__()
        self.lambda_1 = nn.Parameter(torch.zeros(()))
        self.lambda_2 = nn.Parameter(torch.zeros(()))
        for p in (self.lambda_1, self.lambda_2):
            p.register_hook(lambda g: -g)  # ascent: the optimizer then descends -dR/dlambda

    def forward(self, expected_sparsity: torch.Tensor, target: float) -> torch.Tensor:
        gap = expected_sparsity - target
        return self.lambda_1 * gap + self.lambda_2 * gap * gap


def target_schedule(step: int, *, target: float, warmup_steps: int) -> float:
    """Target at ``step``: linear from 0 to ``target`` over ``warmup_steps``, then constant."""
    if not isinstance(target, (int, float)) or isinstance(target, bool) or not 0 <= target < 1:
        raise ValueError(f"target sparsity={target!r}; allowed: 0 <= target < 1")
    if warmup_steps <= 0:
        return float(target)
    return float(target) * min(1.0, step / warmup_steps)


class Constraint:
    """``measure()`` (a differentiable function of the masks) pushed towards a target that warms up from 0."""

    names = ("target", "measure", "deterministic", "lambda_1", "lambda_2")  # trace row keys, renamed by subclasses

    def __init__(self, masks: PruningMasks, target: float, warmup_steps: int):
        self.masks, self.lagrangian = masks, Lagrangian()
        self.target, self.warmup_steps = target, warmup_steps
        self._last = (0.0, 0.0)  # (target, measure) of the latest penalty

    def measure(self) -> torch.Tensor:
        raise NotImplementedError

    def deterministic(self) -> float:
        """The measured quantity under the evaluation masks: what the compacted model keeps. The
        Lagrangian steers :meth:`measure`, the expectation over stochastic masks, a proxy of this one."""
        raise NotImplementedError

    def penalty(self, step: int) -> torch.Tensor:
        """The Lagrangian term of ``step`` (a scalar tensor); remembered for :meth:`trace`."""
        target = target_schedule(step, target=self.target, warmup_steps=self.warmup_steps)
        value = self.measure()
        self._last = (target, float(value.detach()))
        return self.lagrangian(value, target)

    def trace(self) -> dict[str, float]:
        """The history row of the latest step: target, expected value, deterministic value and multipliers
        (the last two after the step)."""
        target, value = self._last
        lag = self.lagrangian
        return dict(zip(self.names, (target, value, self.deterministic(), float(lag.lambda_1.detach()),
                                     float(lag.lambda_2.detach()))))

    def finish(self, student, decoder_map: list[int]) -> tuple[object, list[int]]:
        """After training: the student and decoder map that remain (a constraint may remove layers)."""
        return student, decoder_map

    def report(self) -> dict:
        """What the constraint adds to the pruning report."""
        return {}


class Sparsity(Constraint):
    """Expected sparsity of ``scope`` ("encoder" for NASH, "model" for CoFi-T5) at ``target``."""

    names = ("target", "expected_sparsity", "deterministic_sparsity", "lambda_1", "lambda_2")

    def __init__(self, masks: PruningMasks, scope: str, target: float, warmup_steps: int):
        super().__init__(masks, target, warmup_steps)
        self.scope = scope

    def measure(self) -> torch.Tensor:
        return self.masks.expected_sparsity(self.scope)

    def deterministic(self) -> float:
        return self.masks.sparsity_report()[f"{self.scope}_actual"]


def encoder_sparsity(masks: PruningMasks, target: float, warmup_steps: int) -> Sparsity:
    return Sparsity(masks, "encoder", target, warmup_steps)


def model_sparsity(masks: PruningMasks, target: float, warmup_steps: int) -> Sparsity:
    return Sparsity(masks, "model", target, warmup_steps)


class LayerCount(Constraint):
    """Keep ``keep`` of the ``L`` decoder layers: the share dropped, ``1 - E[kept] / L``, at ``1 - keep / L``.

    Its masks are whole-layer masks (type ``"layer"``) on the decoder. The trace reports the expected
    number of kept layers after the step.
    """

    names = ("layer_target", "dropped_layers_share", "deterministic_dropped_layers_share", "layer_lambda_1",
             "layer_lambda_2")

    def __init__(self, masks: PruningMasks, keep: int, warmup_steps: int, part: str = "decoder"):
        self.part, self.keep = part, keep
        self.total = masks.arch.depth(part)
        super().__init__(masks, 1 - keep / self.total, warmup_steps)
        self.kept: list[int] | None = None

    def measure(self) -> torch.Tensor:
        return 1 - self.masks.expected_layers(self.part) / self.total

    def deterministic(self) -> float:
        return 1 - float((self.masks.deterministic()[f"{self.part}_layer"] > 0).sum()) / self.total

    def trace(self) -> dict[str, float]:
        return {**super().trace(), f"expected_{self.part}_layers": float(self.masks.expected_layers(self.part))}

    def finish(self, student, decoder_map: list[int]) -> tuple[object, list[int]]:
        """Keep the layers whose (binary) evaluation mask is open; at least the most likely one."""
        from nashlib.pruning.layers import keep_layers

        z = self.masks.deterministic()[f"{self.part}_layer"]  # (L,)
        self.kept = torch.nonzero(z > 0).flatten().tolist() or \
            [int(self.masks.masks[f"{self.part}_layer"].log_alpha.argmax())]
        return keep_layers(student, self.part, self.kept), list(self.kept)

    def report(self) -> dict:
        return {f"{self.part}_layers_kept": self.kept, f"{self.part}_layers_target": self.keep,
                f"{self.part}_layers_hit_target": self.kept is not None and len(self.kept) == self.keep}
