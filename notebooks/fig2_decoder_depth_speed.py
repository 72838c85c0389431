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
# # Finding 3.1 and Table 1's speed columns: decoder depth sets generation speed
#
# **The paper's claim** (Ko et al. 2023, Section 3): *"Finding 3.1. The number of layers in the
# decoder network is the dominant factor affecting the inference speed, while the decoder width does
# not have a significant impact."* NASH therefore keeps 2-4 of T5-base's 12 decoder layers and prunes
# only 30 % of the encoder's width. Table 1 reports the resulting generation speedups against T5-base
# (RTX 3090, batch 32, beam 4, Appendix F): 2.4-5.5x for NASH with 2-4 decoder layers, about 2x for
# T5-small.
#
# **What we do.** Speed depends on shapes, not on weight values, so we time randomly initialised
# models of the real shapes, generating a fixed number of tokens with beam search:
#
# - decoder depth 12, 6, 4, 3, 2, 1 (a NASH-*d* model keeps *d* decoder layers);
# - a full encoder, or a *narrow* one with 30 % of its prunable weights removed (heads and FFN units
#   cut evenly, as NASH's L0 masks would leave it, counted from the real shapes);
# - a full-width decoder, or one narrowed by the same 30 % (to test "width does not matter");
# - the dense T5-small shape.
#
# All 25 configurations are timed in the same interleaved rounds and every speedup is a ratio within a
# round (`nashlib.timing`). The models share weights (`models.share_view`), so two dozen shapes fit in
# memory. Our setup differs from the paper's: CPU threads instead of a GPU, a smaller batch, and a
# fixed output length instead of decoding until each model stops (the paper's outputs differ per task,
# which is why its speedups differ per dataset).

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.profiles)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"batch": 8}

# %%
import time

import pandas as pd

from nashlib import env, models, paper, plotting, timing

P, RUN = env.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES)
T0 = time.perf_counter()
SHAPE = models.shape(P.teacher_shape)
RUN

# %% [markdown]
# ## The shapes
#
# `models.narrow_width` turns a target sparsity into a head count and an FFN width, counting
# parameters as the paper does (a head costs `4 * d_model * d_kv` per attention block, an FFN unit
# `2 * d_model`). A decoder layer has two attention blocks, so its heads weigh twice as much.

# %%
enc_heads, enc_ff, enc_sparsity = models.narrow_width(SHAPE, P.encoder_sparsity)
dec_heads, dec_ff, dec_sparsity = models.narrow_width(SHAPE, P.encoder_sparsity, cross_attention=True)
depths = list(P.decoder_depths)
assert {2, 3, 4} <= set(depths), f"decoder_depths={depths}: this notebook compares NASH-2/3/4, so it needs 2, 3 and 4"
full = models.build_t5(P.teacher_shape, seed=SEED, device=P.device)
narrow = models.build_t5(P.teacher_shape, encoder_heads=enc_heads, encoder_d_ff=enc_ff,
                         decoder_heads=dec_heads, decoder_d_ff=dec_ff, seed=SEED + 1, device=P.device)
small = models.build_t5(P.small_shape, seed=SEED + 2, device=P.device)
shapes = pd.DataFrame([
    dict(part="encoder", heads=SHAPE.num_heads, d_ff=SHAPE.d_ff, narrow_heads=enc_heads, narrow_d_ff=enc_ff,
         reached_sparsity=round(enc_sparsity, 4)),
    dict(part="decoder", heads=SHAPE.num_heads, d_ff=SHAPE.d_ff, narrow_heads=dec_heads, narrow_d_ff=dec_ff,
         reached_sparsity=round(dec_sparsity, 4)),
])
assert abs(enc_sparsity - P.encoder_sparsity) < 0.05 and abs(dec_sparsity - P.encoder_sparsity) < 0.05
shapes

# %%
configs, meta = {}, {}
for enc_name, enc_model in (("full", full), ("narrow", narrow)):
    for dec_name, dec_model in (("full", full), ("narrow", narrow)):
        for d in depths:
            name = f"enc {enc_name} / dec {dec_name} x{d}"
            configs[name] = models.share_view(dec_model, decoder_layers=d, encoder_from=enc_model)
            meta[name] = dict(encoder=enc_name, decoder=dec_name, decoder_layers=d)
TEACHER = f"enc full / dec full x{SHAPE.num_decoder_layers}"
configs["T5-small shape"] = small
meta["T5-small shape"] = dict(encoder="t5-small", decoder="t5-small", decoder_layers=small.config.num_decoder_layers)
inputs = timing.random_inputs(SHAPE.vocab_size, P.batch, P.src_len, seed=SEED, device=P.device)
calls = {name: timing.generation_call(m, inputs, new_tokens=P.new_tokens, beams=P.beams)
         for name, m in configs.items()}
print(f"{len(calls)} configurations; teacher = {TEACHER!r}; batch {P.batch}, source {P.src_len} tokens, "
      f"{P.new_tokens} new tokens, beam {P.beams}, {P.warmup} warm-up + {P.repeats} timed rounds")

# %% [markdown]
# ## Timing
#
# Every configuration generates from the same random source tokens. One round times all of them once,
# in an order that rotates from round to round.

# %%
samples = timing.measure(calls, warmup=P.warmup, repeats=P.repeats, device=P.device, progress=True)
summary = timing.summarize(samples).merge(timing.speedups(samples, TEACHER), on="config")
data = pd.DataFrame([dict(config=c, **meta[c]) for c in summary.config]).merge(summary, on="config")
data["params_M"] = [models.count_parameters(configs[c]) / 1e6 for c in data.config]
assert (data.wall_median_s > 0).all() and (data.speedup > 0).all()
data[["config", "decoder_layers", "params_M", "wall_median_s", "spread", "cpu_per_wall", "speedup",
      "speedup_q25", "speedup_q75"]].round(3)

# %% [markdown]
# ## The figure
#
# Left: speedup against the T5-base shape as the decoder gets shallower, for the four
# encoder/decoder width combinations (bars: quartiles of the per-round ratios), with T5-small's shape as a dashed line and the paper's Table 1
# speedups for NASH-2/3/4 (the range over its four datasets). Right: the same configurations as
# latency against the number of (non-embedding) parameters, which shows that size alone does not
# predict speed.

# %%
fig, axes = plotting.subplots(1, 2, width=6.0, height=4.3)
ax, ax2 = axes[0]
grid = data[data.encoder.isin(["full", "narrow"])]
for (enc, dec), grp in grid.groupby(["encoder", "decoder"], sort=False):
    grp = grp.sort_values("decoder_layers")
    label = f"{enc} encoder, {dec}-width decoder"
    ax.errorbar(grp.decoder_layers, grp.speedup, yerr=[grp.speedup - grp.speedup_q25, grp.speedup_q75 - grp.speedup],
                marker="o", ms=4, capsize=2, label=label)
    ax2.plot(grp.params_M, grp.wall_median_s, marker="o", ms=4, label=label)
small_row = data[data.config == "T5-small shape"].iloc[0]
ax.axhline(small_row.speedup, color="black", ls="--", lw=1, label=f"T5-small shape ({small_row.speedup:.2f}x)")
ax2.scatter([small_row.params_M], [small_row.wall_median_s], color="black", marker="s", zorder=3, label="T5-small shape")
ref = paper.table1()
for d in (2, 3, 4):
    s = ref[ref.model == f"NASH-{d}"].speedup
    ax.errorbar([d + 0.15], [s.median()], yerr=[[s.median() - s.min()], [s.max() - s.median()]], color="grey",
                marker="D", ms=5, capsize=3, ls="none", label="paper, NASH (RTX 3090, 4 datasets)" if d == 2 else None)
ax.set(xlabel="decoder layers", ylabel=f"generation speedup vs T5-base shape (x)",
       title="speedup against decoder depth", xticks=depths)
ax.legend(fontsize=8)
ax2.set(xlabel="parameters without embeddings (millions)", ylabel="latency per generate() call (s)",
        title="latency against model size")
fig.suptitle(f"Finding 3.1: batch {P.batch}, source {P.src_len}, {P.new_tokens} new tokens, beam {P.beams}, "
             f"{P.device}, {RUN['threads']} threads")
plotting.plt.show()

# %% [markdown]
# ## Our numbers beside the paper's
#
# NASH-*d* is the narrow encoder with a full-width decoder of *d* layers. Finding 3.1 has two parts,
# which we test separately:
# *depth is dominant*: cutting the decoder from 12 to 3 layers (full encoder) must speed generation up
# far more than narrowing all 12 decoder layers by 30 %; we ask for at least twice the gain;
# *width does not matter much*: narrowing the 12-layer decoder by 30 % gives less than 1.2x.
# The thresholds are ours; the paper states the finding in words.

# %%
def speedup_of(enc, dec, d):
    return data[(data.encoder == enc) & (data.decoder == dec) & (data.decoder_layers == d)].speedup.item()

L = SHAPE.num_decoder_layers
mid = 3
depth_gain, width_gain = speedup_of("full", "full", mid), speedup_of("full", "narrow", L)
depth_dominant = (depth_gain - 1) >= 2 * (width_gain - 1)
width_minor = width_gain < 1.2
VERDICT_31 = {(True, True): "holds", (False, False): "does not hold"}.get((depth_dominant, width_minor), "partly holds")

rows = []
for model, ours in [(f"NASH-{d}", speedup_of("narrow", "full", d)) for d in (2, 3, 4)] + \
                   [("T5-Small", small_row.speedup)]:
    s = ref[ref.model == model].speedup
    rows.append(dict(model=model, ours=round(ours, 2), paper_min=s.min(), paper_max=s.max(),
                     within_paper_range=bool(s.min() <= ours <= s.max())))
table1_speed = pd.DataFrame(rows)
print(table1_speed.to_string(index=False))
nash = {r.model: r.ours for r in table1_speed.itertuples()}
ordered = nash["NASH-2"] > nash["NASH-3"] > nash["NASH-4"]
nash3_beats_small = nash["NASH-3"] > nash["T5-Small"]
VERDICT_T1 = ("holds" if ordered and nash3_beats_small and table1_speed.within_paper_range.all()
              else "partly holds" if ordered and nash3_beats_small else "does not hold")
print(f"\ndecoder {L}->{mid} layers: {depth_gain:.2f}x; 30 % narrower {L}-layer decoder: {width_gain:.2f}x")
print(f"Finding 3.1 (depth dominant: {depth_dominant}, width minor: {width_minor}): {VERDICT_31}")
print(f"Table 1 speed columns (NASH-2 > NASH-3 > NASH-4: {ordered}; NASH-3 faster than T5-small: "
      f"{nash3_beats_small}; all inside the paper's range: {bool(table1_speed.within_paper_range.all())}): {VERDICT_T1}")

# %% [markdown]
# **Reading it.** Each decoder layer runs once per generated token and per beam, while the encoder
# runs once per input, so removing decoder layers removes most of the per-token work. Narrowing a
# layer removes arithmetic but not the fixed per-layer costs (kernel launches on a GPU; on a CPU,
# layer norms, small-tensor bookkeeping and beam-search cache copies that scale with depth), so
# width buys less. On a CPU the beam search's cache reordering is a large part of the per-layer cost
# (see the Figure 4 notebook), which makes depth matter even more than on the paper's GPU.

# %%
paths = plotting.save_figure(
    fig, "fig2_decoder_depth_speed", data, out_dir=OUT_DIR, profile=P.name,
    parameters=P.asdict(), seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    table1_speed=table1_speed.to_dict("records"),
    findings=[
        dict(finding="Finding 3.1", claim="decoder depth, not width, sets generation speed",
             paper="depth is the dominant factor; decoder width has no significant impact",
             ours=f"{L}->{mid} decoder layers: {depth_gain:.2f}x; 30% narrower decoder: {width_gain:.2f}x",
             verdict=VERDICT_31),
        dict(finding="Table 1 (speedup columns)", claim="NASH-2/3/4 speedups against T5-base",
             paper="; ".join(f"{r.model} {r.paper_min:.2f}-{r.paper_max:.2f}x" for r in table1_speed.itertuples()),
             ours="; ".join(f"{r.model} {r.ours:.2f}x" for r in table1_speed.itertuples()),
             verdict=VERDICT_T1),
    ])
paths
