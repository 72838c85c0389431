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
# **What we do.** The same five students per task, with `experiment.nash(2, RECIPE, selection=s)`:
#
# - `uniform`: the official code's rule, `floor((L - 1) * l / (d_s - 1))`; this is Table 1's NASH-2
#   (`experiment.lineup`), so it comes from the on-disk cache when another notebook trained it;
# - `uniform-paper`: the rule as printed in the paper (Section 4.1), `floor((L - 1) / (d_s - 1)) * l`;
#   for d_s = 2 both rules keep the first and the last layer, so where they pick the same layers
#   (`select.select_layers` says) we reuse the uniform student instead of training a duplicate;
# - `low` (layers 0 and 1) and `high` (the last two; `nashlib.select` moves T5's relative-position
#   table into the new first layer, so the high selection still sees positions);
# - `l0`: learned layer masks with a second Lagrangian constraint pushing the number of kept decoder
#   layers to 2; the layers whose deterministic mask is open are kept. We report which ones, and
#   whether there were exactly two (`report["decoder_layers_hit_target"]`).
#
# **How it differs from the paper.** The paper's L0 masks close self-attention, cross-attention and FFN
# *sublayers* separately (its last row counts them); ours close whole decoder layers, so "hit the
# target" means exactly two layers kept. The paper prunes T5-base on RTE, BoolQ, CB, SAMSum and TweetQA;
# we prune the teachers of the chosen profile. In the `cpu` profile these are small T5s trained from
# scratch here (4 encoder and 12 decoder layers, d_model 256) on the tasks that passed the teachers
# notebook's rule (GLUE SST-2, a classification task, and SST-2 frequent words, a generation task
# derived from SST-2's sentences, not the paper's: its outputs are a few words, far shorter than a
# summary), and pruning runs a few hundred steps, not 20 epochs. Where a profile has no
# generation task, the claim's "more pronounced in NLG tasks" part cannot be tested, and the verdict
# says so.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.profiles)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch (the students are seed 0, as in Table 1)
OVERRIDES: dict = {}  # profile fields to replace (see nashlib.profiles)
RECIPE_OVERRIDES: dict = {}  # nashlib.experiment.StudentRecipe fields to replace, e.g. {"steps": 100}
MARGIN: float = 0.10  # how far (metric points / 100) a teacher must beat its best trivial baseline to be pruned
DECODER_LAYERS: int = 2  # d_s: decoder layers every strategy keeps (the paper's Table 3: 2)
TIE: float = 0.5  # quality points (x100): differences within this count as ties in the verdict

# %%
import dataclasses
import textwrap
import time

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib import env, experiment, paper, plotting, select, tasks

P, RUN = env.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES)
RECIPE = experiment.student_recipe(P.name, **RECIPE_OVERRIDES)
TEACHERS, TEACHER_TABLE = experiment.pruning_teachers(P.name, margin=MARGIN)
T0 = time.perf_counter()
if not 0 <= TIE < 100:
    raise ValueError(f"TIE={TIE!r}; allowed: 0 <= tie < 100 (quality points)")
if not isinstance(DECODER_LAYERS, int) or DECODER_LAYERS < 1:
    raise ValueError(f"DECODER_LAYERS={DECODER_LAYERS!r}; allowed: an integer >= 1")
STRATEGIES = ["uniform", "uniform-paper", "low", "high", "l0"]
print(f"profile {P.name}: {len(TEACHERS)} teacher(s); NASH-{DECODER_LAYERS} with encoder target 0.3, "
      f"{RECIPE.steps} pruning steps (target warm-up {RECIPE.warmup_steps}), {RECIPE.finetune_steps} fine-tuning steps")
TEACHER_TABLE

# %% [markdown]
# ## The layers each index rule picks
#
# `select.select_layers` is the rule the pruning code uses. For T5-base's 12 decoder layers and d_s = 2
# the two uniform rules agree on [0, 11]; they part only for d_s >= 3 (for d_s = 3: [0, 5, 11] against
# [0, 5, 10]). The learned `l0` selection has no rule; its layers are known only after training.

# %%
depths = sorted({t.model.config.num_decoder_layers for t in TEACHERS.values()})
rules = pd.DataFrame([dict(teacher_decoder_layers=L, strategy=s, layers=select.select_layers(L, DECODER_LAYERS, s))
                      for L in depths for s in select.STRATEGIES])
assert select.select_layers(12, 2, "uniform") == select.select_layers(12, 2, "uniform-paper") == [0, 11]
rules

# %% [markdown]
# ## The students
#
# `experiment.student` prunes a copy of the teacher (L0 masks on the encoder's heads and FFN units,
# distilling from the teacher), compacts it, fine-tunes it, saves and reloads it, and scores it on the
# validation rows the teacher was scored on (checked below), so the teacher's score is the reference
# for every column.

# %%
rows, REUSED = [], []
for name, t in TEACHERS.items():
    task, L = tasks.get(name), t.model.config.num_decoder_layers
    lineup = experiment.lineup(t, RECIPE)
    students, picked, reused = {}, {}, {}
    for s in STRATEGIES:
        if s != "l0":
            picked[s] = select.select_layers(L, DECODER_LAYERS, s)
            twin = next((o for o in students if o != "l0" and picked[o] == picked[s]), None)
            if twin is not None:  # same layers, same everything else: the same student
                students[s], reused[s] = students[twin], twin
                REUSED.append(f"{task.title}: '{s}' keeps layers {picked[s]}, as '{twin}' does; its student is reused")
                continue
        cfg = experiment.nash(DECODER_LAYERS, RECIPE, selection=s)
        if s == "uniform" and f"NASH-{DECODER_LAYERS}" in lineup:  # Table 1's NASH-d_s: one cached student
            assert cfg == lineup[f"NASH-{DECODER_LAYERS}"]
        students[s] = experiment.student(t, cfg, RECIPE)
    n_rows, t_quality = len(t.info["predictions"]), t.scores["score"] * 100  # the students' rows too
    for s, st in students.items():
        r = st.report
        kept = list(r["decoder_layers_kept"]) if s == "l0" else list(r["decoder_map"])
        # invariants of every run, whatever the profile
        assert st.model.config.model_type == "nash_t5", "the scored model is not the compacted, reloaded one"
        assert 0.0 <= st.scores["score"] <= 1.0
        assert len(st.info["predictions"]) == n_rows, "the student was scored on other rows than its teacher"
        assert st.info["parameters"] <= st.info["teacher_parameters"]
        assert st.model.config.num_decoder_layers == len(kept) == len(r["decoder_map"])
        assert list(st.model.config.nash_selected_layers) == list(r["decoder_map"])
        if s == "l0":
            assert r["selection"] == "l0" and r["decoder_layers_target"] == DECODER_LAYERS
            assert r["decoder_layers_hit_target"] == (len(kept) == DECODER_LAYERS)
        else:
            assert kept == picked[s], f"{s}: kept {kept}, the rule picks {picked[s]}"
            assert st.model.config.num_decoder_layers == DECODER_LAYERS
            if DECODER_LAYERS < L:
                assert st.info["parameters"] < st.info["teacher_parameters"]
        rows.append(dict(task=name, title=task.title, kind=task.kind, metric=task.metric,
                         generation=experiment.is_generation(name), strategy=s, layers_kept=kept,
                         n_layers=len(kept), hit_target=len(kept) == DECODER_LAYERS,
                         reused_from=reused.get(s, ""),
                         quality=st.scores["score"] * 100, teacher_quality=t_quality, eval_rows=n_rows,
                         encoder_sparsity=r["encoder_actual"], model_sparsity=r["model_actual"],
                         params_M=st.info["parameters"] / 1e6, teacher_params_M=st.info["teacher_parameters"] / 1e6,
                         teacher_decoder_layers=L, folder=st.folder.name))
    del students
data = pd.DataFrame(rows)
assert len(data) == len(TEACHERS) * len(STRATEGIES)
print("\n".join(REUSED) or "every strategy picked different layers: no student reused")
data[["title", "strategy", "layers_kept", "hit_target", "reused_from", "quality", "teacher_quality", "encoder_sparsity",
      "model_sparsity", "params_M"]].round(3)

# %% [markdown]
# `encoder_sparsity` is what the deterministic encoder masks reached (target 0.3); `model_sparsity`
# counts the dropped decoder layers too. A learned selection that keeps more than two layers is a larger
# model, so its quality is not comparable with the others': the paper greys it out, we hatch it.

# %% [markdown]
# ## The figure
#
# Left: quality per task and strategy (the task's metric x 100; the dotted line is the teacher on the
# same rows; a hatched `l0` bar missed its two-layer target). `uniform-paper` is drawn only where it
# picked other layers than `uniform`. Right: which of the teacher's decoder layers each student kept.

# %%
def wrap(text, width=22):
    return "\n".join(textwrap.wrap(text, width))


same_uniform = bool((data[data.strategy == "uniform-paper"].reused_from == "uniform").all())
shown = [s for s in STRATEGIES if not (s == "uniform-paper" and same_uniform)]
palette = sns.color_palette(plotting.PALETTE, 10)
colors = dict(zip(STRATEGIES, [palette[0], palette[9], palette[2], palette[3], palette[4]]))  # two blues: uniform
titles = list(dict.fromkeys(data.title))
grid_rows = [(t, None) if s is None else (t, s) for t in titles for s in [None] + STRATEGIES]  # None: task header
max_L = int(data.teacher_decoder_layers.max())
fig, axes = plotting.subplots(1, 2, width=5.6, height=max(3.8, 0.9 + 0.26 * len(grid_rows)),
                              gridspec_kw=dict(width_ratios=[1.25, 1]))
ax, ax2 = axes[0]
width = 0.8 / len(shown)
for k, s in enumerate(shown):
    sub = data[data.strategy == s].set_index("title").loc[titles]
    x = np.arange(len(titles)) + (k - (len(shown) - 1) / 2) * width
    label = "uniform (= uniform-paper: same layers)" if s == "uniform" and same_uniform else s
    bars = ax.bar(x, sub.quality, width=width, color=colors[s], label=label, edgecolor="black", linewidth=0.5)
    for bar, hit in zip(bars, sub.hit_target):
        if not hit:
            bar.set_hatch("///")
            bar.set_alpha(0.6)
    for xi, q in zip(x, sub.quality):
        ax.text(xi, q + 0.5, f"{q:.1f}", ha="center", va="bottom", fontsize=7, rotation=90)
for i, title in enumerate(titles):
    tq = data[data.title == title].teacher_quality.iloc[0]
    ax.plot([i - 0.45, i + 0.45], [tq, tq], color="black", ls=":", lw=1.5, label="teacher" if i == 0 else None)
metrics = [data[data.title == t].metric.iloc[0] for t in titles]
ax.set_xticks(range(len(titles)), [wrap(f"{t} [{m}]") for t, m in zip(titles, metrics)], fontsize=8)
ax.set(ylabel="quality (the task's metric x 100)", ylim=(0, min(110, data.quality.max() * 1.25 + 5)),
       title=f"quality of the {DECODER_LAYERS}-layer decoders\n(hatched: l0 missed its target)")
ax.legend(fontsize=7, loc="upper left", ncol=2)

for i, (title, s) in enumerate(grid_rows):
    if s is None:
        ax2.text(-0.5, i + 0.1, title, ha="left", va="center", fontsize=8, fontweight="bold")
        continue
    row = data[(data.title == title) & (data.strategy == s)].iloc[0]
    L = row.teacher_decoder_layers
    ax2.scatter(range(L), [i] * L, s=30, facecolors="none", edgecolors="#bbbbbb", linewidths=0.8)
    ax2.scatter(row.layers_kept, [i] * len(row.layers_kept), s=45, color=colors[s], edgecolors="black",
                linewidths=0.5, zorder=3)
    if s == "l0":
        ax2.text(max_L - 0.3, i, "hit" if row.hit_target else f"missed ({row.n_layers})", va="center", fontsize=7,
                 color="black" if row.hit_target else "firebrick")
for j in range(1, len(titles)):
    ax2.axhline(j * (len(STRATEGIES) + 1) - 0.5, color="black", lw=0.8)
ax2.set_yticks(range(len(grid_rows)), [s or "" for _, s in grid_rows], fontsize=8)
ax2.set_xticks(range(max_L))
ax2.set_xlim(-0.6, max_L + 1.4)
ax2.set_ylim(len(grid_rows) - 0.5, -0.7)  # top to bottom, room for the first task's header
ax2.grid(False)
ax2.set(xlabel="teacher decoder layer", title="decoder layers kept (filled)")
fig.suptitle(f"Table 3: decoder layer selection for NASH-{DECODER_LAYERS}, encoder L0 at 0.3 ({P.name} profile)")
plotting.plt.show()

# %% [markdown]
# ## Our numbers beside the paper's
#
# One row per task and strategy; the quality columns are the metric x 100. The paper's Table 3 follows
# (T5-base; accuracy for RTE, BoolQ and CB, ROUGE-L for SAMSum, METEOR for TweetQA), with the
# sublayers its L0 selection left (self-attention, cross-attention, FFN, of 12 each).

# %%
ours_table = data.pivot(index="strategy", columns="title", values="quality").loc[STRATEGIES, titles].round(2)
ours_table.loc["teacher (same rows)"] = [data[data.title == t].teacher_quality.iloc[0].round(2) for t in titles]
ours_table.loc["l0: layers kept"] = [str(data[(data.title == t) & (data.strategy == "l0")].layers_kept.iloc[0])
                                     for t in titles]
ours_table.loc["l0: hit target"] = [bool(data[(data.title == t) & (data.strategy == "l0")].hit_target.iloc[0])
                                    for t in titles]
print(f"Ours ({P.name} profile):")
print(ours_table.to_string())
paper_table = pd.DataFrame(paper.TABLE3, index=paper.TABLE3_DATASETS).T
paper_table.loc["l0: SA, CA, FF left"] = [", ".join(map(str, c)) for c in paper.TABLE3_L0_LAYERS]
print("\nThe paper (Table 3, T5-base; l0 missed its target on all but BoolQ):")
print(paper_table.to_string())

# %% [markdown]
# ## Verdict
#
# The claim has three parts; the rule for each is ours (the paper states it in words):
# 1. *Uniform beats low and high*: on each task, uniform is compared with low and with high; a
#    difference within `TIE` quality points (0.5 by default) is a tie. The part holds if uniform never
#    loses and wins at least half of the comparisons; "partly holds" if it wins more than it loses.
# 2. *The margin is larger on generation tasks*: the mean margin of uniform over the mean of low and
#    high is larger, by more than `TIE`, on generation tasks than on classification tasks. This needs
#    teachers of both kinds; where the profile lacks one, the part is "not testable" and left out.
# 3. *L0 misses its target on most tasks*: the learned selection keeps a number of layers other than
#    d_s on more than half of the tasks.
#
# The table ends with the same rules applied to the paper's own numbers (with "missed" read from the
# paper's grey cells: all but BoolQ), to show the thresholds reproduce the paper's reading.

# %%
def compare(diff: float) -> str:
    return "win" if diff > TIE else "loss" if diff < -TIE else "tie"


def judge(quality: dict[str, dict[str, float]], generation: dict[str, bool], missed: dict[str, bool]) -> dict:
    """The three parts' verdicts from {task: {strategy: quality}}, {task: is generation}, {task: l0 missed}."""
    outcomes = [compare(q["uniform"] - q[rival]) for q in quality.values() for rival in ("low", "high")]
    wins, losses = outcomes.count("win"), outcomes.count("loss")
    part1 = ("holds" if losses == 0 and wins >= len(outcomes) / 2 else
             "partly holds" if wins > losses else "does not hold")
    margin = {t: q["uniform"] - (q["low"] + q["high"]) / 2 for t, q in quality.items()}
    gen = [margin[t] for t in quality if generation[t]]
    cls = [margin[t] for t in quality if not generation[t]]
    if gen and cls:
        part2 = "holds" if np.mean(gen) > np.mean(cls) + TIE else "does not hold"
    else:
        part2 = "not testable"
    share_missed = np.mean(list(missed.values()))
    part3 = "holds" if share_missed > 0.5 else "does not hold"
    parts = [p for p in (part1, part2, part3) if p != "not testable"]
    overall = ("holds" if all(p == "holds" for p in parts) else
               "does not hold" if all(p == "does not hold" for p in parts) else "partly holds")
    return dict(uniform_wins=wins, ties=outcomes.count("tie"), uniform_losses=losses,
                margin_generation=float(np.mean(gen)) if gen else np.nan,
                margin_classification=float(np.mean(cls)) if cls else np.nan,
                l0_missed_share=float(share_missed), part1_uniform_beats_low_high=part1,
                part2_margin_larger_on_generation=part2, part3_l0_misses_target=part3, verdict=overall)


q_ours = {t: data[data.title == t].set_index("strategy").quality.to_dict() for t in titles}
gen_ours = {t: bool(data[data.title == t].generation.iloc[0]) for t in titles}
missed_ours = {t: not bool(data[(data.title == t) & (data.strategy == "l0")].hit_target.iloc[0]) for t in titles}
q_paper = {d: {s: paper.TABLE3[s][i] for s in paper.TABLE3} for i, d in enumerate(paper.TABLE3_DATASETS)}
gen_paper = {d: d in ("SAMSum", "TweetQA") for d in paper.TABLE3_DATASETS}
missed_paper = {d: d != "BoolQ" for d in paper.TABLE3_DATASETS}
verdicts = pd.DataFrame([dict(source=f"ours ({P.name})", **judge(q_ours, gen_ours, missed_ours)),
                         dict(source="paper (same rules)", **judge(q_paper, gen_paper, missed_paper))])
VERDICT = verdicts.verdict.iloc[0]
per_task = pd.DataFrame([dict(title=t, uniform=q["uniform"], low=q["low"], high=q["high"], l0=q["l0"],
                              uniform_vs_low=compare(q["uniform"] - q["low"]),
                              uniform_vs_high=compare(q["uniform"] - q["high"]),
                              l0_layers=str(data[(data.title == t) & (data.strategy == "l0")].layers_kept.iloc[0]),
                              l0_hit_target=not missed_ours[t]) for t, q in q_ours.items()])
print(per_task.round(2).to_string(index=False))
print()
print(verdicts.round(3).T.to_string(header=False))
print(f"\nTable 3 (ties within {TIE:g} points): {VERDICT}")

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
scale = experiment.scale(P.name, TEACHERS.values())
ours = (f"{P.name} profile ({scale}), NASH-{DECODER_LAYERS}: " + "; ".join(
    f"{r.title}: uniform {r.uniform:.1f}, low {r.low:.1f}, high {r.high:.1f}, l0 {r.l0:.1f} "
    f"(layers {r.l0_layers}, {'hit' if r.l0_hit_target else 'missed'} target)" for r in per_task.itertuples())
    + f"; uniform vs low/high: {verdicts.uniform_wins[0]} wins, {verdicts.ties[0]} ties, "
    f"{verdicts.uniform_losses[0]} losses; generation-margin part: {verdicts.part2_margin_larger_on_generation[0]}")
print(ours)
paths = plotting.save_figure(
    fig, "table3_layer_selection", data, out_dir=OUT_DIR, profile=P.name,
    parameters=dict(profile=P.asdict(), recipe=dataclasses.asdict(RECIPE), decoder_layers=DECODER_LAYERS, tie=TIE),
    seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    teachers=TEACHER_TABLE.to_dict("records"), reused=REUSED, per_task=per_task.to_dict("records"),
    verdicts=verdicts.to_dict("records"),
    findings=[dict(finding="Table 3", claim="uniform decoder layer selection beats low and high (most on generation "
                   f"tasks); L0 layer selection misses its target on most tasks (ties within {TIE:g} points)",
                   paper="uniform > low > high on RTE, CB, SAMSum, TweetQA (low ahead on BoolQ by 0.31); gaps largest "
                         "on SAMSum (uniform 47.37, high 39.45) and TweetQA; L0 missed its target on 4 of 5 tasks",
                   ours=ours, verdict=VERDICT)])
paths
