"""Hard-concrete L0 masks (Louizos et al. 2018).

A :class:`HardConcrete` holds one learnable ``log_alpha`` per prunable unit (a head, an FFN unit, a
layer, a hidden dimension). In training it samples a mask ``z`` in [0, 1] that is exactly 0 or 1 with
positive probability and differentiable in between:

    u ~ U(0, 1),  s = sigmoid((log u - log(1 - u) + log_alpha) / beta),  z = clamp(s * (r - l) + l, 0, 1)

with temperature ``beta = 2/3`` and stretch limits ``(l, r) = (-0.1, 1.1)``. The probability that a
unit is non-zero, ``1 - Q(z <= 0)``, is differentiable in ``log_alpha`` and gives the *expected*
number of kept units, hence the expected sparsity that the Lagrangian term steers.

At evaluation the mask is deterministic, as in CoFi: the expected number of zeros (from the
probabilities above, rounded) sets that many units with the smallest ``log_alpha`` to 0; every other
unit keeps the *scale* ``sigmoid(log_alpha / beta * 0.8)``, a number in (0, 1) that is part of the
deterministic model. Compaction folds the scales into the weights, so the compact model computes the
same function.

The Lagrangian that steers the expected sparsity, and the constraints it serves, are in
``nashlib.pruning.constraints``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["HardConcrete", "LIMIT_L", "LIMIT_R", "TEMPERATURE"]

LIMIT_L, LIMIT_R = -0.1, 1.1  # stretch limits of the hard-concrete distribution
TEMPERATURE = 2.0 / 3.0  # beta
LOG_ALPHA_MIN, LOG_ALPHA_MAX = math.log(0.01), math.log(100.0)
EPS = 1e-6
SCALE_FACTOR = 0.8  # CoFi's "magical number": deterministic scale sigmoid(log_alpha / beta * 0.8)


class HardConcrete(nn.Module):
    """``n`` hard-concrete gates.

    ``init`` is either a *drop rate* in (0, 1) (0.5 gives ``log_alpha`` mean 0, i.e. an even chance)
    or, with ``init_log_alpha``, a fixed mean ``log_alpha`` (the reference code starts head and layer
    masks at 10, i.e. almost surely kept). A little noise (std 0.01) breaks ties between units.
    """

    def __init__(self, n: int, *, droprate_init: float = 0.5, init_log_alpha: float | None = None,
                 name: str = "mask"):
        super().__init__()
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"{name}: n={n!r}; a mask needs at least one unit")
        if init_log_alpha is None:
            if not 0.0 < droprate_init < 1.0:
                raise ValueError(f"{name}: droprate_init={droprate_init!r}; allowed: 0 < droprate_init < 1")
            init_log_alpha = math.log(1 - droprate_init) - math.log(droprate_init)
        self.name = name
        self.log_alpha = nn.Parameter(torch.full((n,), float(init_log_alpha)))
        with torch.no_grad():
            self.log_alpha.add_(torch.randn(n) * 0.01)

    @property
    def n(self) -> int:
        return self.log_alpha.numel()

    def clamp_(self) -> None:
        """Keep ``log_alpha`` in [ln 0.01, ln 100]; call after every optimizer step."""
        with torch.no_grad():
            self.log_alpha.clamp_(LOG_ALPHA_MIN, LOG_ALPHA_MAX)

    def prob_nonzero(self) -> torch.Tensor:
        """P(z > 0) per unit, differentiable: 1 - Q(z <= 0)."""
        x = (0.0 - LIMIT_L) / (LIMIT_R - LIMIT_L)
        cdf_zero = torch.sigmoid(math.log(x / (1 - x)) * TEMPERATURE - self.log_alpha).clamp(EPS, 1 - EPS)
        return 1 - cdf_zero  # (n,)

    def expected_kept(self) -> torch.Tensor:
        return self.prob_nonzero().sum()

    def sample(self) -> torch.Tensor:
        """A training-time mask, (n,) in [0, 1]."""
        u = torch.rand_like(self.log_alpha).clamp(EPS, 1 - EPS)
        s = torch.sigmoid((torch.log(u) - torch.log(1 - u) + self.log_alpha) / TEMPERATURE)
        return (s * (LIMIT_R - LIMIT_L) + LIMIT_L).clamp(0.0, 1.0)

    @torch.no_grad()
    def deterministic(self) -> torch.Tensor:
        """The evaluation mask: expected number of zeros set to 0, the rest keep their scale in (0, 1)."""
        num_zeros = self.n - int(round(self.expected_kept().item()))
        z = torch.sigmoid(self.log_alpha / TEMPERATURE * SCALE_FACTOR)
        if num_zeros > 0:
            z[torch.topk(self.log_alpha, k=num_zeros, largest=False).indices] = 0.0
        return z  # (n,)

    def forward(self) -> torch.Tensor:
        return self.sample() if self.training else self.deterministic()

    def extra_repr(self) -> str:
        return f"name={self.name!r}, n={self.n}"
