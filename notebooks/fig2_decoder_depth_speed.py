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
# round (`nashlib.speed.timing`). The models share weights (`shapes.share_view`), so two dozen shapes fit in
# memory. Our setup differs from the paper's: CPU threads instead of a GPU, a smaller batch, and a
# fixed output length instead of decoding until each model stops (the paper's outputs differ per task,
# which is why its speedups differ per dataset).

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"batch": 8}

# %%
import time

import pandas as pd

from nashlib import settings
from nashlib import shapes
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V
from nashlib.speed import configs as grid
from nashlib.speed import figures, tables, timing, twopaths

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="fig2_decoder_depth_speed")
T0 = time.perf_counter()
SHAPE = shapes.shape(P.teacher_shape)
RUN

# %% [markdown]
# ## The shapes
#
# `shapes.narrow_width` turns a target sparsity into a head count and an FFN width, counting
# parameters as the paper does (a head costs `4 * d_model * d_kv` per attention block, an FFN unit
# `2 * d_model`). A decoder layer has two attention blocks, so its heads weigh twice as much.

# %%
enc_heads, enc_ff, enc_sparsity = shapes.narrow_width(SHAPE, P.encoder_sparsity)
dec_heads, dec_ff, dec_sparsity = shapes.narrow_width(SHAPE, P.encoder_sparsity, cross_attention=True)
depths = list(P.decoder_depths)
assert {2, 3, 4} <= set(depths), f"decoder_depths={depths}: this notebook compares NASH-2/3/4, so it needs 2, 3 and 4"
full = shapes.build_t5(P.teacher_shape, seed=SEED, device=P.device)
narrow = shapes.build_t5(P.teacher_shape, encoder_heads=enc_heads, encoder_d_ff=enc_ff,
                         decoder_heads=dec_heads, decoder_d_ff=dec_ff, seed=SEED + 1, device=P.device)
small = shapes.build_t5(P.small_shape, seed=SEED + 2, device=P.device)
widths = pd.DataFrame([
    dict(part="encoder", heads=SHAPE.num_heads, d_ff=SHAPE.d_ff, narrow_heads=enc_heads, narrow_d_ff=enc_ff,
         reached_sparsity=round(enc_sparsity, 4)),
    dict(part="decoder", heads=SHAPE.num_heads, d_ff=SHAPE.d_ff, narrow_heads=dec_heads, narrow_d_ff=dec_ff,
         reached_sparsity=round(dec_sparsity, 4)),
])
assert abs(enc_sparsity - P.encoder_sparsity) < 0.05 and abs(dec_sparsity - P.encoder_sparsity) < 0.05
widths

# %% [markdown]
# `grid.depth_width_grid` (`nashlib.speed.configs`) makes a weight-sharing view for every encoder
# width x decoder width x decoder depth, named `"enc full / dec narrow x3"`, with its metadata.

# %%
configs, meta = grid.depth_width_grid(full, narrow, depths)
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
# in an order that rotates from round to round. `tables.latency_table` puts each configuration's
# metadata beside its median latency and its paired speedup against the teacher (`timing.speedups`).

# %%
samples = timing.measure(calls, warmup=P.warmup, repeats=P.repeats, device=P.device, progress=True)
data = tables.latency_table(samples, meta, baseline=TEACHER)
data["params_M"] = [shapes.count_parameters(configs[c]) / 1e6 for c in data.config]
assert (data.wall_median_s > 0).all() and (data.speedup > 0).all()
data[["config", "decoder_layers", "params_M", "wall_median_s", "spread", "cpu_per_wall", "speedup",
      "speedup_q25", "speedup_q75"]].round(3)

# %% [markdown]
# ## The same shapes at the hardware's limit
#
# Stock `generate()` is the paper's protocol. Does depth still set the speed on the fastest exact path
# we have, the grouped path (`nashlib.speed.grouped`: cross-attention keys and values once per example,
# tokens identical to stock)? `twopaths.two_paths` times four of the shapes on both paths in the same rounds
# and gives each its speedup against the 12-layer model *on the same path*.

# %%
LIMIT = {"T5-base shape": configs[TEACHER], "3 decoder layers": configs["enc full / dec full x3"],
         "NASH-3 shape": configs["enc narrow / dec full x3"], "T5-small shape": small}
FAST = twopaths.two_paths(LIMIT, inputs, teacher="T5-base shape", new_tokens=P.new_tokens, beams=P.beams,
                          warmup=P.warmup, repeats=P.repeats, device=P.device)
FAST.set_index("model")[["stock_s", "grouped_s", "x_stock", "x_grouped", "grouped_gain", "same_tokens"]].round(3)

# %% [markdown]
# ## The figure
#
# Left: speedup against the T5-base shape as the decoder gets shallower, for the four
# encoder/decoder width combinations (bars: quartiles of the per-round ratios), with T5-small's shape
# as a dashed line and the paper's Table 1 speedups for NASH-2/3/4 (the range over its four
# datasets). Right: the same configurations as latency against the number of (non-embedding)
# parameters, which shows that size alone does not predict speed. The paper's range is drawn by
# `figures.paper_range_marker`, shared with the fast-generation notebook.

# %%
fig, axes = plotting.subplots(1, 3, width=6.0, height=4.3)
ax, ax2, ax3 = axes[0]
ref = paper.table1()
figures.depth_panels(ax, ax2, data, ref, depths)
twopaths.markers(ax3, FAST, title="stock and grouped paths")
fig.suptitle(f"Finding 3.1: batch {P.batch}, source {P.src_len}, {P.new_tokens} new tokens, beam {P.beams}, "
             f"{P.device}, {RUN['threads']} threads")
plotting.plt.show()

# %% [markdown]
# ## Our numbers beside the paper's
#
# NASH-*d* is the narrow encoder with a full-width decoder of *d* layers. Finding 3.1 has two parts,
# which we test separately:
# *depth is dominant*: cutting the decoder from 12 to 3 layers (full encoder) must speed generation up
# far more than narrowing all 12 decoder layers by 30 %; we ask for at least twice the gain
# (speedup - 1);
# *width does not matter much*: narrowing the 12-layer decoder by 30 % gives less than 1.2x.
# Both: holds; one: partly holds; neither: does not hold.
# *Table 1's speed columns*: NASH-2 > NASH-3 > NASH-4 (a strict trend) and NASH-3 faster than the
# T5-small shape are required; with both, each of NASH-2/3/4 and T5-small inside the paper's range
# makes a hold, otherwise a partial hold.
# The thresholds are ours; the paper states the finding in words. The verdicts come from
# `nashlib.results.verdicts` (`V`).

# %%
def speedup_of(enc, dec, d):
    return data[(data.encoder == enc) & (data.decoder == dec) & (data.decoder_layers == d)].speedup.item()

L, mid = SHAPE.num_decoder_layers, 3
depth_gain, width_gain = speedup_of("full", "full", mid), speedup_of("full", "narrow", L)
VERDICT_31 = V.combine([
    V.at_least(depth_gain - 1, 2 * (width_gain - 1), name=f"{L}->{mid} layers gain",
               claim="depth gain at least twice the width gain"),
    V.at_most(width_gain, 1.2, strict=True, name="30% narrower decoder speedup", claim="width minor (< 1.2x)")],
    claim="decoder depth, not width, sets generation speed")
ours = {f"NASH-{d}": speedup_of("narrow", "full", d) for d in (2, 3, 4)}
ours["T5-Small"] = data.set_index("config").speedup["T5-small shape"]
table1_speed = tables.table1_speed(ours, ref)
ordered = V.trend([ours[m] for m in ("NASH-4", "NASH-3", "NASH-2")], strict=True,
                  names=("NASH-4", "NASH-3", "NASH-2"), claim="NASH-2 > NASH-3 > NASH-4")
beats_small = V.beats(ours["NASH-3"], ours["T5-Small"], names=("NASH-3", "T5-Small"),
                      claim="NASH-3 faster than T5-small")
in_range = V.combine([V.between(x, *tables.paper_range(ref, m), name=m, claim=f"{m} in the paper's range")
                      for m, x in ours.items()], claim="inside the paper's range")
VERDICT_T1 = V.combine([ordered, beats_small, in_range], required=[ordered, beats_small],
                       claim="NASH-2/3/4 speedups against T5-base")
print(table1_speed.to_string(index=False) + "\n")
print("\n".join(v.line() for v in VERDICT_31.parts + (VERDICT_31,) + VERDICT_T1.parts + (VERDICT_T1,)))

# %% [markdown]
# *At the hardware's limit*: on the grouped path, against the 12-layer model on the grouped path, the
# 3-layer decoder must keep at least 90 % of its stock speedup (the same rounds, the same output length).

# %%
stock_x, grouped_x = FAST.set_index("model").x_stock, FAST.set_index("model").x_grouped
VERDICT_FAST = V.at_least(grouped_x["3 decoder layers"], 0.9 * stock_x["3 decoder layers"],
                          name=f"{L}->3 layers, grouped", claim="depth's gain survives the grouped path (>= 90%)")
print(VERDICT_FAST.line())

# %% [markdown]
# **Reading it.** Each decoder layer runs once per generated token and per beam, while the encoder
# runs once per input, so removing decoder layers removes most of the per-token work. Narrowing a
# layer removes arithmetic but not the fixed per-layer costs (kernel launches on a GPU; on a CPU,
# layer norms, small-tensor bookkeeping and beam-search cache copies that scale with depth), so
# width buys less. On a CPU the beam search's cache reordering is a large part of the per-layer cost
# (see the Figure 4 notebook), which makes depth matter even more than on the paper's GPU.

# %%
FINDINGS = [
    V.Finding("Finding 3.1", "decoder depth, not width, sets generation speed",
              "depth is the dominant factor; decoder width has no significant impact",
              f"{L}->{mid} decoder layers: {depth_gain:.2f}x; 30% narrower decoder: {width_gain:.2f}x", VERDICT_31),
    V.Finding("Table 1 (speedup columns)", "NASH-2/3/4 speedups against T5-base",
              "; ".join(f"{r.model} {r.paper_min:.2f}-{r.paper_max:.2f}x" for r in table1_speed.itertuples()),
              "; ".join(f"{r.model} {r.ours:.2f}x" for r in table1_speed.itertuples()), VERDICT_T1),
    V.Finding("Finding 3.1 (grouped path)", "decoder depth sets the speed on the fastest exact path too",
              "not in the paper (stock generation only)",
              "; ".join(f"{m} {stock_x[m]:.2f}x stock, {grouped_x[m]:.2f}x grouped" for m in list(LIMIT)[1:]),
              VERDICT_FAST),
]
paths = plotting.save_figure(
    fig, "fig2_decoder_depth_speed", data, out_dir=OUT_DIR, profile=P.name,
    parameters=P.asdict(), seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1),
    table1_speed=table1_speed.to_dict("records"), grouped_path=FAST.to_dict("records"),
    findings=[f.asdict() for f in FINDINGS])
paths
