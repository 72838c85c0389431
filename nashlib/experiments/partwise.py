"""Figure 2's quality sweeps: CoFi-T5 on the encoder alone or the decoder alone, with or without depth pruning.

Four curves (the paper's Section 3), each a prune method of ``nashlib.pruning.prune.METHODS`` run at the paper's
target sparsities of the pruned part (:data:`nashlib.results.paper.FIGURE2_SPARSITIES`): with depth, the masks
may also close whole attention and FFN sub-layers; width only, they close heads and FFN units. Every arm is an
ordinary CoFi-T5 student (``lineup.cofi``), so the students cache, check and score like every other notebook's.
"""

from __future__ import annotations

import numpy as np

from nashlib.experiments import lineup
from nashlib.pruning.prune import PruneConfig
from nashlib.results import paper
from nashlib.settings import StudentRecipe

__all__ = ["CURVES", "sparsities", "arm_name", "configs", "curve_of"]

# curve label -> prune method; the part comes first in the label, so the panels group by it
CURVES = {"encoder, with depth": "cofi-encoder", "encoder, width only": "cofi-encoder-width",
          "decoder, with depth": "cofi-decoder", "decoder, width only": "cofi-decoder-width"}


def sparsities(part: str, points: int = 0) -> tuple[float, ...]:
    """The paper's target sparsities of ``part`` (``"encoder"`` / ``"decoder"``); with ``points`` >= 2 that many of
    them, evenly spaced, the first and the last kept (``Profile.sweep_points``; 0: all)."""
    if part not in paper.FIGURE2_SPARSITIES:
        raise ValueError(f"part={part!r}; allowed: {', '.join(map(repr, paper.FIGURE2_SPARSITIES))}")
    full = paper.FIGURE2_SPARSITIES[part]
    if points == 0 or points >= len(full):
        return full
    if points < 2:
        raise ValueError(f"points={points!r}; allowed: 0 (all) or an integer >= 2")
    return tuple(full[i] for i in np.round(np.linspace(0, len(full) - 1, points)).astype(int))


def arm_name(curve: str, sparsity: float) -> str:
    """``"decoder, with depth @ 0.60"``: a curve at one target (the row's reached sparsity is reported beside it)."""
    return f"{curve} @ {sparsity:.2f}"


def curve_of(arm: str) -> tuple[str, float]:
    """The curve and target of an :func:`arm_name`."""
    curve, target = arm.rsplit(" @ ", 1)
    return curve, float(target)


def configs(recipe: StudentRecipe, seed: int, points: int = 0) -> dict[str, PruneConfig]:
    """{arm name: PruneConfig} of every curve at every target (``sparsities``) at ``seed`` under ``recipe``."""
    return {arm_name(curve, s): lineup.cofi(s, recipe, seed=seed, method=method)
            for curve, method in CURVES.items() for s in sparsities(curve.split(",")[0], points)}
