"""Paper text or released code: NASH's switches, each one run against the default under the same seeds.

The paper's text and its released code (``jongwooko/NASH-Pruning-Official``) differ in a few places,
and each difference is one named field of :class:`~nashlib.pruning.prune.PruneConfig`. A
:class:`Variant` turns one field away from the default (the setting every other notebook uses) and names
the arm it is compared with; :data:`VARIANTS` lists them. :func:`run` trains (or loads from the shared
cache) one checked student per variant, teacher and seed; :func:`frame` tabulates them; :func:`effects`
pairs each variant with its comparator seed by seed, which is what the verdicts and the figure read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib.experiments import lineup, summary
from nashlib.experiments.students import Student, prefetch, student
from nashlib.experiments.teachers import Teacher
from nashlib.pruning.prune import PruneConfig
from nashlib.results import plotting
from nashlib.results import verdicts as V
from nashlib.settings import StudentRecipe

__all__ = ["Variant", "VARIANTS", "DEFAULT", "config", "VariantRun", "run", "frame", "effects", "effect_verdicts",
           "effects_panel", "reached_panel"]

DEFAULT = "default"


@dataclass(frozen=True)
class Variant:
    """NASH-``decoder_layers`` with ``changes`` to the default :class:`PruneConfig`, compared with ``against``."""

    name: str  # the row label
    source: str  # whose choice it is: "paper text", "released code", "this library"
    against: str  # the variant it is compared with ("" for a reference arm)
    changes: Mapping[str, object] = field(default_factory=dict)  # PruneConfig fields
    decoder_layers: int = 3
    selection: str = "uniform"


VARIANTS: tuple[Variant, ...] = (
    Variant(DEFAULT, "released-code masks, paper-text distillation (every notebook)", ""),
    Variant("mask init: drop rate 0.5", "this library before (every mask at drop rate 0.5)", DEFAULT,
            dict(mask_init="droprate")),
    Variant("eval mask: global ranking", "this library before (zeros ranked over all layers)", DEFAULT,
            dict(eval_mask="global")),
    Variant("KD: released (KL(t||s), T=2, x0.5)", "released calculate_distillation_loss", DEFAULT,
            dict(distill="released")),
    Variant("KD: none (CE only)", "released training step as it runs", DEFAULT, dict(distill="none")),
    Variant("no layer loss", "released code (layer loss forced to 0)", DEFAULT, dict(layer_loss=False)),
    Variant("select: last step", "paper text (no selection: the last step's masks)", DEFAULT,
            dict(select="last")),
    Variant("high, bias moved", "this library (position bias into the new first layer)", "",
            decoder_layers=2, selection="high"),
    Variant("high, bias zero", "released code (rebuilt blocks have no bias)", "high, bias moved",
            dict(high_bias="zero"), decoder_layers=2, selection="high"),
)


def config(v: Variant, recipe: StudentRecipe, seed: int) -> PruneConfig:
    """The pruning configuration of ``v`` at ``seed``: ``lineup.nash`` with the variant's changes."""
    return lineup.nash(v.decoder_layers, recipe, selection=v.selection, seed=seed, **dict(v.changes))


@dataclass(frozen=True)
class VariantRun:
    """One checked student of one variant at one seed."""

    row: summary.ModelRow
    variant: str
    seed: int
    reached: float  # the deterministic encoder sparsity (the scope NASH constrains)
    missed: bool
    start_expected: float  # the expected sparsity at the first step (target 0): what the initialisation prunes
    teacher_quality: float


def _run(v: Variant, seed: int, s: Student, teacher: Teacher) -> VariantRun:
    trace = s.info.prune_curve
    return VariantRun(summary.student_row(v.name, s, teacher), v.name, seed, s.report.reached, s.report.missed,
                      trace[0].expected_sparsity, teacher.scores.main * 100)


def run(teachers: Mapping[str, Teacher], recipe_of: Callable[[str], StudentRecipe], seeds: Sequence[int],
        variants: Sequence[Variant] = VARIANTS, *, workers: int = 1) -> list[VariantRun]:
    """Every variant on every teacher at every seed: trained (``workers`` processes at a time) or loaded,
    checked, recorded. ``recipe_of(task)`` is the task's recipe (``Profile.recipe``)."""
    runs = []
    for teacher in teachers.values():
        recipe = recipe_of(teacher.config.task)
        prefetch(teacher, [config(v, recipe, seed) for seed in seeds for v in variants], recipe, workers=workers)
        for seed in seeds:
            for v in variants:
                cfg = config(v, recipe, seed)
                s = summary.check_student(student(teacher, cfg, recipe), teacher, decoder_layers=v.decoder_layers)
                runs.append(_run(v, seed, s, teacher))
    return runs


def frame(runs: Sequence[VariantRun]) -> pd.DataFrame:
    """One row per run: the ModelRow's fields (``model`` is the variant), seed, reached, missed, start_expected."""
    rows = []
    for r in runs:
        d = dataclasses.asdict(r.row)
        rows.append({**d, **{f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name != "row"}})
    return pd.DataFrame(rows)


def effects(data: pd.DataFrame, variants: Sequence[Variant] = VARIANTS) -> pd.DataFrame:
    """Per task, compared variant and seed: ``diff`` = its quality minus its comparator's at the same seed."""
    rows = []
    for v in (v for v in variants if v.against):
        for task, grp in data.groupby("task", sort=False):
            a = grp[grp.variant == v.name].set_index("seed")
            b = grp[grp.variant == v.against].set_index("seed")
            if list(a.index) != list(b.index):
                raise ValueError(f"{task}: {v.name!r} has seeds {list(a.index)}, {v.against!r} {list(b.index)}; "
                                 "the comparison is paired by seed")
            for seed in a.index:
                rows.append(dict(task=task, title=a.title.iloc[0], variant=v.name, against=v.against, seed=seed,
                                 quality=a.quality[seed], against_quality=b.quality[seed],
                                 diff=a.quality[seed] - b.quality[seed]))
    return pd.DataFrame(rows)


def effect_verdicts(eff: pd.DataFrame, *, tie: float) -> dict[tuple[str, str], V.Verdict]:
    """{(title, variant): does switching change quality by less than ``tie`` points?} (paired over seeds)."""
    out = {}
    for (title, variant), g in eff.groupby(["title", "variant"], sort=False):
        out[(title, variant)] = V.within(
            g["quality"].tolist(), g["against_quality"].tolist(), tolerance=tie, names=(variant, g.against.iloc[0]),
            claim=f"{title}: '{variant}' is within {tie:g} points of '{g.against.iloc[0]}'")
    return out


def effects_panel(ax, eff: pd.DataFrame, verdicts: Mapping[tuple[str, str], V.Verdict], *, tie: float) -> None:
    """Per task and variant: the paired differences (dots), their mean and 95 % interval (bar), the ±tie band."""
    keys = list(verdicts)
    colors = dict(zip(dict.fromkeys(eff.title), sns.color_palette(plotting.PALETTE)))
    for i, key in enumerate(keys):
        g, v = eff[(eff.title == key[0]) & (eff.variant == key[1])], verdicts[key]
        ax.scatter(g["diff"], np.full(len(g), i), s=12, color=colors[key[0]], alpha=0.6, zorder=2)
        lo, hi = v.interval
        ax.errorbar(v.estimate, i, xerr=[[v.estimate - lo], [hi - v.estimate]], fmt="D", color="black", ms=4,
                    capsize=3, zorder=3)
    ax.axvspan(-tie, tie, color="0.9", zorder=0, label=f"±{tie:g} points")
    ax.axvline(0, color="black", lw=0.8)
    against = dict(zip(eff.variant, eff.against))
    short = dict(zip(eff.title, eff.task))  # task names: the titles are long
    ax.set_yticks(range(len(keys)), [f"{short[t]}: {n}\n(vs {against[n]})" for t, n in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel="quality difference (points), paired by seed; mean and 95% CI",
           title="effect of each switch on quality")
    ax.legend(fontsize=7, loc="lower right")


def reached_panel(ax, data: pd.DataFrame, *, target: float, tolerance: float) -> None:
    """Reached encoder sparsity of every run, per variant and task, against the target band."""
    order = list(dict.fromkeys(data.variant))
    sns.stripplot(data=data, x="reached", y="variant", hue="task", order=order, ax=ax, dodge=True, size=4,
                  palette=plotting.PALETTE)
    ax.axvspan(target - tolerance, target + tolerance, color="0.9", zorder=0)
    ax.axvline(target, color="firebrick", lw=1)
    ax.set(xlabel=f"reached encoder sparsity (target {target:g} ± {tolerance:g})", ylabel="",
           title="where each run ended")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), title="task", title_fontsize=7)
