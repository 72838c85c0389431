# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Table 4 and Finding 3.2: how to prune the encoder
#
# **The paper's claim** (Ko et al. 2023, Section 3, Finding 3.2, and Section 5.3, Table 4): *"From the
# perspective of encoder pruning, while achieving high-level sparsity may not be desirable, attaining
# low-level sparsity not only slightly accelerates inference speed but also enhances performance."*
# Table 4 tests it on T5-base with a uniformly chosen 4-layer decoder and five ways of treating the
# encoder: no pruning; uniform encoder *layer* dropping (as the decoder is shrunk) removing 25 % or
# 50 % of the encoder layers; and NASH's L0 masks on the encoder's heads and FFN units at 30 % or
# 60 % sparsity. *"Our chosen approach, with low sparsity, outperforms both the unpruned baseline and
# the uniform layer selection. We also observe that the advantage of this approach is only noticeable
# at low sparsity, as evidenced by the comparison between 30% and 60% sparsity."* On RTE, SAMSum and
# TweetQA, L0 at 0.3 is the best of the five in quality, and its speedup sits between the two uniform
# variants'.
#
# **What we do.** The same five students per task, all with a uniform 4-layer decoder:
#
# | ours | the paper's row | configuration (`R`: the profile's `P.student`; `lineup`: `nashlib.experiments.lineup`) |
# |---|---|---|
# | none | None | `lineup.nash(4, R, sparsity=0.0)`: layer selection only, no masks |
# | uniform 0.25 | Unif. (S 0.25) | `... sparsity=0.0, encoder_layers=round(0.75 * n)` (n: the teacher's encoder layers) |
# | uniform 0.5 | Unif. (S 0.5) | `... sparsity=0.0, encoder_layers=round(0.5 * n)` |
# | L0 0.3 | L0 Reg. (S 0.3) | `lineup.nash(4, R)`: Table 1's NASH-4, shared through the cache |
# | L0 0.6 | L0 Reg. (S 0.6) | `lineup.nash(4, R, sparsity=0.6)` |
#
# `ablations.train_arms` trains and checks them. Every student is distilled from its teacher and
# fine-tuned under the same recipe, so the only difference is the encoder. Quality is the task's
# metric x 100 on the teacher's validation rows. Generation speed is measured for the teacher and all
# five students together (`ablations.time_arms`, through `generation.time_generation`: the same real
# validation sources, beam 4 decoding until every sequence ends, interleaved rounds, paired ratios),
# so the speedups are against this teacher on this machine.
#
# **How it differs from the paper.** The paper's speedups are on an RTX 3090 at batch 32 with
# decoding until completion; ours are on the CPU threads of the profile, at `P.student.timing_batch`
# sources, decoding until completion with `P.beams` beams. In the `cpu` profile the teachers are small T5s trained
# from scratch here (4 encoder and 12 decoder layers, d_model 128) on the tasks that passed the
# teachers notebook's rule: GLUE SST-2 (a classification task: a short label, so the encoder is a
# larger share of the generation time than on SAMSum) and SST-2 frequent words (a generation task
# derived from SST-2's sentences, not the paper's: a few words per output), and pruning runs a few hundred steps, not 20
# epochs. With 4 encoder layers, "uniform 0.25" keeps 3 and "uniform 0.5" keeps 2; where rounding makes
# the kept count equal to n (a 2-layer encoder keeps round(1.5) = 2), that student *is* the no-pruning
# student, and we reuse it rather than train a duplicate.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch (each student is trained once per seed of P.student.paired_seeds)
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"repeats": 9, "student.steps": 100} (see nashlib.settings)
TIE: float = 1.0  # quality points (x100): a win needs the 95 % interval of the mean difference beyond this
SPEED_TOL: float = 0.15  # "similar speed": L0 0.3's speedup at least (1 - this) times the uniform variant's

# %%
import time

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib import settings
from nashlib.data import tasks
from nashlib.experiments import ablations, baselines, lineup
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="table4_encoder_pruning")
TEACHERS, TEACHER_TABLE = baselines.pruning_teachers(P)
T0 = time.perf_counter()
if not 0 <= TIE < 100:
    raise ValueError(f"TIE={TIE!r}; allowed: 0 <= tie < 100 (quality points)")
if not 0 <= SPEED_TOL < 1:
    raise ValueError(f"SPEED_TOL={SPEED_TOL!r}; allowed: 0 <= tolerance < 1")

# %%
R = P.student
SEEDS = list(R.paired_seeds)
DECODER_LAYERS = 4  # Table 4: a uniform 4-layer decoder for every row
STRATEGIES = ["none", "uniform 0.25", "uniform 0.5", "L0 0.3", "L0 0.6"]  # the keys of nashlib.results.paper.TABLE4
assert list(paper.TABLE4) == STRATEGIES
print(f"profile {P.name}: {len(TEACHERS)} teacher(s); NASH-{DECODER_LAYERS}, seeds {SEEDS}; timing: "
      f"{R.timing_batch} sources, {P.warmup} warm-up + {P.repeats} timed rounds")
for name in TEACHERS:  # each task's schedule: the profile's recipe (in paper, the task's row of Tables 8 / 9)
    print(f"  {name}: {P.recipe(name).describe()}")
TEACHER_TABLE

# %% [markdown]
# ## The five configurations per teacher
#
# The uniform variants keep `round(0.75 * n)` and `round(0.5 * n)` of the teacher's `n` encoder layers,
# chosen as the decoder's are (`layers.select_layers(n, k, "uniform")`: first and last included), with
# no masks. `lineup.nash_lineup` names Table 1's NASH-4, so L0 0.3 is the very student Table 1 uses.

# %%
def configs_of(t, seed: int = 0) -> tuple[dict, dict]:
    """({strategy: PruneConfig}, {strategy: encoder layers kept}) for teacher ``t`` at ``seed``."""
    R = P.recipe(t.config.task)
    n = t.model.config.num_layers
    keep = {"none": n, "uniform 0.25": max(1, round(0.75 * n)), "uniform 0.5": max(1, round(0.5 * n)),
            "L0 0.3": n, "L0 0.6": n}
    cfgs = {"none": lineup.nash(DECODER_LAYERS, R, sparsity=0.0, seed=seed),
            "L0 0.3": lineup.nash(DECODER_LAYERS, R, seed=seed),
            "L0 0.6": lineup.nash(DECODER_LAYERS, R, sparsity=0.6, seed=seed)}
    for s in ("uniform 0.25", "uniform 0.5"):
        cfgs[s] = cfgs["none"] if keep[s] == n else lineup.nash(DECODER_LAYERS, R, sparsity=0.0,
                                                                encoder_layers=keep[s], seed=seed)
    named = lineup.nash_lineup(R, seed=seed)  # Table 1's NASH-4 is NASH-4 at 0.3: one cached student
    assert f"NASH-{DECODER_LAYERS}" not in named or cfgs["L0 0.3"] == named[f"NASH-{DECODER_LAYERS}"]
    return {s: cfgs[s] for s in STRATEGIES}, keep


plan = []
for name, t in TEACHERS.items():
    cfgs, keep = configs_of(t)
    for s, cfg in cfgs.items():
        plan.append(dict(title=tasks.get(name).title, strategy=s, encoder_target=cfg.target_sparsity,
                         encoder_layers=f"{keep[s]}/{t.model.config.num_layers}",
                         reuses="none" if s.startswith("uniform") and cfg is cfgs["none"] else ""))
pd.DataFrame(plan)

# %% [markdown]
# ## The students
#
# `ablations.train_arms` makes one student per configuration with `students.student`: it prunes (or,
# for the rows without masks, only distils) a copy of the teacher with the chosen layers, compacts it,
# fine-tunes it, saves, reloads and scores it on the validation rows the teacher was scored on.
# `summary.check_student` checks each (the compacted, reloaded model, the teacher's rows, a score in
# [0, 1], no larger than the teacher, four decoder layers), so the teacher's score is the reference for
# every row. A strategy whose configuration equals an earlier one's reuses that student. Each row is
# labelled with the encoder sparsity the student *reached*.

# %%
ABLATIONS = {name: ablations.train_seeds(t, lambda seed, t=t: configs_of(t, seed)[0], P.recipe(name), SEEDS,
                                         workers=P.workers, shown="sparsity") for name, t in TEACHERS.items()}
REUSED = sorted({line for abls in ABLATIONS.values() for line in abls[0].reused()})
print("\n".join(REUSED) or "no configuration repeats another: five students per task")

# %% [markdown]
# Beyond `check_student`, this table's own checks: a student that dropped encoder layers is smaller than
# its teacher, and the rows without masks lose whole encoder layers only, so their reached encoder
# sparsity is exactly the share of layers dropped, `1 - keep / n`.

# %%
for ab in (ab for abls in ABLATIONS.values() for ab in abls):
    keep, n = configs_of(ab.teacher)[1], ab.teacher.model.config.num_layers
    for a in ab.arms:
        s, k = a.student, keep[a.strategy]
        assert k == n or s.info.parameters < s.info.teacher_parameters, a.row.model
        if a.strategy in ("none", "uniform 0.25", "uniform 0.5"):  # no masks: only whole encoder layers go
            assert s.model.config.num_layers == k, (a.row.model, s.model.config.num_layers, k)
            assert abs(s.report.encoder_actual - (1 - k / n)) < 1e-4, (a.row.model, s.report.encoder_actual, 1 - k / n)
per_seed = ablations.frame([ab for abls in ABLATIONS.values() for ab in abls])
assert len(per_seed) == len(TEACHERS) * len(STRATEGIES) * len(SEEDS)
SCORES = {tasks.get(name).title: ablations.score_matrices(abls) for name, abls in ABLATIONS.items()}
data = ablations.seed_means(per_seed.assign(missed=per_seed.missed.astype(float)), SCORES)
data[["title", "strategy", "encoder_layers", "target_sparsity", "encoder_sparsity", "missed", "model_sparsity",
      "reused_from", "quality", "quality_lo", "quality_hi", "teacher_quality", "params_M", "seeds"]].round(3)

# %% [markdown]
# One row per task and strategy, averaged over the seeds: `quality` with its 95 % interval over seeds and
# rows, `missed` the share of seeds whose L0 run ended outside its tolerance; `per_seed` (run info) has every
# run, labelled with the reached encoder sparsity: the share of the encoder's prunable
# weights removed, against the teacher. For layer dropping it is exactly the share of layers dropped;
# for L0 it is what the deterministic masks reached (target 0.3 or 0.6). `model_sparsity` adds the 8
# (cpu) dropped decoder layers.

# %% [markdown]
# ## Generation speed
#
# Per task, the teacher and its five students generate for the same first `P.student.timing_batch`
# validation sources, beam search with `P.beams` beams until every sequence has ended (at most the
# teacher's maximum output length; `ablations.time_arms`), each encoder also timed alone. `nashlib.speed.timing` runs every model once per round,
# in rotating order, after `P.warmup` warm-up calls, for `P.repeats` rounds; a speedup is the median
# over rounds of the teacher's time over the student's in the same round, with its quartiles. Every arm ran once
# in every round, so two arms' speedups also compare round by round (`ROUNDS`: one ratio per round), which is
# how the verdicts below compare speeds: with a 95 % interval over the rounds, not two medians.

# %%
speeds = pd.concat([ablations.time_arms(abls[0], sources=R.timing_batch, beams=P.beams, warmup=P.warmup,
                                         repeats=P.repeats)
                    for abls in ABLATIONS.values()], ignore_index=True)  # the first seed's students
ROUNDS = {(r.task, r.strategy): np.asarray(r.speedup_rounds) for r in speeds.itertuples()}  # (repeats,) per arm
data = data.merge(speeds.drop(columns="speedup_rounds"), on=["task", "strategy"], how="left")
assert data.speedup.notna().all()
speeds[["task", "strategy", "speedup", "speedup_q25", "speedup_q75", "wall_median_s", "encoder_median_s",
        "decoder_median_s", "new_tokens_mean"]].round(3)

# %% [markdown]
# ## The figure
#
# One panel per task (`ablations.quality_speed_panel`): quality against generation speedup, one labelled
# marker per strategy (bars: quartiles of the paired speedups), the teacher as a star at 1x. The last
# panel is the paper's Table 4 drawn the same way, with each dataset's quality shown relative to its
# no-pruning row so that the three datasets share one axis.

# %%
MARKERS = dict(zip(STRATEGIES, ["o", "s", "D", "^", "v"]))
COLORS = dict(zip(STRATEGIES, sns.color_palette(plotting.PALETTE, len(STRATEGIES))))


def paper_panel(ax):
    """The paper's Table 4: quality minus the no-pruning row against speedup, each dataset's strategies joined."""
    for i, (dataset, ls) in enumerate(zip(paper.TABLE4_DATASETS, ["-", "--", ":"])):
        base = paper.TABLE4["none"][i][0]
        pts = sorted((paper.TABLE4[s][i][1], paper.TABLE4[s][i][0] - base, s) for s in STRATEGIES)  # by speedup
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color="grey", lw=1, ls=ls)
        for x, y, s in pts:
            ax.scatter([x], [y], marker=MARKERS[s], s=55, color=COLORS[s], edgecolors="black", linewidths=0.5,
                       zorder=3)
        ax.annotate(dataset, pts[-1][:2], textcoords="offset points", xytext=(0, -14), fontsize=8, ha="center")
    ax.axhline(0, color="black", lw=0.8, ls=":")
    ax.set(xlabel="generation speedup vs T5-base (x)", ylabel="quality minus the no-pruning row (points)",
           title="the paper's Table 4 (T5-base, RTX 3090; markers as left)\n"
                 "each dataset's strategies joined by speedup")
    ax.title.set_fontsize(9)
    ax.margins(x=0.08, y=0.1)

# %%
names = list(TEACHERS)
fig, axes = plotting.subplots(1, len(names) + 1, width=4.6, height=4.2)
for ax, name in zip(axes[0], names):
    points = ablations.quality_speed_panel(ax, data[data.task == name], STRATEGIES, COLORS, MARKERS)
    plotting.label_points(ax, *points)
axes[0][0].legend(fontsize=7, loc="best")
paper_panel(axes[0][-1])
fig.suptitle(f"Table 4: encoder pruning with a uniform {DECODER_LAYERS}-layer decoder ({P.name} profile)")
plotting.plt.show()

# %% [markdown]
# ## Our numbers beside the paper's
#
# One row per strategy (`ablations.beside_paper`): for each of our tasks the encoder sparsity the
# student reached, its quality (x100) and its speedup; then the paper's Table 4 (T5-base, 4 uniform
# decoder layers; its rows are named by their targets).

# %%
paper4 = ablations.paper_frame(paper.TABLE4, paper.TABLE4_DATASETS, values=("quality", "speedup"))
side = ablations.beside_paper(data, paper4, strategies=STRATEGIES, ours=("encoder_sparsity", "quality", "speedup"),
                              theirs=("quality", "speedup"), source=f"ours ({P.name})")
print("teacher quality on the same rows: "
      + ", ".join(f"{t} {q:.2f}" for t, q in data.groupby("title", sort=False).teacher_quality.first().items()))
print(side.round(2).to_string())

# %% [markdown]
# ## Verdicts
#
# With `q` the quality (x100), `v` the speedup, and `TIE` (1 point) and `SPEED_TOL` (0.15) our
# thresholds (the paper states its reading in words), per task, through `nashlib.results.verdicts` (`V`):
#
# - (a) *L0 at 0.3 keeps or improves quality over no encoder pruning*: `q(L0 0.3) - q(none) >= -TIE`
#   (`V.at_least`; on our runs every quality comparison is the mean paired difference over the seeds with
#   its 95 % interval over seeds and rows, which must lie wholly on the claim's side: straddling the
#   threshold is *inconclusive*);
# - (b) *it beats uniform layer dropping at similar speed*: `q(L0 0.3) > q(uniform 0.25) + TIE` and
#   `> q(uniform 0.5) + TIE` (`V.beats` with margin `TIE`), while `v(L0 0.3) / v(uniform 0.25) >= 1 -
#   SPEED_TOL` (`V.ratio_at_least`: it is not bought with a clearly slower model than the mildest layer
#   dropping); all three are required (`V.combine` with them required);
# - (c) *the advantage shrinks at 0.6*: `q(L0 0.6) - q(none) < q(L0 0.3) - q(none) - TIE`, that is
#   `q(L0 0.3) > q(L0 0.6) + TIE` (`V.beats`);
# - (d) *low sparsity slightly accelerates*: `v(L0 0.3) > v(none)` (`V.beats`).
#
# On our runs the speeds in (b) and (d) are the per-round speedups (`ROUNDS`): (b) takes the 95 % interval of
# the mean per-round ratio, (d) of the mean per-round difference, over the `P.repeats` timed rounds; an
# interval that straddles the threshold is *inconclusive*. On the paper's numbers both are plain comparisons.
#
# **Table 4** is (a), (b) and (c); **Finding 3.2** is (a), (c) (high sparsity "may not be desirable")
# and (d). Each (`V.combine` over every task's checks): holds if every check holds on every task, does
# not hold if none does, partly holds otherwise. The same rules on the paper's own numbers are printed
# beside ours.

# %%
def checks(q: dict, v: dict, where: str) -> dict[str, V.Verdict]:
    """The four checks for one task, from {strategy: quality} and {strategy: speedup}."""
    b = [V.beats(q["L0 0.3"], q[u], margin=TIE, names=("q(L0 0.3)", f"q({u})"), claim=f"{where}: L0 0.3 beats {u}")
         for u in ("uniform 0.25", "uniform 0.5")]
    b.append(V.ratio_at_least(v["L0 0.3"], v["uniform 0.25"], factor=1 - SPEED_TOL,
                              names=("v(L0 0.3)", "v(uniform 0.25)"),
                              claim=f"{where}: L0 0.3 about as fast as uniform 0.25"))
    return dict(
        a=V.at_least(q["L0 0.3"] - q["none"], -TIE, name="q(L0 0.3) - q(none)",
                     claim=f"{where}: (a) L0 0.3 keeps quality over no encoder pruning"),
        b=V.combine(b, required=b, claim=f"{where}: (b) L0 0.3 beats uniform layer dropping at similar speed"),
        c=V.beats(q["L0 0.3"], q["L0 0.6"], margin=TIE, names=("q(L0 0.3)", "q(L0 0.6)"),
                  claim=f"{where}: (c) the advantage shrinks at 0.6"),
        d=V.beats(v["L0 0.3"], v["none"], names=("v(L0 0.3)", "v(none)"),
                  claim=f"{where}: (d) L0 0.3 faster than none"))


def verdicts(per_task: dict[str, dict], source: str) -> tuple[V.Verdict, V.Verdict]:
    """(Table 4, Finding 3.2): every task's checks (a, b, c) and (a, c, d), combined."""
    return (V.combine([c[k] for c in per_task.values() for k in "abc"], claim=f"Table 4 ({source})"),
            V.combine([c[k] for c in per_task.values() for k in "acd"], claim=f"Finding 3.2 ({source})"))

# %%
def numbers(d: pd.DataFrame, scores: dict | None = None) -> tuple[dict, dict]:
    """({strategy: quality}, {strategy: speedup}); the paper's: numbers. Ours: quality as (seeds, rows) scores,
    paired by seed and row, and speed as the per-round speedups, paired by round."""
    if scores is None:
        return d.set_index("strategy").quality.to_dict(), d.set_index("strategy").speedup.to_dict()
    return scores, {s: ROUNDS[task, s] for task, s in zip(d.task, d.strategy)}


NUMBERS = {f"ours ({P.name})": {d.title.iloc[0]: numbers(d, SCORES[d.title.iloc[0]])
                                for _, d in data.groupby("task", sort=False)},
           "paper": {ds: numbers(paper4[paper4.dataset == ds]) for ds in paper.TABLE4_DATASETS}}
CHECKS = {src: {ds: checks(q, v, f"paper {ds}" if src == "paper" else ds) for ds, (q, v) in per_task.items()}
          for src, per_task in NUMBERS.items()}
ours, theirs = CHECKS[f"ours ({P.name})"], CHECKS["paper"]
VERDICT_T4, VERDICT_F32 = verdicts(ours, f"ours, {P.name}")
PAPER_T4_V, PAPER_F32_V = verdicts(theirs, "the paper's numbers, same rules")
checked = pd.DataFrame([dict(source=src, dataset=ds, **{k: c.outcome for k, c in CHECKS[src][ds].items()},
                             gain_L0_03=float(np.mean(q["L0 0.3"] - q["none"])),
                             gain_L0_06=float(np.mean(q["L0 0.6"] - q["none"])),
                             speed_L0_03_over_none=float(np.median(np.divide(v["L0 0.3"], v["none"]))),
                             speed_L0_03_over_uniform_025=float(np.median(np.divide(v["L0 0.3"],
                                                                                     v["uniform 0.25"]))))
                        for src, per_task in NUMBERS.items() for ds, (q, v) in per_task.items()])
print(checked.round(3).to_string(index=False) + "\n")
LINES = [p for c in ours.values() for p in (*c["b"].parts, *c.values())]
for v in LINES + [VERDICT_T4, VERDICT_F32, PAPER_T4_V, PAPER_F32_V]:
    print(v.line())

# %% [markdown]
# **Reading it.** Dropping whole encoder layers removes depth the teacher's representation was built
# with, and distillation then has to rebuild it; L0 masks remove the heads and FFN units that the
# distillation loss misses least, so at a mild target the student stays close to the teacher, and the
# extra training under distillation can even improve on plain layer selection (the paper's reading:
# low sparsity acts like a regulariser). At 60 % the masks must cut into units that matter, and the
# gain turns into a loss. On speed, the encoder runs once per input while the decoder runs once per
# generated token, so encoder pruning of any kind buys little: the differences between the five
# speedups are small next to the 4-layer decoder's gain over the teacher, and on a CPU with a short
# label output they can sit within the spread of the rounds (the bars). In short from-scratch runs
# quality differences of a few validation rows (one row is `100 / eval_rows` points) are noise, which
# is what `TIE` absorbs.


# %%
def summary_of(d: pd.DataFrame) -> str:
    d = d.set_index("strategy")
    return f"{d.title.iloc[0]}: " + ", ".join(f"{s} {d.quality[s]:.1f} @ {d.speedup[s]:.2f}x" for s in STRATEGIES)


ours_t4 = f"{P.name} profile ({P.scale()}), NASH-{DECODER_LAYERS}, quality @ speedup: " + "; ".join(
    summary_of(d) for _, d in data.groupby("task", sort=False))
ours_f32 = f"{P.name} profile ({P.scale()}): " + "; ".join(
    f"{r.dataset}: L0 0.3 vs none {r.gain_L0_03:+.1f} points at {r.speed_L0_03_over_none:.2f}x its speed; "
    f"L0 0.6 vs none {r.gain_L0_06:+.1f}" for r in checked[checked.source != "paper"].itertuples())
print(ours_t4, ours_f32, sep="\n")
GAIN = {k: [paper.TABLE4[k][i][0] - paper.TABLE4["none"][i][0] for i in range(len(paper.TABLE4_DATASETS))]
        for k in ("L0 0.3", "L0 0.6")}
PAPER_F32 = ("encoder pruning at low sparsity slightly accelerates inference and enhances performance; high sparsity "
             f"may not be desirable (Section 3; Table 4: L0 0.3 vs no pruning {min(GAIN['L0 0.3']):+.2f} to "
             f"{max(GAIN['L0 0.3']):+.2f} points on {'/'.join(paper.TABLE4_DATASETS)}, L0 0.6 "
             f"{min(GAIN['L0 0.6']):+.2f} to {max(GAIN['L0 0.6']):+.2f})")
PAPER_T4 = "; ".join(f"{d}: " + ", ".join(f"{s} {paper.TABLE4[s][i][0]:.2f} @ {paper.TABLE4[s][i][1]:.2f}x"
                                          for s in STRATEGIES) for i, d in enumerate(paper.TABLE4_DATASETS))

# %%
FINDINGS = [
    V.Finding("Table 4", "L0 encoder pruning at 0.3 keeps or improves quality over no encoder pruning and beats "
              f"uniform encoder layer dropping at similar speed; the advantage shrinks at 0.6 (ties within {TIE:g} "
              f"points, similar speed within {SPEED_TOL:.0%})", PAPER_T4, ours_t4, VERDICT_T4),
    V.Finding("Finding 3.2", "low encoder sparsity keeps or improves quality and slightly speeds up generation; high "
              "sparsity does not pay", PAPER_F32, ours_f32, VERDICT_F32),
]
paths = plotting.save_figure(
    fig, "table4_encoder_pruning", data, out_dir=OUT_DIR, profile=P.name,
    parameters=dict(profile=P.asdict(), tie=TIE, speed_tol=SPEED_TOL, decoder_layers=DECODER_LAYERS),
    seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    teachers=TEACHER_TABLE.to_dict("records"), reused=REUSED, checks=checked.to_dict("records"),
    per_seed=per_seed.to_dict("records"), speed_rounds={f"{t} / {s}": list(r) for (t, s), r in ROUNDS.items()},
    verdicts_paper_same_rules=[PAPER_T4_V.asdict(), PAPER_F32_V.asdict()], findings=[f.asdict() for f in FINDINGS])
paths
