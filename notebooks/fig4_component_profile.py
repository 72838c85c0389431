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
# # Figure 4: where T5-base's generation time goes
#
# **The paper's claim** (Ko et al. 2023, Section 3, Figure 4): *"Componentwise processing time of the
# T5-base. The layer normalization and dropout contribute 20-25% of the total inference time."* These
# are fixed costs per layer that narrowing a layer cannot remove, one of the paper's two reasons why
# pruning decoder width does not speed generation up (Finding 3.1). The paper measured on a GPU.
#
# **What we do.** We generate with a randomly initialised model of T5-base's shape (timing depends on
# shapes, not weights), with beam search (beam 4, the paper's setting) and greedily, and time every
# module with forward hooks (`nashlib.speed.components`). Each module's *exclusive* time (its own time minus
# its hooked children's) goes to one component: embedding, layer norm, dropout, attention projections
# (q, k, v, o), attention scores and softmax (with the position bias and the cache update), FFN, LM
# head, and the rest of the model code (residual adds, masks). What `generate()` spends outside the
# model is split into the beam search's reordering of the KV cache and the rest of the generation
# loop (scores, logits processing, stopping checks): a component the paper's figure does not show.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"profile_repeats": 3}

# %%
import time

import pandas as pd

from nashlib import settings
from nashlib import shapes
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V
from nashlib.speed import components
from nashlib.speed import figures, timing

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="fig4_component_profile")
T0 = time.perf_counter()
model = shapes.build_t5(P.teacher_shape, seed=SEED, device=P.device)
inputs = timing.random_inputs(model.config.vocab_size, P.batch, P.src_len, seed=SEED, device=P.device)
MODES = {"beam 4" if P.beams == 4 else f"beam {P.beams}": P.beams, "greedy": 1}
RUN

# %% [markdown]
# ## What the hooks cost
#
# Hooks add Python work to every module call, and that work lands mostly on the many small modules
# (dropout, layer norm). So we first time plain `generate()` for each mode, interleaved with hooked
# runs, and report the hooks' overhead: the shares below carry that bias.

# %%
plain = {f"{mode} plain": timing.generation_call(model, inputs, new_tokens=P.new_tokens, beams=b)
         for mode, b in MODES.items()}
rows = []
for mode, beams in MODES.items():
    plain[f"{mode} hooked"] = (lambda b=beams, m=mode: rows.append(dict(mode=m, **components.profile_generation(
        model, inputs, new_tokens=P.new_tokens, beams=b, device=P.device))))
samples = timing.measure(plain, warmup=P.warmup, repeats=max(P.profile_repeats, 1), device=P.device)
rows = rows[len(MODES) * P.warmup:]  # drop the warm-up runs' profiles
overhead = timing.summarize(samples).set_index("config").wall_median_s
overhead = pd.Series({m: overhead[f"{m} hooked"] / overhead[f"{m} plain"] - 1 for m in MODES}, name="hook overhead")
print((100 * overhead).round(1).astype(str) + " %")
print("(a negative overhead means the hooks cost less than the run-to-run noise)" if (overhead < 0).any() else "")

# %% [markdown]
# ## Shares of the time
#
# Median seconds per component over the profiled calls, and each component's share of the total
# (`components.shares_by`: the shares for each decoding mode, stacked; the fast-generation notebook
# uses it for stock against fast generation).

# %%
data = components.shares_by(rows, "mode", order=MODES)
data["hook_overhead"] = data["mode"].map(overhead)
for mode in MODES:
    assert abs(data[data["mode"] == mode].share.sum() - 1) < 1e-9
    assert (data[data["mode"] == mode].seconds >= 0).all()
data.pivot(index="component", columns="mode", values="share").loc[list(components.COMPONENTS)].round(3)

# %% [markdown]
# One bar per decoding mode, stacked by component (`figures.stacked_components`, also the
# fast-generation notebook's profile panel).

# %%
fig, axes = plotting.subplots(1, 1, width=9.0, height=3.6)
ax = axes[0, 0]
wide = data.pivot(index="mode", columns="component", values="share")[list(components.COMPONENTS)]
figures.stacked_components(ax, wide, labels=True)
lo, hi = paper.FIGURE4_LN_DROPOUT_SHARE
ax.set(xlim=(0, 1), xlabel="share of generate() time", ylabel="")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, fontsize=8)
ax.set_title(f"Figure 4: {P.teacher_shape} shape, batch {P.batch}, source {P.src_len}, {P.new_tokens} new tokens, "
             f"{P.device}, {RUN['threads']} threads (hook overhead {100 * overhead.max():+.0f}%)")
plotting.plt.show()

# %% [markdown]
# ## Our numbers beside the paper's
#
# The paper puts layer norm + dropout at 20-25 % of inference time. We call the claim reproduced for a
# decoding mode when our share falls within 15-30 % (the paper's range widened by 5 points each way for
# measurement noise); the threshold is ours. All modes inside: holds; some: partly holds; none: does
# not hold (`nashlib.results.verdicts`).

# %%
ln_do = {m: data[(data["mode"] == m) & data.component.isin(["layer norm", "dropout"])].share.sum() for m in MODES}
beam_share = {m: data[(data["mode"] == m) & data.component.isin(["beam cache reorder",
                                                                   "generation loop (search, logits)"])].share.sum()
              for m in MODES}
VERDICT = V.combine([V.between(v, 0.15, 0.30, name="layer norm + dropout share",
                               claim=f"share within 15-30% ({m})") for m, v in ln_do.items()],
                    claim="layer norm + dropout take 20-25% of T5-base inference time")
print(pd.DataFrame({"layer norm + dropout (ours)": pd.Series(ln_do).map("{:.1%}".format),
                    "paper": f"{lo:.0%}-{hi:.0%}",
                    "generation outside the model (ours)": pd.Series(beam_share).map("{:.1%}".format),
                    "hook overhead": overhead.map("{:.1%}".format)}).to_string())
print(f"\nVerdict on Figure 4 ({P.device}, profile {P.name}):")
print("\n".join(v.line() for v in VERDICT.parts + (VERDICT,)))

# %% [markdown]
# **Reading it.** On a GPU every layer norm and dropout is a kernel launch of its own, and at one
# token per step launches dominate, which is how the paper gets 20-25 %. On a CPU there is no launch
# cost; layer norm and dropout cost what their Python calls and a pass over a small tensor cost, while
# the matrix products of the projections and FFN and, with beam search, the copying of the KV cache
# take most of the time. The beam-search rows show a cost the paper's figure leaves out: reordering the
# cache copies every layer's keys and values at every step, so it too grows with decoder depth.

# %%
paths = plotting.save_figure(
    fig, "fig4_component_profile", data, out_dir=OUT_DIR, profile=P.name,
    parameters=P.asdict(), seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    hook_overhead=overhead.to_dict(),
    findings=[V.Finding("Figure 4", "layer norm + dropout take 20-25% of T5-base inference time",
                        f"{lo:.0%}-{hi:.0%} (GPU)", "; ".join(f"{m}: {v:.1%}" for m, v in ln_do.items()),
                        VERDICT).asdict()])
paths
