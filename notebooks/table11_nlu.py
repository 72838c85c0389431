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
# # Table 11 and Figure 10: NASH on language understanding, where outputs are a word long
#
# **The paper's claim** (Ko et al. 2023, Appendix G.2, Table 11 and Figure 10): on ten GLUE and SuperGLUE
# tasks, answered by generating the label's word, NASH with two decoder layers, pruned from T5-base,
# *"is able to outperform CoFi-T5"* on all datasets (both about 60M parameters), and 2.6-3.3x faster than
# T5-base; but *"since these tasks involve relatively longer input sequences and shorter output sequences
# compared to NLG tasks, our proposed method exhibited less effectiveness"* (NASH-2: 2.6-3.3x here against
# 3.7-5.5x on Table 1's generation tasks).
#
# **What we do.** Two halves.
#
# - *Quality and speed of trained models*, on every NLU task of the profile whose teacher passes the
#   usable-teacher rule (`nlu.nlu_teachers`; cpu: GLUE SST-2, the one NLU task a from-scratch cpu teacher
#   learns): the teacher, a small dense model of T5-Small's proportions trained like the teacher, NASH-2 and
#   CoFi-T5 at the whole-model sparsity NASH-2 *reached* (`nlu.train_lineup`), each trained once per paired seed
#   and scored on the same validation rows, timed as the paper times (beam search until every sequence ends).
# - *Why NLU gains less*, at T5-base's shape with random weights: Table 1's learned structures (NASH-2 and the
#   CoFi-T5 matched to NASH-3) rebuilt at T5-base's shape (`mapped.build_mapped`), T5-base and T5-Small's
#   shape, timed at an NLU answer's length (`NLU_TOKENS`) and at the profile's generation length.
#
# **How it differs from the paper.** In `cpu` the models are small T5s trained from scratch here, on SST-2
# only (the other GLUE / SuperGLUE tasks staged locally did not give a usable from-scratch teacher, or have no
# training split offline: QNLI and BoolQ); the paper's profile has no NLU teacher yet, so there only the speed
# half runs. A few hundred pruning steps, not 20 epochs (Table 9); CPU threads, not an RTX 3090.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch (each model is trained once per seed of P.student.paired_seeds)
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"student.steps": 100} (see nashlib.settings)
TIE: float = 0.01  # verdict: "at least as good" means not worse by more than this (metric / 100), by the 95 % CI
NLU_TOKENS: int = 3  # new tokens of an NLU answer in the shape timing (a label word and the end; the paper's cap: 5)

# %%
import time

import numpy as np
import pandas as pd

from nashlib import settings, shapes
from nashlib.experiments import comparison, nlu, paired, summary
from nashlib.experiments.students import student
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V
from nashlib.speed import mapped, sweep, timing

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="table11_nlu")
T0 = time.perf_counter()
if not 0 < TIE < 1:
    raise ValueError(f"TIE={TIE!r}; allowed: 0 < TIE < 1")
if not 1 <= NLU_TOKENS < P.new_tokens:
    raise ValueError(f"NLU_TOKENS={NLU_TOKENS!r}; allowed: 1 to {P.new_tokens - 1} (below the generation length)")
R, SEEDS = P.student, list(P.student.paired_seeds)
TEACHERS, TEACHER_TABLE = nlu.nlu_teachers(P)
print(f"{P.name} profile: NLU teachers used: {', '.join(TEACHERS) or 'none'}; seeds {SEEDS}")
TEACHER_TABLE

# %% [markdown]
# ## The trained models
#
# Per task and seed, NASH-2 first, then CoFi-T5 at NASH-2's reached whole-model sparsity (`nlu.train_lineup`);
# the small dense model per seed (`nlu.small_model`). `summary.check_student` checks what every reported student
# must be; `paired.scores` gives each model's (seeds x rows) score matrix, so a difference comes with a 95 %
# interval over seeds and rows (`paired.model_means`).

# %%
LINEUPS, MODELS, TOKENIZERS, SCORES, rows = {}, {}, {}, {}, []
for name, t in TEACHERS.items():
    R = P.recipe(name)  # the profile's recipe (in paper, the task's row of Table 9)
    LINEUPS[name] = nlu.train_lineup(t, R, SEEDS, workers=P.workers)
    smalls = [nlu.small_model(t, s) for s in SEEDS]
    runs = {label: [summary.check_student(student(t, LINEUPS[name][s][label], R), t,
                                          decoder_layers=2 if label == "NASH-2" else None) for s in SEEDS]
            for label in ("CoFi-T5", "NASH-2")}
    MODELS[name] = {"teacher": t.model, "small dense": smalls[0].model, **{k: v[0].model for k, v in runs.items()}}
    TOKENIZERS[name] = {k: smalls[0].tokenizer if k == "small dense" else t.tokenizer for k in nlu.LABELS}
    SCORES[name] = {"teacher": paired.scores([t], t, seeds=len(SEEDS)), "small dense": paired.scores(smalls, t),
                    **{k: paired.scores(v, t) for k, v in runs.items()}}
    rows += [summary.dense_row("teacher", t.model, t.scores, t),
             *(summary.dense_row("small dense", m.model, m.scores, t, seed=s) for m, s in zip(smalls, SEEDS)),
             *(summary.student_row(k, x, t) for k in ("CoFi-T5", "NASH-2") for x in runs[k])]
per_seed = summary.frame(rows) if rows else pd.DataFrame()
data = paired.model_means(per_seed, SCORES) if rows else pd.DataFrame(columns=["task", "title", "model"])
data["paper_row"] = data.model.map(nlu.PAPER_ROW)
data

# %% [markdown]
# Each task's four models (first seed) generate for the same first `P.student.timing_batch` validation
# sources, beam search until every sequence has ended (`comparison.time_lineup`, as in the Table 1 notebook).

# %%
TIMES = ["speedup", "speedup_q25", "speedup_q75", "wall_median_s", "encoder_median_s", "decoder_median_s",
         "new_tokens_mean"]
timed = [comparison.time_lineup(MODELS[n], TOKENIZERS[n], t.config, P) for n, t in TEACHERS.items()]
ROUNDS = {(r.task, r.model): np.asarray(r.speedup_rounds) for t in timed for r in t.itertuples()}  # (repeats,)
if timed:
    data = comparison.add_paper_columns(data.merge(pd.concat(timed)[["task", "model", *TIMES]], on=["task", "model"]))
    print(data[["title", "model", "quality", "quality_lo", "quality_hi", "model_sparsity", *TIMES[:1], TIMES[-1],
                "paper_quality", "paper_speedup"]].round(3).to_string(index=False))

# %% [markdown]
# ## Why NLU gains less: the same structures at T5-base's shape, short and long outputs
#
# Table 1's students of the profile's first pruning task (first paired seed; `mapped.table1_students`) rebuilt at
# T5-base's shape; each model generates `NLU_TOKENS` and `P.new_tokens` forced tokens for one random batch, in
# interleaved rounds, each speedup against T5-base at the same length, paired within a round (`sweep.length_sweep`,
# as in the Table 6 notebook; the encoder is timed alone too).

# %%
SOURCE = mapped.table1_students(P)
SHAPES = {"T5-Base": shapes.build_t5(P.teacher_shape, seed=SEED), "T5-Small": shapes.build_t5(P.small_shape,
                                                                                            seed=SEED + 1)}
for label, d in (("CoFi-T5", None), ("NASH-2", 2)):
    SHAPES[label] = mapped.build_mapped(P.teacher_shape, SOURCE.students[label].model, SOURCE.teacher.model,
                                        decoder_layers=d, seed=SEED)
LENGTHS = {"NLU": NLU_TOKENS, "NLG": P.new_tokens}
inputs = timing.random_inputs(shapes.shape(P.teacher_shape).vocab_size, P.batch, P.src_len, seed=SEED)  # (B, T)
SWEPT = sweep.length_sweep(SHAPES, inputs, list(LENGTHS.values()), baseline="T5-Base", beams=P.beams,
                           warmup=P.warmup, repeats=P.repeats, device=P.device)
shape_speed = SWEPT.data.assign(kind=SWEPT.data.new_tokens.map({n: k for k, n in LENGTHS.items()}))
shape_speed.pivot(index="model", columns="kind", values="speedup").round(2)

# %% [markdown]
# ## The figure
#
# One panel per NLU task: quality against speedup of the trained models (bars: the 95 % interval of the mean
# quality over seeds and rows, and the quartiles of the per-round speedups; `nlu.panel`). Last panel: the
# speedups at T5-base's shape for an NLU answer and for a generation-length output, beside the paper's mean
# speedups of the same rows on its NLU (Table 11) and NLG (Table 1) tasks.

# %%
ref11, ref1 = nlu.paper_rows(), paper.table1()
fig, axes = plotting.subplots(1, len(TEACHERS) + 1, width=4.8, height=4.2)
for ax, (name, g) in zip(axes[0], data.groupby("task", sort=False)):
    nlu.panel(ax, g.set_index("model").loc[list(nlu.LABELS)], title=f"{g.title.iloc[0]}\n({P.name}, trained here)",
              ylabel=f"{g.metric.iloc[0]} x 100")
ax = axes[0, -1]
models = [m for m in SHAPES if m != "T5-Base"]
for j, k in enumerate(LENGTHS):
    ax.bar([i + (j - 0.5) * 0.35 for i in range(len(models))], [shape_speed.set_index(["model", "kind"]).speedup[
        (m, k)] for m in models], 0.35, label=f"ours, {k} ({LENGTHS[k]} new tokens)")
for j, (k, ref) in enumerate((("NLU, Table 11", ref11), ("NLG, Table 1", ref1))):
    ax.scatter([i + (j - 0.5) * 0.35 for i in range(len(models))], [nlu.mean_speedup(ref, m) for m in models],
               marker="D", color="grey", facecolors="none" if j else "grey", zorder=3, label=f"paper mean, {k}")
ax.set(xticks=range(len(models)), xticklabels=models, ylabel=f"speedup vs {P.teacher_shape} shape (x)",
       title=f"{P.teacher_shape} shape, beam {P.beams}, batch {P.batch}, source {P.src_len}")
ax.legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# ## Verdict
#
# 1. *NASH-2 outperforms CoFi-T5* on every task (`nlu.checks`): at least as good in quality (not worse by more
#    than `TIE`, by the 95 % interval of the mean paired difference over seeds and rows) and faster (the 95 %
#    interval of the mean per-round difference in speedup above 0: both ran once in every timed round). The same rules on the paper's Table 11 (a plain comparison, tie 0) are printed first.
# 2. *Less effective than on NLG*: at T5-base's shape, NASH-2's speedup at an NLU answer's length is below its
#    speedup at the generation length (paired by round: the 95 % interval of the mean difference above 0).
# Both hold: holds; one: partly holds. Without an NLU teacher, check 1 is *not measured*.

# %%
PAPER_CHECKS = [nlu.checks(g.set_index("model").quality, g.set_index("model").speedup, tie=0.0,
                           label=f"paper, {d}") for d, g in ref11.groupby("dataset", sort=False)]
print("The rules on the paper's Table 11:\n" + "\n".join(f"  {v.line()}" for v in PAPER_CHECKS))
CHECKS = {name: nlu.checks({nlu.PAPER_ROW[m]: SCORES[name][m] for m in nlu.LABELS},
                           {nlu.PAPER_ROW[m]: ROUNDS[name, m] for m in nlu.LABELS}, tie=TIE * 100,
                           label=g.title.iloc[0])
          for name, g in data.groupby("task", sort=False)}
QUALITY = V.combine(list(CHECKS.values()), claim="NASH-2 outperforms CoFi-T5 on every NLU task") if CHECKS else \
    V.not_measured(claim="NASH-2 outperforms CoFi-T5 on every NLU task",
                   why=f"the {P.name} profile has no usable NLU teacher")
LESS = V.beats(*(SWEPT.round_speedups("NASH-2", "T5-Base", LENGTHS[k]) for k in ("NLG", "NLU")),
               names=("NLG x", "NLU x"),
               claim=f"NASH-2's speedup smaller at {NLU_TOKENS} new tokens than at {P.new_tokens} (T5-base shape)")
VERDICT = V.combine([QUALITY, LESS],
                    claim="Table 11 / Figure 10: NASH-2 beats CoFi-T5 on NLU, gaining less than on NLG")
print("\n".join(f"  {p.line()}" for v in CHECKS.values() for p in v.parts))
print("\n".join(v.line() for v in (QUALITY, LESS, VERDICT)))

# %% [markdown]
# **Reading it.** An NLU answer is a word or two, so the decoder runs a handful of steps while the encoder reads
# the whole input once: the encoder's share of the call is large, and NASH, which keeps most of the encoder,
# gains less than on summaries; a shallower decoder still helps with every step it takes. CoFi-T5 spends the
# same budget of weights spread over both stacks, and its decoder keeps most of its layers.

# %%
sp, parts = shape_speed.set_index(["model", "kind"]).speedup, []
for _, g in data.groupby("task", sort=False):
    title, g = g.title.iloc[0], g.set_index("model")
    parts.append(f"{title}: " + ", ".join(f"{m} {g.quality[m]:.1f} ({g.speedup[m]:.2f}x)" for m in nlu.LABELS))
parts.append(f"{P.teacher_shape} shape: NASH-2 {sp[('NASH-2', 'NLU')]:.2f}x at {NLU_TOKENS} new tokens, "
             f"{sp[('NASH-2', 'NLG')]:.2f}x at {P.new_tokens} ({P.name} profile, {len(SEEDS)} paired seeds)")
n11, n1 = ref11[ref11.model == "NASH-2"].speedup, ref1[ref1.model == "NASH-2"].speedup
FINDING = V.Finding("Table 11 / Figure 10", "NASH-2 beats CoFi-T5 on NLU tasks, with smaller speedups than on NLG",
                    f"NASH-2 above CoFi-T5 on {sum(v.outcome == 'holds' for v in PAPER_CHECKS)} of {len(PAPER_CHECKS)} "
                    f"tasks; NASH-2 {n11.min():g}-{n11.max():g}x (NLU) vs {n1.min():g}-{n1.max():g}x (NLG)",
                    "; ".join(parts), VERDICT)
out = pd.concat([data.assign(table="trained"), shape_speed.assign(table="t5-base shape")], ignore_index=True)
saved = plotting.save_figure(
    fig, "table11_nlu", out, out_dir=OUT_DIR, profile=P.name, seed=SEED,
    parameters=dict(profile=P.asdict(), tie=TIE, nlu_tokens=NLU_TOKENS),
    wall_time_s=round(time.perf_counter() - T0, 1),
    teachers=TEACHER_TABLE.to_dict("records"), per_seed=per_seed.to_dict("records"),
    speed_rounds={f"{t} / {m}": list(r) for (t, m), r in ROUNDS.items()},
    paper_checks=[v.asdict() for v in PAPER_CHECKS], findings=[FINDING.asdict()])
saved
