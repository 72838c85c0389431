"""Trained models side by side: timed on real validation sources, beside the paper's Table 1 / Table 11, plotted.

Table 1 compares a teacher, a small dense model and pruned students in output quality *and* generation
speed. :func:`time_lineup` times such a lineup on the first validation sources of the teacher's task (the
profile's warm-up and rounds, the teacher's beams and target length); :func:`add_paper_columns` puts the
paper's numbers for the same rows beside ours (Table 1 for its four generation datasets, Table 11 for GLUE
and SuperGLUE); :func:`table1_checks` applies Table 1's four rules to one column of numbers, the paper's
or ours; :func:`quality_speed_panel` and :func:`paper_table1_panel` draw Figure 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib.experiments.generation import time_generation
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V
from nashlib.settings import Profile, TeacherConfig

__all__ = ["PAPER_ROW", "MODEL_ORDER", "Style", "STYLES", "time_lineup", "PaperColumn", "paper_column",
           "add_paper_columns", "table1_checks", "quality_speed_panel", "paper_table1_panel"]

# our models by the role they play in the paper's Table 1 (the paper's row names)
PAPER_ROW = {"teacher": "T5-Base", "small dense": "T5-Small", "CoFi-T5": "CoFi-T5", "NASH-2": "NASH-2",
             "NASH-3": "NASH-3", "NASH-4": "NASH-4"}
MODEL_ORDER = list(PAPER_ROW)


@dataclass(frozen=True)
class Style:
    color: object  # a matplotlib colour
    marker: str


def _styles() -> dict[str, Style]:
    nash = sns.color_palette("Blues", 4)[1:]  # NASH-2/3/4: light to dark, deeper decoder darker
    pal = sns.color_palette(plotting.PALETTE)
    return {"teacher": Style("black", "*"), "small dense": Style(pal[1], "s"), "CoFi-T5": Style(pal[2], "X"),
            **{f"NASH-{d}": Style(c, "o") for d, c in zip((2, 3, 4), nash)}}


STYLES = _styles()  # one colour and marker per model of MODEL_ORDER, in every panel


def time_lineup(models: dict[str, object], tokenizer, cfg: TeacherConfig, profile: Profile, *,
                baseline: str = "teacher") -> pd.DataFrame:
    """Speedup of every model against ``baseline``, generating for real validation sources of ``cfg.task``.

    The paper's protocol (Appendix F) at the profile's scale: the first ``profile.student.timing_batch``
    validation sources, one padded batch, beam search with ``profile.beams`` beams decoding until every
    sequence has ended (at most ``cfg.max_target_len`` new tokens), ``profile.warmup`` warm-up and
    ``profile.repeats`` interleaved rounds (``generation.time_generation``; ``tokenizer`` may be a dict by model
    name). Returns one row per model with the ``task`` beside ``speedup``, its quartiles, ``wall_median_s``,
    the encoder's and the decoder's median time, the mean new tokens and ``source_tokens``.
    """
    sources = list(cfg.rows("validation", profile.student.timing_batch).dataset["source"])
    out = time_generation(models, tokenizer, sources, max_source_len=cfg.max_source_len,
                          new_tokens=cfg.max_target_len, beams=profile.beams, warmup=profile.warmup,
                          repeats=profile.repeats, baseline=baseline, until_done=True)
    return out.assign(task=cfg.task)


@dataclass(frozen=True)
class PaperColumn:
    """The paper's numbers for one of our tasks: which table, and (quality, speedup) by paper row name."""

    table: str | None  # "Table 1", "Table 11", or None: the paper has no column for this task
    dataset: str | None  # the paper's name of the dataset
    rows: dict[str, tuple[float, float]]


def paper_column(title: str) -> PaperColumn:
    """The paper's column for a task titled ``title`` (Table 1's datasets; GLUE / SuperGLUE: Table 11)."""
    short = title.replace("SuperGLUE ", "").replace("GLUE ", "")
    if short in paper.TABLE11_DATASETS:  # NLU tasks: Table 11 reports NASH with 2 decoder layers only
        i = paper.TABLE11_DATASETS.index(short)
        return PaperColumn("Table 11", short, {row: tuple(v[i]) for row, v in paper.TABLE11.items()})
    if title in paper.TABLE1_DATASETS:
        i = paper.TABLE1_DATASETS.index(title)
        return PaperColumn("Table 1", title, {row: tuple(v[i]) for row, v in paper.TABLE1.items()})
    return PaperColumn(None, None, {})


def add_paper_columns(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` (columns ``title`` and ``paper_row``) with ``paper_quality``, ``paper_speedup`` (NaN where the
    paper has no number) and ``paper_table`` added."""
    cols = {t: paper_column(t) for t in data.title.unique()}
    nan = (np.nan, np.nan)
    values = [cols[t].rows.get(r, nan) for t, r in zip(data.title, data.paper_row)]
    return data.assign(paper_quality=[q for q, _ in values], paper_speedup=[s for _, s in values],
                       paper_table=[cols[t].table for t in data.title])


def table1_checks(quality: Mapping[str, object], speedup: Mapping[str, float], *, teacher_gap: float, tie: float,
                  label: str) -> V.Verdict:
    """Table 1's four rules on one column (by paper row name; quality and ``teacher_gap``, ``tie`` in points).

    ``quality[m]``: a number (the paper's table) or paired samples (ours: seeds x rows, ``paired.scores``,
    the same seeds and rows for every model; the teacher's rows repeated per seed): then each comparison is
    the mean paired difference with its 95 % two-level bootstrap interval, and can be *inconclusive*.
    ``speedup[m]``: a number (the paper's table) or the per-round ratios of one timing run (ours:
    ``time_generation``'s ``speedup_rounds``, the same rounds for every model): then "faster" is the mean
    paired difference over rounds with its 95 % bootstrap interval, and can be *inconclusive* too.

    1. NASH-3 faster than T5-Small and than CoFi-T5;
    2. NASH-3 at least as good as T5-Small and CoFi-T5: not worse by more than ``tie`` points;
    3. NASH-2 faster than NASH-3, NASH-3 faster than NASH-4, and quality NASH-3 and NASH-4 each at least
       as good as the next shallower one (not worse by more than ``tie``);
    4. NASH-3 at most ``teacher_gap`` points below T5-Base.
    Each check needs all its parts; the result combines the four.
    """
    q, s = quality, speedup

    def both(parts, claim):
        return V.combine(parts, required=parts, claim=claim)

    def no_worse(a, b):
        return V.beats(q[a], q[b], margin=-tie, names=(a, b), claim=f"{a} at least as good as {b} (tie {tie:g})")

    def faster(a, b):
        return V.beats(s[a], s[b], names=(f"{a} x", f"{b} x"), claim=f"{a} faster than {b}")

    faster3 = both([faster("NASH-3", b) for b in ("T5-Small", "CoFi-T5")],
                   f"{label}: NASH-3 faster than both baselines")
    better = both([no_worse("NASH-3", b) for b in ("T5-Small", "CoFi-T5")],
                  f"{label}: NASH-3 at least as good as both baselines")
    trade = both([faster("NASH-2", "NASH-3"), faster("NASH-3", "NASH-4"), no_worse("NASH-3", "NASH-2"),
                  no_worse("NASH-4", "NASH-3")], f"{label}: a quality/speed trade-off across NASH-2/3/4")
    gap = np.asarray(q["T5-Base"]) - np.asarray(q["NASH-3"]) if not np.isscalar(q["NASH-3"]) else \
        q["T5-Base"] - q["NASH-3"]
    near = V.at_most(gap, teacher_gap, name="T5-Base - NASH-3 (points)",
                     claim=f"{label}: NASH-3 within {teacher_gap:g} points of the teacher")
    return V.combine([faster3, better, trade, near], claim=f"{label}: NASH-3 beats the baselines, with a trade-off")


def quality_speed_panel(ax, grp: pd.DataFrame, *, title: str, ylabel: str) -> None:
    """One task's models as quality against speedup (bars: quartiles of the per-round speedup ratios and, where
    given, the 95 % interval of the mean quality over seeds and rows).

    ``grp``: one row per model (index: the labels of :data:`MODEL_ORDER`; columns ``quality``, ``speedup``,
    ``speedup_q25``, ``speedup_q75``; optional ``quality_lo``, ``quality_hi``). A thin line joins NASH-2/3/4;
    a dotted line marks the teacher's quality.
    """
    nash = grp.loc[["NASH-2", "NASH-3", "NASH-4"]]
    ax.plot(nash.speedup, nash.quality, color=STYLES["NASH-3"].color, lw=1, alpha=0.7, zorder=1)
    for label, r in grp.iterrows():
        st = STYLES[label]
        yerr = [[r.quality - r.quality_lo], [r.quality_hi - r.quality]] if "quality_lo" in grp else None
        ax.errorbar([r.speedup], [r.quality], xerr=[[r.speedup - r.speedup_q25], [r.speedup_q75 - r.speedup]],
                    yerr=yerr, marker=st.marker, ms=12 if label == "teacher" else 8, capsize=2, color=st.color,
                    mec="black", mew=0.5, ls="none", label=label, zorder=2)
    ax.axhline(grp.loc["teacher"].quality, color="black", ls=":", lw=1)
    ax.set(xlabel="generation speedup vs teacher (x)", ylabel=ylabel, title=title)
    ax.margins(x=0.25, y=0.15)
    plotting.label_points(ax, grp.speedup, grp.quality, grp.index)  # after the limits are set: no overlaps


def paper_table1_panel(ax, ref: pd.DataFrame) -> None:
    """The paper's Table 1 (``paper.table1()``): quality lost against T5-Base (points) against speedup.

    One marker shape per dataset, colours as in :func:`quality_speed_panel`; thin lines join NASH-2/3/4.
    """
    markers = dict(zip(paper.TABLE1_DATASETS, "o^sD"))
    base = ref[ref.model == "T5-Base"].set_index("dataset").quality
    model_of = {v: k for k, v in PAPER_ROW.items()}
    for d, g in ref.groupby("dataset", sort=False):
        n = g[g.model.str.startswith("NASH")]
        ax.plot(n.speedup, n.quality - base[d], color=STYLES["NASH-3"].color, lw=0.8, alpha=0.6, zorder=1)
    for r in ref.itertuples():
        ax.scatter(r.speedup, r.quality - base[r.dataset], color=STYLES[model_of[r.model]].color,
                   marker=markers[r.dataset], s=45, edgecolor="black", linewidth=0.5, zorder=2)
    for d, m in markers.items():
        ax.scatter([], [], marker=m, color="white", edgecolor="black", label=d)
    ax.axhline(0, color="black", ls=":", lw=1)
    ax.set(xlabel="generation speedup vs T5-base (x)", ylabel="quality - T5-base's (points)",
           title="the paper's Table 1\n(T5-base, RTX 3090; colours as left)")
    ax.legend(fontsize=8, loc="lower right", title="dataset", title_fontsize=8)
