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
# # Table 5: NASH on deeper models, where the speedup grows with the decoder's depth
#
# **The paper's claim** (Ko et al. 2023, Section 5.3, Table 5): on T5-Small-efficient models with 16, 20
# and 24 layers per part (Tay et al. 2021; T5-Small's width, up to four times its depth) fine-tuned on
# SAMSum, *"the acceleration compared to the original model increases as the number of decoder layers
# increases"* (NASH-2: 4.6x / 5.2x / 5.9x; NASH-4: 3.6x / 3.8x / 4.3x), and *"NASH exhibits faster
# inference and higher output quality compared to CoFi-T5"* (CoFi-T5: 1.5-1.6x).
#
# **What we do.** The speed half, at the real shapes with random weights: T5-Small's shape with 16, 20
# and 24 encoder and decoder layers, and the structures Table 1's students learned (first paired seed:
# NASH-2, NASH-4, CoFi-T5) rebuilt at each depth by `mapped.build_mapped` (NASH-*d* keeps *d* decoder
# layers; CoFi-T5's shares map layer by layer at the same relative depth), each timed against the dense
# model of its depth under the same protocol as the other speed notebooks.
#
# **How it differs from the paper.** The quality half needs the pretrained T5-Small-efficient checkpoints
# (hub only), so it is not measured in the offline `cpu` profile. The structures are those our cpu students
# learned on their own task (a 4 + 12-layer teacher, SST-2 frequent words), not SAMSum runs on these
# models; T5-Small's ReLU FFN is used for the efficient models' shape. Outputs are forced to `P.new_tokens`
# tokens (random weights never end a sequence), on CPU threads, not an RTX 3090.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch, and the random weights of the rebuilt models
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"batch": 8}
DEPTHS: list = [16, 20, 24]  # layers per part of the deeper models (Table 5's NL 16 / 20 / 24)

# %%
import time

import pandas as pd

from nashlib import settings, shapes
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V
from nashlib.speed import mapped, timing

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="table5_deeper_models")
T0 = time.perf_counter()

# %% [markdown]
# ## The models
#
# For each depth: the dense model ("Base", 1.00x) and the three structures rebuilt at that depth.

# %%
SOURCE = mapped.table1_students(P)  # Table 1's students of the first pruning task, first paired seed
TASK, S = SOURCE.task, SOURCE.seed
MODELS = {}
for nl in DEPTHS:
    MODELS[f"Base / {nl}"] = shapes.build_t5(P.small_shape, encoder_layers=nl, decoder_layers=nl, seed=SEED)
    for label in ("NASH-2", "NASH-4", "CoFi-T5"):
        depth = int(label.split("-")[1]) if label.startswith("NASH") else None
        MODELS[f"{label} / {nl}"] = mapped.build_mapped(P.small_shape, SOURCE.students[label].model,
                                                        SOURCE.teacher.model, layers=nl, decoder_layers=depth,
                                                        seed=SEED)
META = {name: dict(model=name.split(" / ")[0], layers=int(name.split(" / ")[1]),
                   decoder_layers=m.config.num_decoder_layers, params_M=shapes.count_parameters(m) / 1e6)
        for name, m in MODELS.items()}
pd.DataFrame(META.values()).pivot(index="model", columns="layers", values="decoder_layers")

# %% [markdown]
# ## Timing
#
# One random source batch; every model generates `P.new_tokens` tokens with `P.beams` beams in the same
# interleaved rounds (`timing.measure`); each speedup is against the dense model of the same depth, paired
# within a round.

# %%
inputs = timing.random_inputs(shapes.shape(P.small_shape).vocab_size, P.batch, P.src_len, seed=SEED)
calls = {name: timing.generation_call(m, inputs, new_tokens=P.new_tokens, beams=P.beams) for name, m in MODELS.items()}
samples = timing.measure(calls, warmup=P.warmup, repeats=P.repeats, device=P.device, progress=True)
wall = samples.pivot(index="repeat", columns="config", values="wall_s")  # (rounds, configs)
rows = []
for nl in DEPTHS:
    speed = timing.speedups(samples[samples.config.str.endswith(f" / {nl}")], f"Base / {nl}").set_index("config")
    for name in [n for n in MODELS if n.endswith(f" / {nl}")]:
        rows.append({**META[name], **speed.loc[name, ["speedup", "speedup_q25", "speedup_q75"]],
                     "wall_median_s": wall[name].median()})
data = pd.DataFrame(rows).assign(task=TASK, seed=S, new_tokens=P.new_tokens, beams=P.beams, batch=P.batch)
data.pivot(index="model", columns="layers", values="speedup").round(2)

# %% [markdown]
# ## The figure
#
# Speedup against the dense model of the same depth, as the models get deeper (bars: quartiles of the
# per-round ratios); hollow markers: the paper's Table 5.

# %%
fig, axes = plotting.subplots(1, 1, width=6.0, height=4.2)
ax = axes[0, 0]
theirs = {m: [s for _, s in paper.TABLE5[m]] for m in ("CoFi-T5", "NASH-2", "NASH-4")}
for i, m in enumerate(["NASH-2", "NASH-4", "CoFi-T5"]):
    d = data[data.model == m]
    ax.errorbar(d.layers, d.speedup, yerr=[d.speedup - d.speedup_q25, d.speedup_q75 - d.speedup], marker="o",
                capsize=2, color=f"C{i}", label=f"{m} (ours)")
    ax.plot([int(n.split()[1]) for n in paper.TABLE5_MODELS], theirs[m], ls=":", marker="o", mfc="none",
            color=f"C{i}", label=f"{m} (paper)")
ax.set(xlabel="layers per part of the dense model", ylabel="speedup vs the dense model (x)", xticks=DEPTHS,
       title=f"{P.small_shape} width, {P.new_tokens} new tokens, beam {P.beams}, batch {P.batch}")
ax.legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# ## Our numbers beside the paper's
#
# The claim has two speed parts, checked here (`V`), and a quality part that needs the pretrained models:
# 1. *the speedup grows with depth*: NASH-2's and NASH-4's speedups increase from 16 to 20 to 24 layers
#    (strict trends);
# 2. *NASH is faster than CoFi-T5*: at every depth NASH-4 (the slower NASH) takes less time than CoFi-T5, per
#    round (the 95 % interval of the mean paired difference above 0);
# 3. *higher output quality than CoFi-T5*: not measured offline (`V.not_measured`).

# %%
sp = data.pivot(index="layers", columns="model", values="speedup")
GROWS = V.combine([V.trend(list(sp[m]), strict=True, names=[f"NL {n}" for n in DEPTHS],
                           claim=f"{m}'s speedup grows with depth") for m in ("NASH-2", "NASH-4")],
                  claim="NASH's speedup grows with the decoder's depth")
FASTER = V.combine([V.beats(wall[f"CoFi-T5 / {n}"].to_numpy(), wall[f"NASH-4 / {n}"].to_numpy(),
                            names=("CoFi-T5 s", "NASH-4 s"), claim=f"NASH-4 faster than CoFi-T5 at NL {n}")
                    for n in DEPTHS], claim="NASH faster than CoFi-T5 at every depth")
QUALITY = V.not_measured(claim="NASH has higher output quality than CoFi-T5",
                         why="needs the pretrained T5-Small-efficient checkpoints (the hub)")
VERDICT = V.combine([GROWS, FASTER, QUALITY], claim="Table 5: on deeper models NASH's speedup grows with depth, "
                    "and NASH beats CoFi-T5")
print("\n".join(v.line() for v in GROWS.parts + FASTER.parts + (QUALITY, VERDICT)))
pd.concat({"ours": sp[["NASH-2", "NASH-4", "CoFi-T5"]].T.round(2),
           "paper": pd.DataFrame(theirs, index=DEPTHS).T}, axis=0)

# %% [markdown]
# **Reading it.** A NASH model keeps the same few decoder layers whatever the teacher's depth, while the
# dense model's decoder, which runs once per token and beam, grows with it: the gap widens with depth. The
# encoder, pruned by only 30 %, grows with depth too and is what keeps the speedup from growing in
# proportion. CoFi-T5's masks leave some of nearly every decoder layer, so its decoder stays deep.

# %%
ours = "; ".join(f"{m} " + "/".join(f"{x:.2f}" for x in sp[m]) + "x" for m in ("NASH-2", "NASH-4", "CoFi-T5"))
FINDING = V.Finding("Table 5", "NASH's speedup grows with decoder depth; NASH faster (and better) than CoFi-T5",
                    "; ".join(f"{m} " + "/".join(f"{x:g}" for x in theirs[m]) + "x" for m in theirs)
                    + " at NL 16/20/24 (SAMSum)", ours + f" at NL {'/'.join(map(str, DEPTHS))} (random weights)",
                    VERDICT)
paths = plotting.save_figure(
    fig, "table5_deeper_models", data, out_dir=OUT_DIR, profile=P.name,
    parameters=dict(profile=P.asdict(), depths=DEPTHS, seed_of_structures=S, task=TASK), seed=SEED,
    wall_time_s=round(time.perf_counter() - T0, 1), findings=[FINDING.asdict()])
paths
