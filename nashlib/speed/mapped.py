"""A learned structure carried to another model size: what a pruned student kept, rebuilt at a target shape.

The cpu profile's students are pruned from small teachers (4 encoder and 12 decoder layers, d_model 128), so
their own generation speed says little about T5-base on a GPU: per-call overheads dominate tiny models. What a
pruning run *decides* is a structure: which decoder layers survive and, per layer, which share of its heads
and FFN units. :func:`build_mapped` rebuilds that structure at a target shape (``"t5-base"``, random weights,
since speed depends on shapes only), so it can be timed under the paper's protocol as the number comparable
to Table 1. The rules, one per part:

- **encoder**: target layer ``j`` of ``Lt`` takes the shares of source layer ``floor(j * Ls / Lt)``;
- **decoder**: the same proportional rule, a target layer whose source layer was dropped (or has nothing
  left) being dropped too; or, with ``decoder_layers=d`` (NASH-d, whose depth is a design choice, not a
  share of the teacher's), ``d`` target layers chosen uniformly, the i-th with the i-th kept source layer's
  shares;
- **widths**: ``round(share * heads)`` heads per attention block, ``round(share * d_ff)`` FFN units, and
  ``round(share * d_model)`` hidden dimensions.

The rebuilt model is a compacted model (``nashlib.pruning.compact``) of the target shape, made by the same
compaction that made the student, from masks that keep the first units of each block.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nashlib import shapes
from nashlib.arch import PARTS, arch_of
from nashlib.pruning.compact import compact
from nashlib.pruning.layers import keep_decoder_layers, select_layers
from nashlib.pruning.structure import grid

__all__ = ["shares", "build_mapped", "Learned", "table1_students"]


def shares(model, teacher_model) -> dict[str, list[dict[str, float] | None]]:
    """``{part: [per source layer {block: kept share} or None when the layer is gone]}`` and ``"hidden"``."""
    g = grid(model, teacher_model)
    out: dict = {"hidden": g.hidden_kept / g.hidden_full}
    for part in PARTS:
        rows = []
        for layer in range(g.depth(part)):
            lay = g.layers[(g.layers.part == part) & (g.layers.layer == layer)].iloc[0]
            blocks = g.blocks[(g.blocks.part == part) & (g.blocks.layer == layer)]
            rows.append(None if lay.removed else dict(zip(blocks.block, blocks.fraction.astype(float))))
        out[part] = rows
    return out


class _Fixed:
    """Masks that are already decided: ``compact`` reads only ``deterministic()``."""

    def __init__(self, z: dict[str, torch.Tensor]):
        self.z = z

    def deterministic(self) -> dict[str, torch.Tensor]:
        return self.z


def _first(n_keep: int, n: int) -> torch.Tensor:
    return (torch.arange(n) < n_keep).float()  # keep the first n_keep units (random weights: any would do)


def _plan(rows: list, target: int, decoder_layers: int | None) -> list[tuple[int, dict]]:
    """``[(target layer, shares)]`` of the layers the rebuilt part keeps."""
    if decoder_layers is not None:
        kept = [r for r in rows if r is not None]
        if len(kept) < decoder_layers:
            raise ValueError(f"decoder_layers={decoder_layers}; the student kept only {len(kept)} decoder layers")
        return list(zip(select_layers(target, decoder_layers, "uniform"), kept))
    plan = [(j, rows[j * len(rows) // target]) for j in range(target)]
    return [(j, r) for j, r in plan if r is not None]


def build_mapped(shape_name: str, model, teacher_model, *, layers: int | None = None,
                 decoder_layers: int | None = None, seed: int = 0):
    """``model``'s structure (pruned from ``teacher_model``) rebuilt at ``shape_name`` with random weights.

    ``layers`` replaces the shape's depth of both encoder and decoder (Table 5's T5-Small-efficient NL 16/20/24:
    ``"t5-small"`` with ``layers=16``); ``decoder_layers`` keeps that many decoder layers (NASH-d, see above).
    """
    s, share = shapes.shape(shape_name), shares(model, teacher_model)
    depth = {"encoder": layers or s.num_layers, "decoder": layers or s.num_decoder_layers}
    full = shapes.build_t5(shape_name, encoder_layers=depth["encoder"], decoder_layers=depth["decoder"], seed=seed)
    plans = {"encoder": _plan(share["encoder"], depth["encoder"], None),
             "decoder": _plan(share["decoder"], depth["decoder"], decoder_layers)}
    if len(plans["encoder"]) != depth["encoder"]:
        raise ValueError("the student dropped encoder layers; mapping a shallower encoder is not supported")
    kept = [j for j, _ in plans["decoder"]]
    base = keep_decoder_layers(full, kept) if len(kept) < depth["decoder"] else full
    arch, z = arch_of(base), {"hidden": _first(round(share["hidden"] * s.d_model), s.d_model)}
    for part in PARTS:
        for block in arch.blocks[part]:
            n = arch.blocks[part][block][0].width  # heads, or FFN units
            key = f"{part}_{block}_heads" if block != "ffn" else f"{part}_ffn_ffn_units"
            z[key] = torch.cat([_first(round(r[block] * n), n) for _, r in plans[part]])
    return compact(base, _Fixed(z)).eval()


@dataclass(frozen=True)
class Learned:
    """Table 1's students of a profile's first pruning task at its first paired seed: where structures come from."""

    task: str
    teacher: object  # nashlib.experiments.teachers.Teacher
    seed: int
    students: dict  # label ("NASH-2", "NASH-3", "NASH-4", "CoFi-T5") -> nashlib.experiments.students.Student


def table1_students(profile) -> Learned:
    """The cached (or trained) Table 1 students: NASH-2/3/4, and CoFi-T5 at NASH-3's reached budget, same seed."""
    from nashlib.experiments import baselines, lineup
    from nashlib.experiments.students import student

    teachers, _ = baselines.pruning_teachers(profile)
    task = next(iter(teachers))
    t, recipe = teachers[task], profile.recipe(task)
    seed = recipe.paired_seeds[0]
    found = {label: student(t, cfg, recipe) for label, cfg in lineup.nash_lineup(recipe, seed=seed).items()}
    found["CoFi-T5"] = student(t, lineup.cofi_matched(found["NASH-3"].report.model_actual, recipe, seed=seed), recipe)
    return Learned(task, t, seed, found)
