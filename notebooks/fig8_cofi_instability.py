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
# high target (`P.student.high_sparsity`, the paper's 0.9) once per seed in `P.student.seeds` (the paper: 20
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
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch (each pruning run has its own seed from P.student.seeds)
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"student.seeds": [0, 1, 2]} (see nashlib.settings)
TOLERANCE: float = 0.02  # a run is on target when it misses the target sparsity by at most this much
NASH_DECODER_LAYERS: int = 3  # the NASH comparison: NASH-3, as in Table 1
NASH_SPARSITY: float = 0.3  # NASH's encoder target sparsity, as in Table 1

# %%
import time

import pandas as pd

from nashlib import settings
from nashlib.experiments import baselines, lineup, seeds, students, summary
from nashlib.experiments.students import student
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="fig8_cofi_instability")
R = P.student
TEACHERS, TEACHER_TABLE = baselines.pruning_teachers(P)
T0 = time.perf_counter()
if len(R.seeds) < 3:
    raise ValueError(f"P.student.seeds={R.seeds}: Figure 8 tests the spread across seeds, so it needs at "
                     "least three seeds (OVERRIDES={'student.seeds': [0, 1, 2, ...]})")
if not 0 < TOLERANCE < 1:
    raise ValueError(f"TOLERANCE={TOLERANCE!r}; allowed: 0 < tolerance < 1")
print(f"profile {P.name}: CoFi-T5 at target {R.high_sparsity} and NASH-{NASH_DECODER_LAYERS} at encoder "
      f"target {NASH_SPARSITY}, seeds {list(R.seeds)}")
for name in TEACHERS:  # each task's schedule: the profile's recipe (in paper, the task's row of Tables 8 / 9)
    print(f"  {name}: {P.recipe(name).describe()}")
TEACHER_TABLE

# %% [markdown]
# ## The runs
#
# `lineup.cofi(high, P.student, seed=s)` and `lineup.nash(3, P.student, seed=s)` name each run; the
# seed sets the masks' initial noise, the sampled masks, dropout and the batch order. Every student is
# cached on disk by its configuration: NASH-3 at seed 0 is exactly Table 1's NASH-3 (checked below), so
# it is shared with the notebooks that need it and trained once. A run is pruned, compacted, fine-tuned,
# saved, reloaded and scored on the validation rows (`nashlib.experiments.students.student`), and checked
# as every reported student is (`summary.check_student`); `seeds.seed_run` records it, with the sparsity
# it reached in the scope its method constrains (CoFi: the whole model; NASH: the encoder).

# %%
COFI = f"CoFi-T5 (model target {R.high_sparsity:g})"
NASH = f"NASH-{NASH_DECODER_LAYERS} (encoder target {NASH_SPARSITY:g})"
SCOPE = {COFI: "model", NASH: "encoder"}


def configs(seed):
    """The two runs at ``seed``, by method, with the decoder depth each must end with (None: unchanged)."""
    return {COFI: (lineup.cofi(R.high_sparsity, R, seed=seed), None),
            NASH: (lineup.nash(NASH_DECODER_LAYERS, R, sparsity=NASH_SPARSITY, seed=seed), NASH_DECODER_LAYERS)}

# %%
runs = []
for name, teacher in TEACHERS.items():
    R = P.recipe(name)  # configs() reads it
    if NASH_DECODER_LAYERS == 3 and NASH_SPARSITY == 0.3:  # the default comparison is Table 1's NASH-3
        assert lineup.nash(3, R, seed=0) == lineup.nash_lineup(R, seed=0)["NASH-3"]
    students.prefetch(teacher, [cfg for seed in R.seeds for cfg, _ in configs(seed).values()], R,
                      workers=P.workers)
    for seed in R.seeds:
        for method, (cfg, depth) in configs(seed).items():
            s = summary.check_student(student(teacher, cfg, R), teacher, decoder_layers=depth)
            assert s.report.scope == SCOPE[method] and s.report.target_sparsity == cfg.target_sparsity
            runs.append(seeds.seed_run(method, seed, s, teacher))
            del s
data = seeds.frame(runs, tolerance=TOLERANCE)
assert len(data) == 2 * len(TEACHERS) * len(R.seeds)
data[["title", "method", "seed", "target", "reached", "miss", "outcome", "model_sparsity", "quality",
      "params_M"]].round(4)

# %% [markdown]
# `reached` is the sparsity of the deterministic masks that the compacted model keeps, in the
# constrained scope; `model_sparsity` is the whole model's for both methods (for NASH it counts the
# dropped decoder layers too), so the two budgets can be compared. `expected` in the CSV is what the
# Lagrangian saw at the end of training: the expectation over the stochastic masks, which can sit on the
# target while the deterministic masks do not.

# %% [markdown]
# ## The controller at work
#
# The pruning traces of the first three seeds (`traces.trace_figure`, one row per seed; every run's trace is
# saved with its student): the target warming up (dashed)
# with the tolerance band, the expected sparsity the Lagrangian steers (blue), the deterministic masks'
# sparsity that compaction keeps (orange), and the multipliers λ1, λ2 (right axis).

# %%
from nashlib.experiments import traces

for name, teacher in TEACHERS.items():
    R = P.recipe(name)
    shown = {f"{method.split(' (')[0]}, seed {seed}": cfg for seed in R.seeds[:3]
             for method, (cfg, _) in configs(seed).items()}
    traces.trace_figure({k: traces.trace_of(teacher, c, R) for k, c in shown.items()}, tolerance=TOLERANCE, ncols=2,
                        kept={k: traces.kept_step(teacher, c, R) for k, c in shown.items()},
                        title=f"Pruning traces: {name} ({P.name} profile)")
    plotting.plt.show()

# %% [markdown]
# ## The figure
#
# Left: the reached sparsity of every run (points) and its distribution (box) per task and method; the
# red line is the method's target, the shaded band the tolerance around it. Right: the quality of the
# same runs (the task's metric x 100), with the teacher's as a dotted line (`seeds.spread_panels`).

# %%
n_groups = data.groupby(["task", "method"]).ngroups
fig, axes = plotting.subplots(1, 2, width=5.4, height=1.2 + 1.1 * n_groups)
seeds.spread_panels(*axes[0], data, [COFI, NASH], tolerance=TOLERANCE)
fig.suptitle(f"Figure 8: CoFi-T5 at target {R.high_sparsity:g} vs NASH-{NASH_DECODER_LAYERS}, "
             f"{len(R.seeds)} seeds ({P.name} profile)")
plotting.plt.show()

# %% [markdown]
# ## Summary per task and method
#
# `miss` is reached minus target: positive is over-pruned, negative under-pruned. The shares count the
# runs that missed by more than the tolerance. Spreads are sample standard deviations over the seeds
# (`seeds.spread`).

# %%
summary_table = seeds.spread(data, tolerance=TOLERANCE)
assert (summary_table.runs == len(R.seeds)).all()
assert ((summary_table.over_pruned + summary_table.under_pruned) <= 1).all()
print(summary_table.drop(columns="task").round(4).to_string(index=False))

# %% [markdown]
# ## Verdict
#
# The paper's claim has two parts, tested per task:
# 1. *CoFi-T5 misses its high target*: its mean |reached - target| over the seeds exceeds the tolerance
#    (`TOLERANCE`, 0.02 by default);
# 2. *CoFi-T5 varies more than NASH*: the spread of CoFi's reached sparsity across the seeds is larger
#    than NASH's, **and** so is the spread of its quality.
#
# Each check is judged on the per-seed samples with the verdict library (`V`): the mean |miss| with
# `V.at_least(..., strict=True)` (a 95 % bootstrap interval over the seeds); a spread with
# `V.spread_larger`, the Brown-Forsythe test (Levene's test about the medians) at the 5 % level: CoFi's
# spread larger and the test significant holds, NASH's larger and significant does not hold, anything
# else is *inconclusive*. A ratio of two standard deviations from a few seeds is far too uncertain to
# read by eye (from 3 seeds a 95 % interval on it spans a factor of ~6 either way); the paper ran 20
# seeds, and so does the cpu profile. Beside the checks, the share of runs that missed (by more than
# the tolerance) for each method. The three checks of a
# task combine into its verdict, and the tasks' verdicts into the figure's: it holds when every check
# holds on every task, does not hold when none does, and partly holds otherwise. The thresholds are
# ours; the paper states the finding in words and a figure.

# %%
def checks(c, n):
    """The three checks of one task from its CoFi-T5 runs ``c`` and NASH runs ``n`` (paired by seed)."""
    title, over, under = c.title.iloc[0], (c.outcome == "over-pruned").sum(), (c.outcome == "under-pruned").sum()
    misses = V.at_least(c.miss.abs().tolist(), TOLERANCE, strict=True, name="CoFi-T5 |reached - target|",
                        claim=f"{title}: CoFi-T5 misses its target ({over} over-, {under} under-pruned of {len(c)})")
    varies = [V.spread_larger(c[col].to_numpy(), n[col].to_numpy(), names=(f"CoFi-T5 {what}", f"NASH {what}"),
                              claim=f"{title}: CoFi-T5's {what} varies more across seeds than NASH's")
              for col, what in (("reached", "sparsity"), ("quality", "quality"))]
    return V.combine([misses, *varies], claim=f"{title}: CoFi-T5 misses its target and varies more than NASH")


print("The paper (nashlib.results.paper.FIGURE8):", paper.FIGURE8, "\n")
CHECKS = {}
for name, grp in data.groupby("task", sort=False):
    c, n = (grp[grp.method == m].sort_values("seed") for m in (COFI, NASH))
    assert list(c.seed) == list(n.seed) == sorted(R.seeds)
    CHECKS[name] = checks(c, n)
VERDICT = V.combine(list(CHECKS.values()), claim=f"CoFi-T5 misses its target by > {TOLERANCE:g} and varies more "
                    f"than NASH-{NASH_DECODER_LAYERS}, on every task")
print("\n\n".join("\n".join(f"  {p.line()}" for p in v.parts) + f"\n{v.line()}" for v in CHECKS.values()))
print(f"\nFigure 8: {VERDICT.line()}")

# %%
def verdict_row(name, grp):
    """One task's numbers behind the checks, and each check's outcome."""
    c, n = grp.set_index("method").loc[COFI], grp.set_index("method").loc[NASH]
    outcomes = (p.outcome for p in CHECKS[name].parts)
    return dict(task=name, title=c.title, cofi_abs_miss=c.abs_miss_mean, nash_abs_miss=n.abs_miss_mean,
                cofi_over=c.over_pruned, cofi_under=c.under_pruned,
                cofi_missed_share=c.over_pruned + c.under_pruned, nash_missed_share=n.over_pruned + n.under_pruned,
                cofi_sparsity_std=c.miss_std, nash_sparsity_std=n.miss_std,
                cofi_quality_std=c.quality_std, nash_quality_std=n.quality_std,
                sparsity_spread_p=dict(CHECKS[name].parts[1].values)["p"],
                quality_spread_p=dict(CHECKS[name].parts[2].values)["p"],
                **dict(zip(["cofi_misses", "cofi_sparsity_varies_more", "cofi_quality_varies_more"], outcomes)),
                verdict=CHECKS[name].outcome)


verdicts = pd.DataFrame([verdict_row(name, grp) for name, grp in summary_table.groupby("task", sort=False)])
print(verdicts.drop(columns="task").round(4).to_string(index=False))

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
ours = (f"{P.name} profile ({P.scale()}), {len(R.seeds)} seeds: " + "; ".join(
    f"{r.title}: CoFi-T5 mean |miss| {r.cofi_abs_miss:.3f} (over {r.cofi_over:.0%}, under {r.cofi_under:.0%}), "
    f"NASH-{NASH_DECODER_LAYERS} {r.nash_abs_miss:.3f} (missed {r.nash_missed_share:.0%}); sparsity std "
    f"{r.cofi_sparsity_std:.3f} vs {r.nash_sparsity_std:.3f} (Brown-Forsythe p={r.sparsity_spread_p:.3g}); "
    f"quality std {r.cofi_quality_std:.2f} vs {r.nash_quality_std:.2f} (p={r.quality_spread_p:.3g})"
    for r in verdicts.itertuples()))
print(ours)
FINDING = V.Finding("Figure 8", f"CoFi-T5 at a high target sparsity ({R.high_sparsity:g}) misses it (mean |miss| > "
                    f"{TOLERANCE:g}) and varies more across seeds than NASH", paper.FIGURE8, ours, VERDICT)
paths = plotting.save_figure(
    fig, "fig8_cofi_instability", data, out_dir=OUT_DIR, profile=P,
    parameters=dict(profile=P.asdict(), tolerance=TOLERANCE, nash_decoder_layers=NASH_DECODER_LAYERS,
                    nash_sparsity=NASH_SPARSITY),
    seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    teachers=TEACHER_TABLE.to_dict("records"), summary=summary_table.to_dict("records"),
    verdicts=verdicts.to_dict("records"), findings=[FINDING.asdict()])
paths
