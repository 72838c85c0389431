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
# # Teachers: a fine-tuned model per task, and the trivial baselines it must beat
#
# **The paper's setup** (Ko et al. 2023, Section 5 and Appendix D, Tables 8 and 9): every NASH and
# CoFi-T5 model is pruned from a T5-base *fine-tuned on the task* (SAMSum, TweetQA, XSum,
# CNN/DailyMail, GLUE, SuperGLUE), and distilled from it. Pruning can only keep what the teacher knows,
# so before any pruning experiment we need teachers, and evidence that they learned their task.
#
# **Our setup, per profile.**
# - `paper`: t5-base from the hub, fine-tuned on the paper's tasks with its hyper-parameters (GPU).
# - `laptop`: t5-small from the hub, fine-tuned on SAMSum, TweetQA, RTE and CB at CPU scale.
# - `cpu` (the default, offline): no pretrained T5 exists offline, and a T5 trained from scratch for
#   minutes on 2 cores learns nothing usable on SAMSum's summaries or TweetQA's answers (measured before
#   this notebook was written). So the cpu teachers are trained from scratch on tasks they *do* learn,
#   chosen by measurement. Classification: GLUE SST-2, one of the paper's NLU tasks. Generation, where
#   decoder depth matters most: no paper task fits, so a task **derived** from SST-2's real sentences,
#   named "derived, not the paper's task" wherever it appears: **SST-2 frequent words, sorted** (the
#   sentence's words that occur in at least 100 of SST-2's 67k training phrases, function words
#   excluded, each once, in alphabetical order: "it 's a charming and often affecting journey ." ->
#   "charming journey often"). The model has to recognise 534 words among the sentence's
#   tokens and write them in an order the words themselves set. Two other derived tasks are in the
#   registry and did *not* learn within the cpu budget in our trials (the comment above
#   `teacher.RECIPES` gives the curves): **SAMSum turns** (a named speaker's first two turns) and
#   **SST-2 content words** (the sentence's content words in their order; ROUGE-L 28 after 39 minutes
#   against 72 for copying the sentence): a from-scratch T5 learns *which* words to write long before
#   it learns to write them in their source order. The teachers have a 12-layer decoder, as deep as
#   t5-base's, so NASH-2/3/4 choose layers as in the paper; a narrow width (d_model 256) keeps them
#   trainable on 2 cores.
# - `smoke`: micro models trained for a few steps, so the tests run this same code.
#
# **The rule.** A teacher is used for pruning experiments only if it beats every trivial baseline
# by at least 10 points of the task's metric. The baselines need no learning: the majority label
# (classification); the first line and first 20 words of the input (generation); and a derived task's
# own obvious rules: for SST-2 frequent words, the sentence itself, its first 4 words (about the
# targets' mean length), its words each once in alphabetical order (the target's order, with every
# word kept), and the most frequent training target. The table at the end says which teachers pass,
# as measured.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.profiles)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch
OVERRIDES: dict = {}  # profile fields to replace (see nashlib.profiles)
TEACHER_INIT: str = ""  # laptop/paper: a local folder to fine-tune instead of the hub model ("" keeps the recipe's)
MARGIN: float = 0.10  # how far (metric points / 100) a teacher must beat its best trivial baseline

# %%
import dataclasses
import time

import pandas as pd

from nashlib import env, plotting, tasks, teacher

P, RUN = env.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES)
T0 = time.perf_counter()
RECIPES = teacher.recipes(P.name)
if TEACHER_INIT:
    RECIPES = {name: dataclasses.replace(cfg, init=TEACHER_INIT) for name, cfg in RECIPES.items()}
pd.DataFrame([dict(task=name, **{k: v for k, v in dataclasses.asdict(cfg).items() if k != "task"})
              for name, cfg in RECIPES.items()])

# %% [markdown]
# ## Train, or load from the cache
#
# `teacher.get_teacher` trains a teacher once and caches it under `build/teachers/` (or
# `$NASH_TEACHER_DIR`), keyed by its full configuration; every later notebook and run loads it. An
# interrupted training run resumes from its checkpoint; a folder is only taken as a finished teacher
# once its `teacher.json` exists (written last). Scores are on the validation split, beam search as
# in the recipe.

# %%
TEACHERS = {}
for name, cfg in RECIPES.items():
    t0 = time.perf_counter()
    TEACHERS[name] = teacher.get_teacher(cfg)
    info = TEACHERS[name].info
    print(f"{name}: {info['train']} | score {info['scores']['score']:.4f} | trained in {info['train_seconds']:.0f} s "
          f"(this call {time.perf_counter() - t0:.0f} s) | {info['parameters'] / 1e6:.1f}M parameters")

# %% [markdown]
# ## What they write
#
# A few validation examples per generation task, prediction beside reference.

# %%
for name, t in TEACHERS.items():
    if tasks.get(name).kind in ("classification", "regression"):
        continue
    print(f"--- {tasks.get(name).title}")
    for s in t.info["samples"][:3]:
        print(f"source:     {s['source'][:160]!r}\nprediction: {s['prediction']!r}\nreference:  {s['target']!r}\n")

# %% [markdown]
# ## Teachers against trivial baselines
#
# The baselines are computed here, on the same validation rows, with the same metric.

# %%
rows = []
for name, t in TEACHERS.items():
    cfg = t.config
    train = tasks.load_task(name, "train", limit=cfg.train_examples or None)
    valid = tasks.load_task(name, "validation", limit=cfg.eval_examples)
    assert len(valid) == len(t.info["predictions"]), "the cached predictions belong to another validation set"
    rows.append(dict(task=name, title=tasks.get(name).title, model="teacher", metric=tasks.get(name).metric,
                     score=t.scores["score"]))
    for base, preds in teacher.trivial_baselines(name, train, valid).items():
        rows.append(dict(task=name, title=tasks.get(name).title, model=base, metric=tasks.get(name).metric,
                         score=teacher.score(name, preds, valid)["score"]))
data = pd.DataFrame(rows)
best = data[data.model != "teacher"].groupby("task").score.max()
summary = pd.DataFrame({
    "teacher": data[data.model == "teacher"].set_index("task").score,
    "best_baseline": best,
})
summary["margin"] = summary.teacher - summary.best_baseline
summary["usable"] = summary.margin >= MARGIN
summary["train_seconds"] = [TEACHERS[n].info["train_seconds"] for n in summary.index]
assert summary.teacher.notna().all() and (summary.train_seconds > 0).all()
print((summary.round(4)).to_string())
USABLE = [n for n in summary.index if summary.usable[n]]
print(f"\nusable for pruning (teacher >= best baseline + {MARGIN:.2f}): {USABLE or 'none'}")

# %% [markdown]
# ## The figure
#
# Left: training loss against step. Right: teacher and baselines per task (the paper's metric, x 100).

# %%
fig, axes = plotting.subplots(1, 2, width=6.0, height=4.0)
ax = axes[0, 0]
for name, t in TEACHERS.items():
    curve = pd.DataFrame(t.info["curve"])
    ax.plot(curve.step, curve.loss.rolling(max(1, len(curve) // 50), min_periods=1).mean(), label=tasks.get(name).title)
ax.set(xlabel="optimizer step", ylabel="training loss (cross-entropy, smoothed)", title="teacher training",
       yscale="log")
ax.legend()
ax = axes[0, 1]
plot = data.assign(score100=data.score * 100, label=data.task + "\n(" + data.metric + ")")
import seaborn as sns  # noqa: E402

sns.barplot(data=plot, y="label", x="score100", hue="model", ax=ax, orient="h")
ax.set(xlabel="validation score (x 100)", ylabel="", title="teacher against trivial baselines")
ax.legend(fontsize=7, loc="lower right")
fig.suptitle(f"Teachers ({P.name} profile): trained here, scored against trivial baselines")
fig

# %%
paths = plotting.save_figure(
    fig, "teachers", data, out_dir=OUT_DIR, profile=P.name, parameters=P.asdict(), seed=SEED,
    wall_time_s=round(time.perf_counter() - T0, 1),
    teachers={n: dict(config=dataclasses.asdict(t.config), scores=t.scores, train_seconds=t.info["train_seconds"],
                      folder=str(t.folder)) for n, t in TEACHERS.items()},
    usable=USABLE,
    findings=[dict(finding="Teachers", claim="each task's teacher clearly beats trivial baselines (our rule)",
                   paper="fine-tuned T5-base teachers (Tables 8-9)",
                   ours="; ".join(f"{tasks.get(n).title}: {r.teacher * 100:.1f} vs best baseline "
                                  f"{r.best_baseline * 100:.1f}" for n, r in summary.iterrows()),
                   verdict="holds" if summary.usable.all() else "partly holds" if summary.usable.any()
                   else "does not hold")])
paths
