"""The pruned and dense models the notebooks compare, by the paper's names, as configurations.

Every notebook that needs NASH-3 or CoFi-T5 asks for it by the configuration built here, so the on-disk
cache (``nashlib.experiments.students``) serves them all. :func:`small_config` is the dense small baseline
(the paper's T5-Small: two thirds of the width and half the depth of T5-base), trained as the teacher was.
"""

from __future__ import annotations

import dataclasses

from nashlib.arch import arch_of
from nashlib.pruning.masks import PruningMasks
from nashlib.pruning.prune import PruneConfig
from nashlib.settings import StudentRecipe, TeacherConfig

__all__ = ["nash", "cofi", "model_sparsity_of_nash", "nash_lineup", "cofi_matched", "small_config",
           "SMALL_MODELS"]


def nash(decoder_layers: int, recipe: StudentRecipe, *, sparsity: float = 0.3, selection: str = "uniform",
         seed: int = 0, **changes) -> PruneConfig:
    """NASH-``decoder_layers``: uniform (or ``selection``) shallow decoder + L0 narrow encoder at ``sparsity``."""
    return PruneConfig(method="nash", target_sparsity=sparsity, decoder_layers=decoder_layers, selection=selection,
                       steps=recipe.steps, warmup_steps=recipe.warmup_steps, lr=recipe.lr, mask_lr=recipe.mask_lr,
                       reg_lr=recipe.reg_lr, seed=seed, checkpoint_every=max(1, recipe.steps // 5),
                       **{"select": recipe.select, **changes})


def cofi(sparsity: float, recipe: StudentRecipe, *, seed: int = 0, method: str = "cofi") -> PruneConfig:
    """CoFi-T5: every mask type on encoder and decoder, the whole model's sparsity constrained (``method``
    "cofi-encoder[-width]" / "cofi-decoder[-width]": on one part alone, that part's sparsity; Figure 2)."""
    return PruneConfig(method=method, target_sparsity=sparsity, decoder_layers=None, steps=recipe.steps,
                       warmup_steps=recipe.warmup_steps, lr=recipe.lr, mask_lr=recipe.mask_lr, reg_lr=recipe.reg_lr,
                       seed=seed, checkpoint_every=max(1, recipe.steps // 5), select=recipe.select)


def model_sparsity_of_nash(teacher_model, decoder_layers: int, encoder_sparsity: float) -> float:
    """The whole-model sparsity (prunable attention and FFN weights) of NASH-``decoder_layers``.

    Keeping d_s of L decoder layers and ``1 - encoder_sparsity`` of the encoder leaves
    ``(1 - s) * E + d_s / L * D`` of the teacher's ``E + D`` prunable weights: NASH-3's budget by design. Table 1
    matches CoFi-T5 to the budget NASH-3 *reached* instead (:func:`cofi_matched`); this is the reference.
    """
    full = PruningMasks(teacher_model, types=(), parts=()).full_sizes()
    L = arch_of(teacher_model).depth("decoder")
    kept = (1 - encoder_sparsity) * full["encoder"] + decoder_layers / L * full["decoder"]
    return round(1 - kept / (full["encoder"] + full["decoder"]), 4)


def nash_lineup(recipe: StudentRecipe, *, seed: int = 0) -> dict[str, PruneConfig]:
    """NASH-2, NASH-3 and NASH-4 (uniform selection, encoder target 0.3) at ``seed``."""
    return {f"NASH-{d}": nash(d, recipe, seed=seed) for d in (2, 3, 4)}


def cofi_matched(nash3_reached_model_sparsity: float, recipe: StudentRecipe, *, seed: int = 0) -> PruneConfig:
    """CoFi-T5 at the whole-model sparsity NASH-3 *reached* at the same seed (Table 1's same budget).

    A target is what a run aims at, not what it keeps; matching CoFi-T5 to NASH-3's reached sparsity (its
    deterministic masks, rounded to 4 decimals) makes the two spend the same budget of prunable weights
    whether or not NASH-3 landed on its own target. Whether CoFi-T5 reaches it is its own report's ``missed``.
    """
    if not 0 <= nash3_reached_model_sparsity < 1:
        raise ValueError(f"nash3_reached_model_sparsity={nash3_reached_model_sparsity!r}; allowed: 0 <= s < 1")
    return cofi(round(float(nash3_reached_model_sparsity), 4), recipe, seed=seed)


# pretrained baselines: the model of the next size down (T5-Small for T5-Base, as in the paper's Table 1)
SMALL_MODELS = {"t5-base": "t5-small", "google-t5/t5-base": "google-t5/t5-small",
                "t5-small": "google/t5-efficient-mini", "google-t5/t5-small": "google/t5-efficient-mini"}


def small_config(cfg: TeacherConfig) -> TeacherConfig:
    """The dense small model of ``cfg``'s task, trained exactly as the teacher was.

    From scratch: T5-Small's proportions to T5-Base (two thirds of the width, half the depth of
    encoder and decoder), at the teacher's head size. Pretrained: :data:`SMALL_MODELS`.
    """
    if cfg.init == "scratch":
        heads = max(1, round(cfg.num_heads * 2 / 3))
        d_model = heads * cfg.d_kv
        return dataclasses.replace(cfg, d_model=d_model, num_heads=heads, d_ff=round(cfg.d_ff * 2 / 3),
                                   encoder_layers=max(1, cfg.encoder_layers // 2),
                                   decoder_layers=max(1, cfg.decoder_layers // 2))
    if cfg.init not in SMALL_MODELS:
        raise ValueError(f"no small baseline known for init={cfg.init!r}; known: {', '.join(SMALL_MODELS)} "
                         "(or 'scratch')")
    return dataclasses.replace(cfg, init=SMALL_MODELS[cfg.init])
