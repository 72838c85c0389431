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
# # Figure 8 (Appendix A): CoFi-T5 is unstable at a high target sparsity
#
# **The paper's claim** (Ko et al. 2023, Appendix A and Figure 8): pruning T5-base with CoFi (L0 masks
# on heads, FFN units, whole sublayers and hidden dimensions of encoder *and* decoder, one Lagrangian
# constraint on the whole model's sparsity) at a target of 90 % does not land on the target. Over 20
# seeds, RTE runs mostly *over*-prune, SAMSum runs *all* under-prune, and the output quality varies
# more across seeds than CoFi's does on BERT-base. The paper reads this as instability of
# pruning-aware training of encoder-decoder models, and it is one reason NASH constrains only the
# encoder's width and fixes the decoder's depth by hand.
#
# **What we do.** The same experiment on the teachers of the chosen profile: CoFi-T5 at the recipe's
# high target (`RECIPE.high_sparsity`, the paper's 0.9) once per seed in `RECIPE.seeds` (the paper: 20
# seeds; the cpu profile: fewer, to fit its budget). Beside it, under the same seeds, NASH-3 (three
# uniformly chosen decoder layers, L0 masks on the encoder's heads and FFN units at the standard
# encoder target 0.3). For every run we read the sparsity the *deterministic* masks actually reached
# in the scope the method constrains (CoFi: the whole model; NASH: the encoder), counted over the
# prunable attention and FFN weights against the teacher (the paper's footnote 2: embeddings
# excluded), and the student's quality on the validation rows after compaction and fine-tuning.
#
# **How it differs from the paper.** The paper's comparison is CoFi on T5-base against CoFi on
# BERT-base; we have no BERT, so the comparison is against NASH on the same teacher, which is the
# comparison that matters for the paper's argument (does constraining only the encoder avoid the
# instability?). NASH's target (0.3 of the encoder) is far milder than CoFi's (0.9 of the model), so
# the two methods' *mean* quality is not comparable; their spread across seeds, and how far each
# misses its own target, are. In the `cpu` profile the teachers are small T5s trained from scratch
# here on the tasks the teachers notebook keeps (GLUE SST-2, a classification task, and SST-2 frequent
# words, a generation task derived from SST-2's sentences, not the paper's), not pretrained T5-base on
# RTE and SAMSum,
# and the pruning runs are a few hundred steps, not 20 epochs.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.profiles)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch (each pruning run has its own seed from RECIPE.seeds)
OVERRIDES: dict = {}  # profile fields to replace (see nashlib.profiles)
RECIPE_OVERRIDES: dict = {}  # nashlib.experiment.StudentRecipe fields to replace, e.g. {"seeds": [0, 1, 2]}
MARGIN: float = 0.10  # how far (metric points / 100) a teacher must beat its best trivial baseline to be pruned
TOLERANCE: float = 0.02  # a run is on target when it misses the target sparsity by at most this much
NASH_DECODER_LAYERS: int = 3  # the NASH comparison: NASH-3, as in Table 1
NASH_SPARSITY: float = 0.3  # NASH's encoder target sparsity, as in Table 1

# %%
import dataclasses
import textwrap
import time

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib import env, experiment, paper, plotting, tasks

P, RUN = env.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES)
RECIPE = experiment.student_recipe(P.name, **RECIPE_OVERRIDES)
TEACHERS, TEACHER_TABLE = experiment.pruning_teachers(P.name, margin=MARGIN)
T0 = time.perf_counter()
if len(RECIPE.seeds) < 2:
    raise ValueError(f"RECIPE.seeds={RECIPE.seeds}: Figure 8 compares the spread across seeds, so it needs at "
                     "least two seeds (RECIPE_OVERRIDES={'seeds': [0, 1, ...]})")
if not 0 < TOLERANCE < 1:
    raise ValueError(f"TOLERANCE={TOLERANCE!r}; allowed: 0 < tolerance < 1")
print(f"profile {P.name}: CoFi-T5 at target {RECIPE.high_sparsity} and NASH-{NASH_DECODER_LAYERS} at encoder "
      f"target {NASH_SPARSITY}, seeds {list(RECIPE.seeds)}; {RECIPE.steps} pruning steps "
      f"(target warm-up {RECIPE.warmup_steps}), {RECIPE.finetune_steps} fine-tuning steps")
TEACHER_TABLE

# %% [markdown]
# ## The runs
#
# `experiment.cofi(high, RECIPE, seed=s)` and `experiment.nash(3, RECIPE, seed=s)` name each run; the
# seed sets the masks' initial noise, the sampled masks, dropout and the batch order. Every student is
# cached on disk by its configuration: NASH-3 at seed 0 is exactly Table 1's NASH-3 (checked below), so
# it is shared with the notebooks that need it and trained once. A run is pruned, compacted, fine-tuned,
# saved, reloaded and scored on the validation rows (`nashlib.experiment.student`).

# %%
COFI = f"CoFi-T5 (model target {RECIPE.high_sparsity:g})"
NASH = f"NASH-{NASH_DECODER_LAYERS} (encoder target {NASH_SPARSITY:g})"
METHODS = {COFI: dict(scope="model", key="model_actual"), NASH: dict(scope="encoder", key="encoder_actual")}

rows = []
for name, teacher in TEACHERS.items():
    task = tasks.get(name)
    if NASH_DECODER_LAYERS == 3 and NASH_SPARSITY == 0.3:  # the default comparison is Table 1's NASH-3
        assert experiment.nash(3, RECIPE, seed=0) == experiment.lineup(teacher, RECIPE)["NASH-3"]
    for seed in RECIPE.seeds:
        configs = {COFI: experiment.cofi(RECIPE.high_sparsity, RECIPE, seed=seed),
                   NASH: experiment.nash(NASH_DECODER_LAYERS, RECIPE, sparsity=NASH_SPARSITY, seed=seed)}
        for method, cfg in configs.items():
            s = experiment.student(teacher, cfg, RECIPE)
            report, score = s.report, s.scores["score"]
            # invariants of every run, whatever the profile
            assert s.model.config.model_type == "nash_t5", "scored model is not the compacted, reloaded one"
            assert report["scope"] == METHODS[method]["scope"] and report["target_sparsity"] == cfg.target_sparsity
            assert 0.0 <= score <= 1.0, f"score {score} outside [0, 1]"
            assert 0.0 <= report[METHODS[method]["key"]] <= 1.0
            assert s.info["parameters"] <= s.info["teacher_parameters"]
            if method == NASH:
                assert s.model.config.num_decoder_layers == NASH_DECODER_LAYERS
                assert s.info["parameters"] < s.info["teacher_parameters"]
            rows.append(dict(task=name, title=task.title, metric=task.metric, method=method, seed=seed,
                             scope=report["scope"], target=cfg.target_sparsity,
                             reached=report[METHODS[method]["key"]],
                             expected=report[f"{report['scope']}_expected"],
                             model_sparsity=report["model_actual"], quality=score * 100,
                             teacher_quality=teacher.scores["score"] * 100,
                             params_M=s.info["parameters"] / 1e6,
                             teacher_params_M=s.info["teacher_parameters"] / 1e6,
                             prune_s=s.info["prune_seconds"], folder=s.folder.name))
            del s
data = pd.DataFrame(rows)
data["miss"] = data.reached - data.target
data["outcome"] = np.select([data.miss > TOLERANCE, data.miss < -TOLERANCE], ["over-pruned", "under-pruned"],
                            "reached")
assert len(data) == 2 * len(TEACHERS) * len(RECIPE.seeds)
data[["title", "method", "seed", "target", "reached", "miss", "outcome", "model_sparsity", "quality",
      "params_M"]].round(4)

# %% [markdown]
# `reached` is the sparsity of the deterministic masks that the compacted model keeps, in the
# constrained scope; `model_sparsity` is the whole model's for both methods (for NASH it counts the
# dropped decoder layers too), so the two budgets can be compared. `expected` in the CSV is what the
# Lagrangian saw at the end of training: the expectation over the stochastic masks, which can sit on the
# target while the deterministic masks do not.

# %% [markdown]
# ## The figure
#
# Left: the reached sparsity of every run (points) and its distribution (box) per task and method; the
# red line is the method's target, the shaded band the tolerance around it. Right: the quality of the
# same runs (the task's metric x 100), with the teacher's as a dotted line.

# %%
def wrap(text, width=26):
    return "\n".join(textwrap.wrap(text, width))


data["group"] = [f"{wrap(f'{t} [{k}]')}\n{m}" for t, k, m in zip(data.title, data.metric, data.method)]
order = list(dict.fromkeys(data.group))
palette = dict(zip(METHODS, sns.color_palette(plotting.PALETTE, 2)))
fig, axes = plotting.subplots(1, 2, width=5.4, height=1.2 + 1.1 * len(order))
ax, ax2 = axes[0]
for axis, column in ((ax, "reached"), (ax2, "quality")):
    sns.boxplot(data=data, x=column, y="group", hue="method", order=order, hue_order=list(METHODS),
                palette=palette, dodge=False, orient="h", width=0.5, fliersize=0, boxprops=dict(alpha=0.35),
                legend=False, ax=axis)
    sns.stripplot(data=data, x=column, y="group", hue="method", order=order, hue_order=list(METHODS),
                  palette=palette, dodge=False, orient="h", size=6, jitter=0.12, edgecolor="black", linewidth=0.5,
                  legend=False, ax=axis)
for i, group in enumerate(order):
    row = data[data.group == group].iloc[0]
    ax.fill_betweenx([i - 0.4, i + 0.4], row.target - TOLERANCE, row.target + TOLERANCE, color="red", alpha=0.12,
                     label=f"target ± {TOLERANCE:g}" if i == 0 else None)
    ax.plot([row.target] * 2, [i - 0.4, i + 0.4], color="red", ls="--", lw=1.5, label="target" if i == 0 else None)
    ax2.plot([row.teacher_quality] * 2, [i - 0.4, i + 0.4], color="black", ls=":", lw=1.5,
             label="teacher" if i == 0 else None)
ax.set(xlabel="reached sparsity of the constrained scope (deterministic masks)", ylabel="",
       title="reached sparsity per seed", xlim=(min(0.0, data.reached.min() - 0.05), 1.0))
ax.legend(loc="lower right", fontsize=8)
ax2.set(xlabel="quality (the task's metric x 100)", ylabel="", title="quality per seed")
ax2.tick_params(labelleft=False)  # same rows as the left panel
ax2.legend(loc="lower right", fontsize=8)
fig.suptitle(f"Figure 8: CoFi-T5 at target {RECIPE.high_sparsity:g} vs NASH-{NASH_DECODER_LAYERS}, "
             f"{len(RECIPE.seeds)} seeds ({P.name} profile)")
plotting.plt.show()

# %% [markdown]
# ## Summary per task and method
#
# `miss` is reached minus target: positive is over-pruned, negative under-pruned. The shares count the
# runs that missed by more than the tolerance. Spreads are sample standard deviations over the seeds.

# %%
summary = data.groupby(["task", "title", "method"], sort=False).agg(
    runs=("seed", "size"), target=("target", "first"),
    miss_mean=("miss", "mean"), miss_std=("miss", "std"), miss_min=("miss", "min"), miss_max=("miss", "max"),
    abs_miss_mean=("miss", lambda m: m.abs().mean()),
    over_pruned=("miss", lambda m: (m > TOLERANCE).mean()), under_pruned=("miss", lambda m: (m < -TOLERANCE).mean()),
    quality_mean=("quality", "mean"), quality_std=("quality", "std"), quality_min=("quality", "min"),
    quality_max=("quality", "max"), teacher_quality=("teacher_quality", "first"),
).reset_index()
assert (summary.runs == len(RECIPE.seeds)).all()
assert ((summary.over_pruned + summary.under_pruned) <= 1).all()
print(summary.drop(columns="task").round(4).to_string(index=False))

# %% [markdown]
# ## Verdict
#
# The paper's claim has two parts, tested per task:
# 1. *CoFi-T5 misses its high target*: its mean |reached - target| over the seeds exceeds the tolerance
#    (`TOLERANCE`, 0.02 by default);
# 2. *CoFi-T5 varies more than NASH*: the spread (standard deviation over the seeds) of CoFi's reached
#    sparsity is larger than NASH's, **and** so is the spread of its quality.
#
# Three checks per task (the miss, the sparsity spread, the quality spread): "holds" if every check
# holds on every task, "does not hold" if none does, "partly holds" otherwise. The thresholds are ours;
# the paper states the finding in words and a figure.

# %%
print("The paper (nashlib.paper.FIGURE8):", paper.FIGURE8, "\n")
checks = []
for (name, title), grp in summary.groupby(["task", "title"], sort=False):
    c, n = grp.set_index("method").loc[COFI], grp.set_index("method").loc[NASH]
    misses = bool(c.abs_miss_mean > TOLERANCE)
    spread_sparsity = bool(c.miss_std > n.miss_std)
    spread_quality = bool(c.quality_std > n.quality_std)
    checks.append(dict(task=name, title=title, cofi_abs_miss=c.abs_miss_mean, nash_abs_miss=n.abs_miss_mean,
                       cofi_over=c.over_pruned, cofi_under=c.under_pruned,
                       cofi_sparsity_std=c.miss_std, nash_sparsity_std=n.miss_std,
                       cofi_quality_std=c.quality_std, nash_quality_std=n.quality_std,
                       cofi_misses=misses, cofi_sparsity_varies_more=spread_sparsity,
                       cofi_quality_varies_more=spread_quality,
                       verdict=experiment.verdict([misses, spread_sparsity, spread_quality])))
verdicts = pd.DataFrame(checks)
flags = verdicts[["cofi_misses", "cofi_sparsity_varies_more", "cofi_quality_varies_more"]].to_numpy()
VERDICT = experiment.verdict(flags)
print(verdicts.drop(columns="task").round(4).to_string(index=False))
print(f"\nFigure 8 (CoFi-T5 misses its target by > {TOLERANCE:g} and varies more than NASH-{NASH_DECODER_LAYERS}, "
      f"on every task): {VERDICT}")

# %% [markdown]
# **Reading it.** The Lagrangian pushes the *expected* sparsity of the stochastic masks towards the
# target; what the compacted model keeps is the deterministic masks, and the two agree only when the
# masks have settled near 0 or 1. At a 90 % target CoFi must close most heads, FFN units and hidden
# dimensions of both stacks, and which of them close first depends on the seed: a decoder that loses its
# cross-attention or its hidden dimensions changes the distillation loss abruptly, so runs drift apart.
# NASH's constraint covers only the encoder's width at 30 %, and the decoder's depth is fixed before
# training, so there is much less for the seed to decide. How short our runs are matters here: with a
# few hundred steps (cpu) the masks may not have settled at all, which shows up as misses for both
# methods; the paper's remedy for CoFi's instability (Appendix A) is a longer warm-up of the target.

# %%
scale = experiment.scale(P.name, TEACHERS.values())
ours = (f"{P.name} profile ({scale}), {len(RECIPE.seeds)} seeds: " + "; ".join(
    f"{r.title}: CoFi-T5 mean |miss| {r.cofi_abs_miss:.3f} (over {r.cofi_over:.0%}, under {r.cofi_under:.0%}), "
    f"NASH-{NASH_DECODER_LAYERS} {r.nash_abs_miss:.3f}; sparsity std {r.cofi_sparsity_std:.3f} vs "
    f"{r.nash_sparsity_std:.3f}; quality std {r.cofi_quality_std:.2f} vs {r.nash_quality_std:.2f}"
    for r in verdicts.itertuples()))
print(ours)
paths = plotting.save_figure(
    fig, "fig8_cofi_instability", data.drop(columns="group"), out_dir=OUT_DIR, profile=P.name,
    parameters=dict(profile=P.asdict(), recipe=dataclasses.asdict(RECIPE), tolerance=TOLERANCE,
                    nash_decoder_layers=NASH_DECODER_LAYERS, nash_sparsity=NASH_SPARSITY),
    seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    teachers=TEACHER_TABLE.to_dict("records"), summary=summary.to_dict("records"),
    verdicts=verdicts.to_dict("records"),
    findings=[dict(finding="Figure 8", claim=f"CoFi-T5 at a high target sparsity ({RECIPE.high_sparsity:g}) misses "
                   f"it (mean |miss| > {TOLERANCE:g}) and varies more across seeds than NASH",
                   paper=paper.FIGURE8, ours=ours, verdict=VERDICT)])
paths
