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

The count is decided per *group* of ``group`` consecutive units. The paper does not say how; the
released NASH code and CoFi (``L0Module._deterministic_z``, called once per layer) decide it per
layer: a head mask of L layers x H heads is L groups of H, and a whole-sublayer mask (one unit per
layer) is L groups of 1, so a sublayer is closed exactly when ``P(z > 0) < 1/2``. ``group=None`` (the
whole vector, one group) ranks all units together: the hidden-dimension mask is one vector, so there
the two rules coincide; for per-layer masks it is this library's earlier, global rule.
:class:`nashlib.pruning.masks.PruningMasks` chooses the groups (its ``deterministic`` option).

Initialisation: ``log_alpha`` starts at a drop rate's log-odds or at a fixed value, plus noise of
std 0.01 (as ``reset_loga`` in the released code). Note that :meth:`HardConcrete.clamp_` bounds it to
[ln 0.01, ln 100], so a mask started at 10 (``P(z > 0) = 1 - 1e-5``) sits at ln 100 (``0.998``) after
the first optimizer step, as in the released code.

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
    or, with ``init_log_alpha``, a fixed mean ``log_alpha`` (the released code starts head, layer and
    hidden masks at 10, i.e. almost surely kept). A little noise (std 0.01) breaks ties between units.
    ``group``: units per group of the deterministic mask (a divisor of ``n``; None: one group of all
    ``n``), e.g. the heads of one layer.
    """

    def __init__(self, n: int, *, droprate_init: float = 0.5, init_log_alpha: float | None = None,
                 group: int | None = None, name: str = "mask"):
        super().__init__()
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"{name}: n={n!r}; a mask needs at least one unit")
        group = n if group is None else group
        if not isinstance(group, int) or isinstance(group, bool) or group < 1 or n % group:
            raise ValueError(f"{name}: group={group!r}; allowed: None or a positive divisor of n={n}")
        if init_log_alpha is None:
            if not 0.0 < droprate_init < 1.0:
                raise ValueError(f"{name}: droprate_init={droprate_init!r}; allowed: 0 < droprate_init < 1")
            init_log_alpha = math.log(1 - droprate_init) - math.log(droprate_init)
        self.name, self.group = name, group
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
        """The evaluation mask: in each group, the expected number of zeros (rounded half to even, as
        Python's ``round`` in the released code) set to 0 at the smallest ``log_alpha``; every other unit
        keeps its scale in (0, 1)."""
        log_alpha = self.log_alpha.view(-1, self.group)  # (groups, group)
        kept = self.prob_nonzero().view(-1, self.group).sum(1)  # (groups,) expected kept units
        num_zeros = torch.round(self.group - kept)  # (groups,)
        rank = log_alpha.argsort(dim=1, stable=True).argsort(dim=1)  # (groups, group); 0 = smallest
        z = torch.sigmoid(log_alpha / TEMPERATURE * SCALE_FACTOR)
        z[rank < num_zeros[:, None]] = 0.0
        return z.flatten()  # (n,)

    def forward(self) -> torch.Tensor:
        return self.sample() if self.training else self.deterministic()

    def extra_repr(self) -> str:
        return f"name={self.name!r}, n={self.n}, group={self.group}"
