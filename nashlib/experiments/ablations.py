"""Ablations: one teacher, several named pruning configurations ("strategies"), one checked student each.

Table 3 (which decoder layers to keep) and Table 4 (how to prune the encoder) have the same shape:
per teacher, a handful of :class:`~nashlib.pruning.prune.PruneConfig` by the paper's row names, each
turned into a student (:func:`nashlib.experiments.students.student`), checked
(:func:`nashlib.experiments.summary.check_student`) and summarised as a
:class:`~nashlib.experiments.summary.ModelRow` labelled with what it *reached* (decoder layers or
encoder sparsity), never with its target alone. Two strategies that build the same model (the same
key) share one student instead of training a duplicate. :func:`frame` puts every arm of every teacher
in one table, :func:`beside_paper` sets it beside the paper's table, :func:`time_arms` times the arms'
generation against their teacher, and the panel functions draw the two tables' figures.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nashlib.data import tasks
from nashlib.experiments import paired, summary
from nashlib.experiments.generation import is_generation, time_generation
from nashlib.experiments.students import Student, prefetch, student
from nashlib.experiments.summary import ModelRow
from nashlib.experiments.teachers import Teacher
from nashlib.pruning.prune import PruneConfig
from nashlib.settings import StudentRecipe

__all__ = ["Arm", "Ablation", "SHOWN", "expected_depth", "reached_label", "train_arms", "train_seeds", "frame",
           "score_matrices", "seed_means", "paper_frame", "beside_paper", "time_arms", "quality_bars",
           "quality_speed_panel", "wrap"]

SHOWN = ("layers", "sparsity")  # what a row label states as reached: decoder layers, or encoder sparsity


@dataclass(frozen=True)
class Arm:
    """One strategy of an ablation on one teacher: its configuration, its checked student, its row."""

    strategy: str  # the paper's row name, e.g. "uniform", "L0 0.3"
    config: PruneConfig  # what was asked for (the twin's, when reused)
    student: Student
    row: ModelRow  # row.model: the label with the reached value
    reused_from: str  # the earlier strategy whose student this is; "" when trained for this one


@dataclass(frozen=True)
class Ablation:
    """Every arm of one teacher, in the order the strategies were given."""

    teacher: Teacher
    arms: tuple[Arm, ...]

    def arm(self, strategy: str) -> Arm:
        for a in self.arms:
            if a.strategy == strategy:
                return a
        raise KeyError(f"no arm {strategy!r}; arms: {', '.join(a.strategy for a in self.arms)}")

    def reused(self) -> list[str]:
        """One line per arm that shares an earlier arm's student."""
        title = tasks.get(self.teacher.config.task).title
        return [f"{title}: '{a.strategy}' builds the same model as '{a.reused_from}'; its student is reused"
                for a in self.arms if a.reused_from]


def expected_depth(cfg: PruneConfig) -> int | None:
    """The decoder depth a configuration guarantees: its ``decoder_layers``, or None for a learned (l0) selection."""
    return None if cfg.selection == "l0" else cfg.decoder_layers


def reached_label(strategy: str, s: Student, shown: str | None) -> str:
    """``strategy`` with what the student reached: ``"l0 (3 layers)"``, ``"L0 0.3 (reached 0.29)"``."""
    if shown is None:
        return strategy
    if shown == "layers":
        n = s.model.config.num_decoder_layers
        return f"{strategy} ({n} layer{'s' if n != 1 else ''})"
    if shown == "sparsity":
        return f"{strategy} (reached {s.report.encoder_actual:.2f})"
    raise ValueError(f"shown={shown!r}; allowed: None, {', '.join(map(repr, SHOWN))}")


def train_arms(teacher: Teacher, configs: dict[str, PruneConfig], recipe: StudentRecipe, *,
               same: Callable[[str, PruneConfig], Hashable] | None = None, shown: str | None = None,
               train: Callable = student) -> Ablation:
    """Train (or load) and check one student per strategy of ``configs``; an :class:`Ablation`.

    ``same(strategy, cfg)`` is the key that says two strategies build the same model (default: the
    configuration itself); a strategy whose key an earlier one had reuses that student. Every trained
    student passes :func:`~nashlib.experiments.summary.check_student` with the depth its configuration
    guarantees (:func:`expected_depth`). ``shown`` picks the reached value each row label states.
    """
    same = same or (lambda strategy, cfg: cfg)
    arms, first = [], {}
    for strategy, cfg in configs.items():
        twin = first.setdefault(same(strategy, cfg), strategy)
        if twin == strategy:
            s = summary.check_student(train(teacher, cfg, recipe), teacher, decoder_layers=expected_depth(cfg))
        else:
            s = next(a.student for a in arms if a.strategy == twin)
        row = summary.student_row(reached_label(strategy, s, shown), s, teacher)
        arms.append(Arm(strategy, s.config, s, row, "" if twin == strategy else twin))
    return Ablation(teacher, tuple(arms))


def train_seeds(teacher: Teacher, configs_of: Callable[[int], dict[str, PruneConfig]], recipe: StudentRecipe,
                seeds: Sequence[int], *, workers: int = 1, **arms) -> list[Ablation]:
    """One :class:`Ablation` per seed (``configs_of(seed)``: the strategies' configurations at that seed).

    The students not cached yet are trained first, ``workers`` processes at a time
    (``students.prefetch``); ``arms`` go to :func:`train_arms` (``same``, ``shown``).
    """
    prefetch(teacher, [cfg for s in seeds for cfg in configs_of(s).values()], recipe, workers=workers)
    return [train_arms(teacher, configs_of(s), recipe, **arms) for s in seeds]


def score_matrices(seeded: Sequence[Ablation]) -> dict[str, np.ndarray]:
    """{strategy: (seeds, rows) scores x 100} from one teacher's per-seed ablations (``paired.scores``)."""
    teacher = seeded[0].teacher
    return {a.strategy: paired.scores([ab.arm(a.strategy).student for ab in seeded], teacher) for a in seeded[0].arms}


def seed_means(data: pd.DataFrame, matrices: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """One row per task and strategy of :func:`frame`'s per-seed table: ``quality`` with its 95 % interval over
    seeds and rows (``quality_lo``, ``quality_hi``, from ``matrices[title][strategy]``), the numeric columns
    averaged, ``seeds``, and the first seed's other columns (its label, layers kept)."""
    rows = []
    for (title, strategy), g in data.groupby(["title", "strategy"], sort=False):
        mean, lo, hi = paired.mean_interval(matrices[title][strategy])
        numeric = g.drop(columns=["seed"]).select_dtypes("number").mean()
        rows.append({**g.iloc[0].to_dict(), **numeric, "quality": mean, "quality_lo": lo, "quality_hi": hi,
                     "seeds": len(g)})
    return pd.DataFrame(rows)


def _kept(report) -> list[int]:
    """The teacher decoder layers a student kept: the learned ones (selection="l0"), else its layer map."""
    return list(report.decoder_layers_kept if report.decoder_layers_kept is not None else report.decoder_map)


def frame(ablations: Sequence[Ablation]) -> pd.DataFrame:
    """One row per arm of every ablation: the :class:`ModelRow` fields (``model``: the reached label) and
    ``strategy``, ``reused_from``, ``generation``, the teacher's quality and depths, the layers kept."""
    rows, extra = [], []
    for ab in ablations:
        t = ab.teacher
        for a in ab.arms:
            rows.append(a.row)
            extra.append(dict(strategy=a.strategy, reused_from=a.reused_from, generation=is_generation(t.config.task),
                              teacher_quality=t.scores.main * 100,
                              teacher_encoder_layers=t.model.config.num_layers,
                              teacher_decoder_layers=t.model.config.num_decoder_layers,
                              layers_kept=_kept(a.student.report), folder=a.student.folder.name))
    return pd.concat([summary.frame(rows), pd.DataFrame(extra)], axis=1)


def paper_frame(table: dict[str, Sequence], datasets: Sequence[str], values: Sequence[str] = ("quality",)
                ) -> pd.DataFrame:
    """A paper table ``{strategy: (one entry per dataset)}`` (an entry: a number, or a tuple of ``values``)
    as one row per strategy and dataset."""
    rows = []
    for strategy, entries in table.items():
        if len(entries) != len(datasets):
            raise ValueError(f"{strategy!r}: {len(entries)} entries for {len(datasets)} datasets")
        for dataset, entry in zip(datasets, entries):
            entry = tuple(entry) if isinstance(entry, (tuple, list)) else (entry,)
            if len(entry) != len(values):
                raise ValueError(f"{strategy!r} on {dataset}: {entry} for values {tuple(values)}")
            rows.append(dict(strategy=strategy, dataset=dataset, **dict(zip(values, entry))))
    return pd.DataFrame(rows)


def beside_paper(data: pd.DataFrame, paper: pd.DataFrame, *, strategies: Sequence[str],
                 ours: Sequence[str] = ("quality",), theirs: Sequence[str] = ("quality",),
                 source: str = "ours") -> pd.DataFrame:
    """Our rows beside the paper's, one row per strategy: columns (source, task, value).

    ``data``: :func:`frame`'s table (``ours`` columns, per ``title``); ``paper``: :func:`paper_frame`'s
    (``theirs`` columns, per ``dataset``). Strategies the paper lacks are left empty.
    """
    def wide(d, column, values):
        titles = list(dict.fromkeys(d[column]))
        w = d.pivot(index="strategy", columns=column, values=list(values)).swaplevel(axis=1)
        return w.reindex(index=list(strategies), columns=pd.MultiIndex.from_product([titles, list(values)]))

    return pd.concat({source: wide(data, "title", ours), "paper": wide(paper, "dataset", theirs)}, axis=1)


def time_arms(ab: Ablation, *, sources: int, beams: int, warmup: int, repeats: int) -> pd.DataFrame:
    """Generation speedup of every arm's student against its teacher, timed together.

    The paper's protocol (Appendix F) at the profile's scale: the first ``sources`` validation sources, the
    teacher's source length, ``beams`` beams decoding until every sequence has ended (at most the teacher's
    output length); ``warmup`` and ``repeats`` rounds (the profile's). One row per strategy (and the
    teacher): ``speedup`` (median paired ratio) with its quartiles, ``wall_median_s``, encoder and decoder
    time, the mean new tokens, and the call's shape.
    """
    t, cfg = ab.teacher, ab.teacher.config
    texts = list(cfg.rows("validation", sources).dataset["source"])
    models = {"teacher": t.model, **{a.strategy: a.student.model for a in ab.arms}}
    speed = time_generation(models, t.tokenizer, texts, max_source_len=cfg.max_source_len,
                            new_tokens=cfg.max_target_len, beams=beams, warmup=warmup, repeats=repeats,
                            until_done=True)
    assert set(speed.model) == set(models), f"timed {sorted(speed.model)}, asked for {sorted(models)}"
    assert (speed.speedup > 0).all() and (speed.wall_median_s > 0).all()
    assert abs(speed.set_index("model").speedup["teacher"] - 1.0) < 1e-9, "the teacher against itself is not 1x"
    speed.insert(0, "task", cfg.task)
    speed["sources"], speed["max_new_tokens"], speed["beams"] = len(texts), cfg.max_target_len, beams
    return speed.rename(columns={"model": "strategy"})


def wrap(text: str, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(text, width))


def quality_bars(ax, data: pd.DataFrame, strategies: Sequence[str], colors: dict, *,
                 labels: dict[str, str] | None = None, missed: str | None = None) -> None:
    """Grouped bars of quality per task (groups) and strategy (bars), the teacher as a dotted line per task.

    ``data``: :func:`frame`'s table (or :func:`seed_means`': then the bars carry the 95 % interval of the
    mean); ``missed``: a boolean column whose true rows are hatched (an arm that missed its target);
    ``labels``: legend text per strategy (default: the strategy).
    """
    titles = list(dict.fromkeys(data.title))
    width = 0.8 / len(strategies)
    for k, s in enumerate(strategies):
        sub = data[data.strategy == s].set_index("title").loc[titles]
        x = np.arange(len(titles)) + (k - (len(strategies) - 1) / 2) * width
        yerr = [sub.quality - sub.quality_lo, sub.quality_hi - sub.quality] if "quality_lo" in sub else None
        bars = ax.bar(x, sub.quality, width=width, color=colors[s], label=(labels or {}).get(s, s),
                      edgecolor="black", linewidth=0.5, yerr=yerr, capsize=2, error_kw=dict(lw=0.8))
        for bar, hatched in zip(bars, sub[missed] if missed else [False] * len(bars)):
            if hatched:
                bar.set_hatch("///")
                bar.set_alpha(0.6)
        tops = sub.quality_hi if "quality_hi" in sub else sub.quality
        for xi, q, top in zip(x, sub.quality, tops):
            ax.text(xi, top + 0.5, f"{q:.1f}", ha="center", va="bottom", fontsize=7, rotation=90)
    for i, title in enumerate(titles):
        tq = data[data.title == title].teacher_quality.iloc[0]
        ax.plot([i - 0.45, i + 0.45], [tq, tq], color="black", ls=":", lw=1.5, label="teacher" if i == 0 else None)
    metrics = [data[data.title == t].metric.iloc[0] for t in titles]
    ax.set_xticks(range(len(titles)), [wrap(f"{t} [{m}]") for t, m in zip(titles, metrics)], fontsize=8)
    ax.set(ylabel="quality (the task's metric x 100)", ylim=(0, min(110, data.quality.max() * 1.25 + 5)))


def quality_speed_panel(ax, d: pd.DataFrame, strategies: Sequence[str], colors: dict, markers: dict) -> list:
    """One task's arms as quality against generation speedup (bars: speedup quartiles), the teacher a star at 1x.

    ``d``: that task's rows of :func:`frame` merged with :func:`time_arms`. Returns the points
    ``(xs, ys, names)`` for labelling, the teacher first.
    """
    d = d.set_index("strategy").loc[list(strategies)]
    for s, r in d.iterrows():
        ax.errorbar([r.speedup], [r.quality], xerr=[[r.speedup - r.speedup_q25], [r.speedup_q75 - r.speedup]],
                    marker=markers[s], ms=8, color=colors[s], capsize=2, ls="none", label=s,
                    markeredgecolor="black", markeredgewidth=0.5)
    tq = d.teacher_quality.iloc[0]
    ax.scatter([1.0], [tq], marker="*", s=160, color="black", zorder=3, label="teacher")
    ax.set(xlabel="generation speedup vs the teacher (x)", ylabel=f"quality ({d.metric.iloc[0]} x 100)",
           title=wrap(f"{d.title.iloc[0]}: {d.sources.iloc[0]} sources, beam {d.beams.iloc[0]} until done "
                      f"(at most {d.max_new_tokens.iloc[0]} new tokens)", 40))
    ax.title.set_fontsize(9)
    ax.margins(x=0.25, y=0.2)
    return [[1.0, *d.speedup], [tq, *d.quality], ["teacher", *d.index]]
