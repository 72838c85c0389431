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
# # Table 3: which two decoder layers to keep
#
# **The paper's claim** (Ko et al. 2023, Section 5.3, Table 3): NASH builds its shallow decoder by
# *uniform* layer selection: of T5-base's 12 decoder layers it keeps d_s evenly spaced ones, the
# first and last among them. To test the choice, the paper prunes to a two-layer decoder (encoder
# pruned to 30 % sparsity with L0 masks, as always) with four selection rules: uniform, the *lowest*
# two layers, the *highest* two, and an automatic selection that learns whole-layer L0 masks on the
# decoder (Louizos et al. 2018, as in CoFi). *"Uniform selection consistently outperforms the other
# manual selection methods. The performance margin becomes more pronounced in NLG tasks. Notably, we
# observe that automatic selection fails to achieve the target sparsity consistently across all tasks,
# except for BoolQ."* The L0 rule's quality is higher, but only because it kept more than two layers
# (the paper greys those cells out and lists the self-attention, cross-attention and FFN sublayers
# left: up to 11 of 12).
#
# **What we do.** The same five students per task, with `lineup.nash(2, P.student, selection=s)`
# (`nashlib.experiments.lineup`), trained and checked together by `ablations.train_arms`
# (`nashlib.experiments.ablations`):
#
# - `uniform`: the official code's rule, `floor((L - 1) * l / (d_s - 1))`; this is Table 1's NASH-2
#   (`lineup.nash_lineup`), so it comes from the on-disk cache when another notebook trained it;
# - `uniform-paper`: the rule as printed in the paper (Section 4.1), `floor((L - 1) / (d_s - 1)) * l`;
#   for d_s = 2 both rules keep the first and the last layer, so where they pick the same layers
#   (`layers.select_layers` says) we reuse the uniform student instead of training a duplicate;
# - `low` (layers 0 and 1) and `high` (the last two; `nashlib.pruning.layers` moves T5's relative-position
#   table into the new first layer, so the high selection still sees positions);
# - `l0`: learned layer masks with a second Lagrangian constraint pushing the number of kept decoder
#   layers to 2; the layers whose deterministic mask is open are kept. We report which ones, and
#   whether there were exactly two (`report.decoder_layers_hit_target`).
#
# **How it differs from the paper.** The paper's L0 masks close self-attention, cross-attention and FFN
# *sublayers* separately (its last row counts them); ours close whole decoder layers, so "hit the
# target" means exactly two layers kept. The paper prunes T5-base on RTE, BoolQ, CB, SAMSum and TweetQA;
# we prune the teachers of the chosen profile. In the `cpu` profile these are small T5s trained from
# scratch here (4 encoder and 12 decoder layers, d_model 128) on the tasks that passed the teachers
# notebook's rule (GLUE SST-2, a classification task, and SST-2 frequent words, a generation task
# derived from SST-2's sentences, not the paper's: its outputs are a few words, far shorter than a
# summary), and pruning runs a few hundred steps, not 20 epochs. Where a profile has no
# generation task, the claim's "more pronounced in NLG tasks" part cannot be tested, and the verdict
# says so.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch (each student is trained once per seed of P.student.paired_seeds)
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"student.steps": 100} (see nashlib.settings)
DECODER_LAYERS: int = 2  # d_s: decoder layers every strategy keeps (the paper's Table 3: 2)
TIE: float = 1.0  # quality points (x100): a win needs the 95 % interval of the mean difference above this

# %%
import time

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib import settings
from nashlib.data import tasks
from nashlib.experiments import ablations, baselines, lineup, paired
from nashlib.pruning import layers
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="table3_layer_selection")
TEACHERS, TEACHER_TABLE = baselines.pruning_teachers(P)
T0 = time.perf_counter()
if not 0 <= TIE < 100:
    raise ValueError(f"TIE={TIE!r}; allowed: 0 <= tie < 100 (quality points)")
if not isinstance(DECODER_LAYERS, int) or DECODER_LAYERS < 1:
    raise ValueError(f"DECODER_LAYERS={DECODER_LAYERS!r}; allowed: an integer >= 1")
STRATEGIES = ["uniform", "uniform-paper", "low", "high", "l0"]
R = P.student
SEEDS = list(R.paired_seeds)
print(f"profile {P.name}: {len(TEACHERS)} teacher(s); NASH-{DECODER_LAYERS} with encoder target 0.3; seeds {SEEDS}")
for name in TEACHERS:  # each task's schedule: the profile's recipe (in paper, the task's row of Tables 8 / 9)
    print(f"  {name}: {P.recipe(name).describe()}")
TEACHER_TABLE

# %% [markdown]
# ## The layers each index rule picks
#
# `layers.select_layers` is the rule the pruning code uses. For T5-base's 12 decoder layers and d_s = 2
# the two uniform rules agree on [0, 11]; they part only for d_s >= 3 (for d_s = 3: [0, 5, 11] against
# [0, 5, 10]). The learned `l0` selection has no rule; its layers are known only after training.

# %%
depths = sorted({t.model.config.num_decoder_layers for t in TEACHERS.values()})
rules = pd.DataFrame([dict(teacher_decoder_layers=L, strategy=s, layers=layers.select_layers(L, DECODER_LAYERS, s))
                      for L in depths for s in layers.STRATEGIES])
assert layers.select_layers(12, 2, "uniform") == layers.select_layers(12, 2, "uniform-paper") == [0, 11]
rules

# %% [markdown]
# ## The students
#
# `ablations.train_arms` turns each strategy's configuration into a student with `students.student`: it
# prunes a copy of the teacher (L0 masks on the encoder's heads and FFN units, distilling from the
# teacher), compacts it, fine-tunes it, saves and reloads it, and scores it on the validation rows the
# teacher was scored on. `summary.check_student` checks every student (the compacted, reloaded model,
# the teacher's rows, a score in [0, 1], no larger than the teacher, d_s decoder layers where a rule
# picks them), so the teacher's score is the reference for every column. Two strategies whose rule picks
# the same layers share one student (the `same` key below). Each row is labelled with the number of
# decoder layers the student *reached*. Every strategy is trained once per seed of `P.student.paired_seeds`
# (`ablations.train_seeds`), the same seeds for every strategy, so each comparison is paired by seed and
# by validation row.

# %%
def configs_of(seed: int, R=R) -> dict:
    """{strategy: PruneConfig} at ``seed`` under recipe ``R``: NASH-d_s with each rule; uniform is Table 1's NASH-d_s
    (cached once)."""
    cfgs = {s: lineup.nash(DECODER_LAYERS, R, selection=s, seed=seed) for s in STRATEGIES}
    named = lineup.nash_lineup(R, seed=seed)
    assert f"NASH-{DECODER_LAYERS}" not in named or cfgs["uniform"] == named[f"NASH-{DECODER_LAYERS}"]
    return cfgs


def same_layers(t):
    """Strategies whose rule picks the same layers build the same student; l0's layers are learned (its own key)."""
    L = t.model.config.num_decoder_layers
    return lambda s, cfg: cfg if s == "l0" else tuple(layers.select_layers(L, DECODER_LAYERS, s))


ABLATIONS = {name: ablations.train_seeds(t, lambda seed, r=P.recipe(name): configs_of(seed, r), P.recipe(name), SEEDS,
                                         workers=P.workers, same=same_layers(t), shown="layers")
             for name, t in TEACHERS.items()}
REUSED = sorted({line for abls in ABLATIONS.values() for line in abls[0].reused()})
print("\n".join(REUSED) or "every strategy picked different layers: no student reused")

# %% [markdown]
# Beyond `check_student`, this table's own checks: the layers a student kept are the ones its rule
# picks (and the ones its reloaded config names); the learned selection reports its target and whether
# it hit it, consistently with the layers it kept.

# %%
for ab in (ab for abls in ABLATIONS.values() for ab in abls):
    L = ab.teacher.model.config.num_decoder_layers
    for a in ab.arms:
        r, cfg = a.student.report, a.student.model.config
        kept = list(r.decoder_layers_kept) if a.strategy == "l0" else list(r.decoder_map)
        assert cfg.num_decoder_layers == len(kept) == len(r.decoder_map), a.row.model
        assert list(cfg.nash_selected_layers) == list(r.decoder_map), a.row.model
        if a.strategy == "l0":
            assert r.selection == "l0" and r.decoder_layers_target == DECODER_LAYERS
            assert r.decoder_layers_hit_target == (len(kept) == DECODER_LAYERS)
        else:
            picked = layers.select_layers(L, DECODER_LAYERS, a.strategy)
            assert kept == picked, f"{a.strategy}: kept {kept}, the rule picks {picked}"
per_seed = ablations.frame([ab for abls in ABLATIONS.values() for ab in abls])
per_seed["hit_target"] = per_seed.decoder_layers == DECODER_LAYERS
assert len(per_seed) == len(TEACHERS) * len(STRATEGIES) * len(SEEDS)
SCORES = {tasks.get(name).title: ablations.score_matrices(abls) for name, abls in ABLATIONS.items()}
data = ablations.seed_means(per_seed.assign(hit_share=per_seed.hit_target.astype(float)), SCORES)
data["hit_target"] = data.hit_share == 1.0  # every seed kept d_s layers
data[["title", "strategy", "quality", "quality_lo", "quality_hi", "hit_target", "reused_from", "teacher_quality",
      "encoder_sparsity", "model_sparsity", "params_M", "seeds"]].round(3)

# %% [markdown]
# One row per task and strategy: `quality` is the mean over the seeds with its 95 % interval over seeds and
# rows (`quality_lo`, `quality_hi`); `hit_target` says whether every seed kept exactly d_s layers
# (`hit_share`: the share that did); `per_seed` (in the run info) has every run, labelled with the decoder
# layers the student reached; `encoder_sparsity` is what
# the deterministic encoder masks reached (target 0.3); `model_sparsity` counts the dropped decoder
# layers too. A learned selection that keeps more than two layers is a larger model, so its quality is
# not comparable with the others': the paper greys it out, we hatch it.

# %% [markdown]
# ## The figure
#
# Left: quality per task and strategy (`ablations.quality_bars`: the task's metric x 100; the dotted
# line is the teacher on the same rows; a hatched `l0` bar missed its two-layer target).
# `uniform-paper` is drawn only where it picked other layers than `uniform`; the bars carry the 95 % interval of
# the mean over seeds and rows. Right: which of the teacher's decoder layers each student kept (the first
# seed's; `l0`'s share of seeds that kept exactly d_s layers beside it).

# %%
def layers_panel(ax, data, colors):
    """Which teacher decoder layers each student kept (filled), one row per strategy, grouped by task."""
    titles, max_L = list(dict.fromkeys(data.title)), int(data.teacher_decoder_layers.max())
    grid = [(t, s) for t in titles for s in [None] + STRATEGIES]  # None: the task's header
    for i, (title, s) in enumerate(grid):
        if s is None:
            ax.text(-0.5, i + 0.1, title, ha="left", va="center", fontsize=8, fontweight="bold")
            continue
        row = data[(data.title == title) & (data.strategy == s)].iloc[0]
        L = int(row.teacher_decoder_layers)
        ax.scatter(range(L), [i] * L, s=30, facecolors="none", edgecolors="#bbbbbb", linewidths=0.8)
        ax.scatter(row.layers_kept, [i] * len(row.layers_kept), s=45, color=colors[s], edgecolors="black",
                   linewidths=0.5, zorder=3)
        if s == "l0":
            ax.text(max_L - 0.3, i, f"hit {row.hit_share:.0%}", va="center", fontsize=7,
                    color="black" if row.hit_target else "firebrick")
    for j in range(1, len(titles)):
        ax.axhline(j * (len(STRATEGIES) + 1) - 0.5, color="black", lw=0.8)
    ax.set_yticks(range(len(grid)), [s or "" for _, s in grid], fontsize=8)
    ax.set_xticks(range(max_L))
    ax.set(xlim=(-0.6, max_L + 1.4), ylim=(len(grid) - 0.5, -0.7))  # top to bottom, room for the first header
    ax.grid(False)
    ax.set(xlabel="teacher decoder layer", title="decoder layers kept (filled)")
    return len(grid)

# %%
same_uniform = bool((data[data.strategy == "uniform-paper"].reused_from == "uniform").all())
shown = [s for s in STRATEGIES if not (s == "uniform-paper" and same_uniform)]
palette = sns.color_palette(plotting.PALETTE, 10)
colors = dict(zip(STRATEGIES, [palette[0], palette[9], palette[2], palette[3], palette[4]]))  # two blues: uniform
n_grid = len(TEACHERS) * (len(STRATEGIES) + 1)
fig, axes = plotting.subplots(1, 2, width=5.6, height=max(3.8, 0.9 + 0.26 * n_grid),
                              gridspec_kw=dict(width_ratios=[1.25, 1]))
ax, ax2 = axes[0]
ablations.quality_bars(ax, data.assign(missed=~data.hit_target), shown, colors, missed="missed",
                       labels={"uniform": "uniform (= uniform-paper: same layers)"} if same_uniform else None)
ax.set_title(f"quality of the {DECODER_LAYERS}-layer decoders, {len(SEEDS)} seeds\n(hatched: l0 missed its target)")
ax.legend(fontsize=7, loc="upper left", ncol=2)
layers_panel(ax2, data, colors)
fig.suptitle(f"Table 3: decoder layer selection for NASH-{DECODER_LAYERS}, encoder L0 at 0.3 ({P.name} profile)")
plotting.plt.show()

# %% [markdown]
# ## Our numbers beside the paper's
#
# One row per strategy; for each of our tasks the decoder layers the student reached and its quality
# (the metric x 100), then the paper's Table 3 (T5-base; accuracy for RTE, BoolQ and CB, ROUGE-L for
# SAMSum, METEOR for TweetQA), built by `ablations.beside_paper`. Below it: the teacher on the same rows,
# the layers our L0 selection kept, and the sublayers the paper's L0 selection left (self-attention,
# cross-attention, FFN, of 12 each).

# %%
paper3 = ablations.paper_frame(paper.TABLE3, paper.TABLE3_DATASETS)
side = ablations.beside_paper(data, paper3, strategies=STRATEGIES, ours=("decoder_layers", "quality"),
                              source=f"ours ({P.name})")
print(side.round(2).to_string())
l0, l0_runs = data[data.strategy == "l0"], per_seed[per_seed.strategy == "l0"]
print("\nteacher (same rows): " + ", ".join(f"{r.title} {r.teacher_quality:.2f}" for r in l0.itertuples()))
print("ours, l0 layers kept per seed: " + "; ".join(f"{t}: " + ", ".join(map(str, g.layers_kept)) +
                                                  f" (hit {int(g.hit_target.sum())}/{len(g)})"
                                                  for t, g in l0_runs.groupby("title", sort=False)))
print("paper, l0 SA/CA/FF left: " + ", ".join(f"{d} {c}" for d, c in zip(paper.TABLE3_DATASETS,
                                                                         paper.TABLE3_L0_LAYERS))
      + " (l0 missed its target on all but BoolQ)")

# %% [markdown]
# ## Verdict
#
# The claim has three parts; the rule for each is ours (the paper states it in words), and each goes
# through `nashlib.results.verdicts` (`V`):
# 1. *Uniform beats low and high*: on each task, uniform is compared with low and with high; it wins
#    when `V.beats(uniform, rival, margin=TIE)` holds, loses when `V.beats(rival, uniform, margin=TIE)`
#    holds, and ties otherwise (`TIE` quality points, 1 by default). On our runs each is the mean paired
#    difference over the seeds with its 95 % interval over seeds and rows, so a win needs the whole
#    interval above `TIE` and anything short of that is a tie (or inconclusive); on the paper's numbers it
#    is a plain comparison. The part holds if uniform never
#    loses and wins at least half of the comparisons; it partly holds when it wins more than it loses
#    (`V.combine` of the three checks, with "wins more than it loses" required).
# 2. *The margin is larger on generation tasks*: the mean margin of uniform over the mean of low and
#    high is larger, by more than `TIE`, on generation tasks than on classification tasks
#    (`V.beats` with margin `TIE`). This needs teachers of both kinds; where the profile lacks one, the
#    part is not measured and left out of the verdict.
# 3. *L0 misses its target on most tasks*: on a task, the learned selection misses when fewer than half of
#    its seeds kept exactly d_s layers; the part holds when it misses on more than half of the tasks.
#
# The table ends with the same rules applied to the paper's own numbers (with "missed" read from the
# paper's grey cells: all but BoolQ), to show the thresholds reproduce the paper's reading.

# %%
def outcome(win: V.Verdict, loss: V.Verdict) -> str:
    return "win" if win.holds else "loss" if loss.holds else "tie"


def uniform_part(quality: dict[str, dict[str, float]]):
    """Part 1 from {task: {strategy: quality}}: the verdict, and {(task, rival): (win, loss) verdicts}."""
    duels = {(t, r): (V.beats(q["uniform"], q[r], margin=TIE, names=("uniform", r), claim=f"{t}: uniform beats {r}"),
                      V.beats(q[r], q["uniform"], margin=TIE, names=(r, "uniform"), claim=f"{t}: {r} beats uniform"))
             for t, q in quality.items() for r in ("low", "high")}
    wins, losses = sum(w.holds for w, _ in duels.values()), sum(lo.holds for _, lo in duels.values())
    more = V.beats(wins, losses, names=("wins", "losses"), claim="uniform wins more comparisons than it loses")
    part = V.combine([V.at_most(losses, 0, name="losses", claim="uniform never loses to low or high"),
                      V.at_least(wins, len(duels) / 2, name="wins", claim="uniform wins at least half the comparisons"),
                      more], required=[more], claim="uniform beats low and high")
    return part, duels


def generation_part(quality: dict, generation: dict[str, bool]) -> V.Verdict:
    """Part 2: uniform's margin over the mean of low and high, generation tasks against classification tasks."""
    margin = {t: q["uniform"] - (q["low"] + q["high"]) / 2 for t, q in quality.items()}
    gen, cls = [margin[t] for t in margin if generation[t]], [margin[t] for t in margin if not generation[t]]
    claim = "uniform's margin is larger on generation tasks"
    if not (gen and cls):
        return V.not_measured(claim=claim, why=f"the tasks include no {'generation' if not gen else 'classification'} "
                              "task")
    return V.beats(float(np.mean(gen)), float(np.mean(cls)), margin=TIE, claim=claim,
                   names=("mean generation margin", "mean classification margin"))

# %%
def judge(quality: dict, generation: dict[str, bool], reached: dict[str, V.Verdict]):
    """The claim's verdict from qualities, task kinds and l0's target verdicts per task; with parts 1-3 and duels."""
    part1, duels = uniform_part(quality)
    part2 = generation_part(quality, generation)
    missed = float(np.mean([not v.holds for v in reached.values()]))
    part3 = V.at_least(missed, 0.5, strict=True, name="share of tasks where l0 missed",
                       claim="L0 selection misses its target on most tasks")
    testable = [p for p in (part1, part2, part3) if not p.rule.startswith("not measured")]
    return V.combine(testable, claim="Table 3: uniform selection beats low and high, most on generation; "
                     "L0 misses its target"), (part1, part2, part3), duels


q_ours = SCORES  # {title: {strategy: (seeds, rows) scores}}: every comparison is paired by seed and row
gen_ours = {t: bool(data[data.title == t].generation.iloc[0]) for t in q_ours}
reached_ours = {r.title: V.at_least(r.hit_share, 0.5, name="share of seeds keeping d_s layers",
                                    claim=f"{r.title}: l0 keeps {DECODER_LAYERS} layers (in most seeds)")
                for r in l0.itertuples()}
VERDICT, PARTS, DUELS = judge(q_ours, gen_ours, reached_ours)

# %%
q_paper = {d: {s: paper.TABLE3[s][i] for s in paper.TABLE3} for i, d in enumerate(paper.TABLE3_DATASETS)}
gen_paper = {d: d in ("SAMSum", "TweetQA") for d in paper.TABLE3_DATASETS}
reached_paper = {d: V.fact(d == "BoolQ", claim=f"{d}: l0 keeps its target", rule="the paper's grey cells")
                 for d in paper.TABLE3_DATASETS}
VERDICT_PAPER, PARTS_PAPER, _ = judge(q_paper, gen_paper, reached_paper)
MEANS = {t: data[data.title == t].set_index("strategy").quality for t in q_ours}
per_task = pd.DataFrame([dict(title=t, **{s: MEANS[t][s] for s in ("uniform", "low", "high", "l0")},
                              uniform_vs_low=outcome(*DUELS[(t, "low")]), uniform_vs_high=outcome(*DUELS[(t, "high")]),
                              uniform_minus_low=paired.interval_text(DUELS[(t, "low")][0]),
                              uniform_minus_high=paired.interval_text(DUELS[(t, "high")][0]),
                              l0_hit_share=float(l0.set_index("title").hit_share[t]),
                              l0_hit_target=reached_ours[t].holds) for t in q_ours])
print(per_task.round(2).to_string(index=False) + "\n")
print(f"Ours ({P.name} profile, {len(SEEDS)} paired seeds; a win needs the 95% CI above {TIE:g} points):")
for v in [w for w, _ in DUELS.values()] + list(reached_ours.values()) + list(PARTS) + [VERDICT]:
    print(" ", v.line())
print("\nThe paper's numbers under the same rules:")
for v in list(PARTS_PAPER) + [VERDICT_PAPER]:
    print(" ", v.line())

# %% [markdown]
# **Reading it.** A two-layer decoder that keeps the first and the last teacher layer starts closest to
# the teacher's function: layer 0 reads the embeddings the way the teacher's did, and the last layer
# writes the representation the output head was trained on, so distillation has the least to repair.
# The low selection keeps the input side and loses the output side; the high selection loses the
# bottom layer and, with it, T5's relative position bias (ours moves the table into the new first
# layer, but that layer never learned to use it). Generation needs every decoding step to be right,
# which is why the paper sees the largest gaps on SAMSum and TweetQA. On a classification task that
# the decoder answers with a single label word the decoder matters less, and in short from-scratch runs
# the differences can sit within the noise of the validation rows (one row is `100 / eval_rows` points).
# The learned selection has two constraints pulling at once (encoder width and decoder depth); when its
# layer masks have not settled to exactly two open layers by the end of the warm-up, it keeps more
# (or, rarely, fewer) layers, which is the instability the paper reports.


# %%
ours = (f"{P.name} profile ({P.scale()}), NASH-{DECODER_LAYERS}: " + "; ".join(
    f"{r.title}: uniform {r.uniform:.1f}, low {r.low:.1f}, high {r.high:.1f}, l0 {r.l0:.1f} (kept {DECODER_LAYERS} "
    f"layers in {r.l0_hit_share:.0%} of seeds); uniform - low {r.uniform_minus_low}, uniform - high "
    f"{r.uniform_minus_high} (95% CI over seeds x rows)" for r in per_task.itertuples())
    + f"; uniform vs low/high: {(per_task[['uniform_vs_low', 'uniform_vs_high']] == 'win').sum().sum()} wins, "
    f"{(per_task[['uniform_vs_low', 'uniform_vs_high']] == 'loss').sum().sum()} losses; "
    f"generation-margin part: {PARTS[1].outcome}")
print(ours)
FINDING = V.Finding(
    "Table 3", "uniform decoder layer selection beats low and high (most on generation tasks); L0 layer selection "
    f"misses its target on most tasks ({len(SEEDS)} paired seeds; a win needs the 95% CI above {TIE:g} points)",
    "uniform > low > high on RTE, CB, SAMSum, TweetQA (low ahead on BoolQ by 0.31); gaps largest on SAMSum "
    f"(uniform 47.37, high 39.45) and TweetQA; L0 missed its target on 4 of 5 tasks (same rules: "
    f"{VERDICT_PAPER.outcome})", ours, VERDICT)
paths = plotting.save_figure(
    fig, "table3_layer_selection", data, out_dir=OUT_DIR, profile=P.name,
    parameters=dict(profile=P.asdict(), decoder_layers=DECODER_LAYERS, tie=TIE),
    seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    teachers=TEACHER_TABLE.to_dict("records"), reused=REUSED, per_task=per_task.to_dict("records"),
    per_seed=per_seed.drop(columns=["layers_kept"]).to_dict("records"),
    verdicts=dict(ours=VERDICT.asdict(), paper_same_rules=VERDICT_PAPER.asdict()), findings=[FINDING.asdict()])
paths
