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
# # NASH, annotated
#
# **What this is.** The method of NASH (Ko et al. 2023, *NASH: A Simple Unified Framework of Structured
# Pruning for Accelerating Encoder-Decoder Language Models*, arXiv 2310.10054) read paragraph by
# paragraph, in the manner of the *Annotated Transformer*: each paragraph of the paper's background
# (Section 2), of its Appendix B (pruning with L0 regularisation), and of the method itself (Sections
# 4.1 to 4.3) is quoted or closely summarised, and followed by a short cell that runs the code of
# `nashlib` that implements it. The notebook ends where the method ends: the pruned model is compacted
# into a smaller dense model, saved, reloaded and used for generation.
#
# **What this is not.** There is no claim tested here and no verdict. Every model is a T5 with random
# weights: the demonstrations use the tiny shape of `nashlib.shapes` (`build_t5("tiny")`: d_model 64,
# 4 heads of 16, d_ff 256, 4 encoder and 4 decoder layers), and the parameter counts use the shape of
# t5-base (d_model 768, 12 heads of 64, d_ff 3072, 12 + 12 layers), built on PyTorch's meta device, so
# no weights are allocated. The paper's numbers are in the other notebooks (Tables 1, 3, 4, Figures 2 to 8).
#
# **Where the paper's text and its released code differ**, the library follows one of them and names
# the switch for the other (`PruneConfig`, see the README's table); this notebook says which at each
# step, and `variants_paper_vs_released` runs each switch against the default.
#
# **Contents.**
# 1. Section 2, background: heads and FFN units as units of weights; masks on them.
# 2. Appendix B, pruning with L0 regularisation: the hard-concrete distribution, its keep-probability,
#    the deterministic mask, and the Lagrangian relaxation.
# 3. Section 4, NASH: the two methods side by side, then
#    - 3.1, Section 4.1, the shallow decoder: uniform layer selection, two formulas, and T5's position bias;
#    - 3.2, Section 4.2, the narrow encoder: the sparsity ŝ counted on t5-base, and the controller that
#      pulls ŝ to its warmed-up target, live.
# 4. Section 4.3, the training loss: the three distillation terms on one batch.
# 5. After pruning: compaction, saving, reloading and generation.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch; the teacher's weights, the batches and the pruning run
OVERRIDES: dict = {}  # profile fields to replace (see nashlib.settings); only threads matter here
SHAPE: str = "tiny"  # nashlib.shapes shape of the random teacher in the live demonstrations
DECODER_LAYERS: int = 3  # d_s: decoder layers the NASH student keeps
TARGET: float = 0.3  # t: the encoder's target sparsity (the paper: 30 % in every experiment)
STEPS: int = 500  # pruning steps of the live controller demo (the cpu profile's recipe, in every profile)
WARMUP_STEPS: int = 400  # steps over which t rises linearly from 0 (80 %, as the paper's 16 of 20 epochs)
LR: float = 3e-4  # AdamW learning rate of the weights while pruning (the cpu recipe)
MASK_LR: float = 0.05  # learning rate of the masks' log_alpha (the cpu recipe)
REG_LR: float = 0.01  # learning rate of the Lagrange multipliers (the released code's and the cpu recipe's)

# %%
import copy
import math
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from transformers import AutoModelForSeq2SeqLM, T5ForConditionalGeneration

import nashlib  # noqa: F401  (registers the compacted model classes with transformers' Auto classes)
from nashlib import settings, shapes
from nashlib.arch import arch_of, head_cost, unit_cost
from nashlib.experiments import records, traces
from nashlib.pruning import constraints, distill, hardconcrete, layers, prune
from nashlib.pruning.masks import PruningMasks
from nashlib.results import plotting

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="nash_annotated")
T0 = time.perf_counter()
WORK = tempfile.TemporaryDirectory(prefix="nash_annotated-")  # the pruning run and the saved model; removed at the end
TEACHER = shapes.build_t5(SHAPE, seed=SEED)  # random weights, eval mode: the teacher of every demonstration
print(f"profile {P.name}: {RUN['threads']} thread(s); teacher {SHAPE}, "
      f"{shapes.count_parameters(TEACHER):,} weights without embeddings")


# %% [markdown]
# The pruning code reads its data as a function `batch(step) -> dict` (so that the batch of a step
# does not depend on how often a run was interrupted). Here: 16 fixed batches of random tokens, 4
# sequences of 10 source and 5 target tokens, as in the library's tests (`tests/_tiny.py`). Random
# tokens are enough to show every mechanism: the student learns to imitate the teacher, whatever the
# teacher computes.

# %%
def random_batches(seed: int, vocab: int, n: int = 16, size: int = 4, src: int = 10, tgt: int = 5):
    """``batch(step)``: one of ``n`` fixed batches of random tokens (2..vocab-1: no padding, no end token)."""
    g = torch.Generator().manual_seed(seed)
    data = [dict(input_ids=torch.randint(2, vocab, (size, src), generator=g),
                 attention_mask=torch.ones(size, src, dtype=torch.long),
                 labels=torch.randint(2, vocab, (size, tgt), generator=g)) for _ in range(n)]
    return lambda step: data[step % n]


BATCH = random_batches(SEED, TEACHER.config.vocab_size)
{k: tuple(v.shape) for k, v in BATCH(0).items()}

# %% [markdown]
# ## 1. Section 2: what a structured pruner removes
#
# **Transformers.** *"An MHA layer in the i-th Transformer layer with N_h heads outputs*
# `MHA_(i)(Q, K, V) = Σ_j Att(Q W_Q^(i,j), K W_K^(i,j), V W_V^(i,j)) W_O^(i,j)` *[...] the j-th head is
# parameterized by W_Q, W_K, W_V and W_O ∈ R^(d × d_h) [...] Here, d and d_h denote the hidden state
# dimension and attention head dimension."* The FFN is `FFN_(i)(X) = GELU(X W_1) W_2` with
# `W_1 ∈ R^(d × d_f)` and `W_2 ∈ R^(d_f × d)`.
#
# So a head is a unit of weights: d_h columns of each of W_Q, W_K, W_V (in PyTorch's `Linear`, which
# stores `out × in`, d_h *rows* of `q`, `k`, `v`) and d_h rows of W_O (columns of `o`): `4 · d · d_h`
# weights. An FFN intermediate unit is one column of W_1 and one row of W_2: `2 · d` weights (`3 · d` in
# T5 v1.1 and Flan-T5, whose gated FFN has two input projections; T5 v1.0 uses ReLU, not GELU). A T5
# decoder layer has two attentions (self and cross) and one FFN. Every module of `nashlib` finds these
# projections through one adapter, `nashlib.arch.arch_of`, and asks it what a unit costs
# (`head_cost`, `unit_cost`); the cell below checks those costs against the weight slices themselves.

# %%
arch = arch_of(TEACHER)
attn, ffn = arch.blocks["encoder"]["self"][0], arch.blocks["encoder"]["ffn"][0]
d, H, d_h, d_f = arch.d_model, attn.n_heads, attn.d_head, ffn.width
print(f"{SHAPE}: d = {d}, N_h = {H} heads of d_h = {d_h}, d_f = {d_f}; "
      f"{arch.depth('encoder')} encoder and {arch.depth('decoder')} decoder layers")
print("blocks of a decoder layer:", list(arch.blocks["decoder"]))
print("q, k, v, o weights (out x in):", [tuple(p.weight.shape) for p in (attn.q, attn.k, attn.v, attn.o)])
print("FFN input(s) and output (out x in):", [tuple(p.weight.shape) for p in (*ffn.inputs, ffn.output)])
j = 1  # head j: rows j*d_h:(j+1)*d_h of q, k, v and the same columns of o
head_j = sum(p.weight[j * d_h:(j + 1) * d_h].numel() for p in (attn.q, attn.k, attn.v)) \
    + attn.o.weight[:, j * d_h:(j + 1) * d_h].numel()
unit_0 = sum(p.weight[0].numel() for p in ffn.inputs) + ffn.output.weight[:, 0].numel()  # FFN unit 0
assert head_j == head_cost(d, d_h) == attn.cost(heads=1) == 4 * d * d_h
assert unit_0 == unit_cost(d, ffn.gated) == ffn.cost(units=1) == 2 * d
print(f"one head: {head_j:,} weights = 4·d·d_h; one FFN unit: {unit_0:,} weights = 2·d")

# %% [markdown]
# **Structured pruning** *"gradually removes unnecessary parameters from a model, targeting
# width-related components (e.g., MHA heads, FFN hidden units) and depth-related elements (e.g.,
# Transformer layers)"*. It does so with masks:
# `MHA_(i) = z_MHA^(i) · Σ_j z_head^(i,j) · Att(...) W_O^(i,j)` and
# `FFN_(i)(X) = z_FFN^(i) · GELU(X W_1) · diag(z_int^(i)) · W_2`, with every z in {0, 1}.
# CoFi (Xia et al. 2022) learns all four kinds (plus hidden dimensions); NASH learns only `z_head` and
# `z_int`, and only on the encoder (Section 4.2).
#
# `PruningMasks` puts such masks on a stock Hugging Face model through forward hooks, without a copied
# modeling file: a pre-hook on `o` scales each head's slice of its input, a pre-hook on the FFN's output
# projection scales each unit. The cell shuts one head and half the FFN units of one layer (the
# `log_alpha` values are explained in Appendix B below; ±30 makes a gate certainly shut or open) and
# checks that the masked model computes exactly what a copy does whose corresponding weights were
# zeroed by hand: that is all a mask is.

# %%
masks = PruningMasks(TEACHER, types=("heads", "ffn_units"), parts=("encoder",)).eval()
print({k: f"{m.n} gates, groups of {m.group}" for k, m in masks.masks.items()})
with torch.no_grad():
    for m in masks.masks.values():
        m.log_alpha.fill_(30.0)  # certainly open
    masks.masks["encoder_self_heads"].log_alpha.view(-1, H)[0, j] = -30.0  # head j of encoder layer 0
    masks.masks["encoder_ffn_ffn_units"].log_alpha.view(-1, d_f)[2, :d_f // 2] = -30.0  # half of layer 2's units
    with masks:  # hooks attached only inside the block
        masked = TEACHER(**BATCH(0)).logits  # (B, T_tgt, V)
    by_hand = copy.deepcopy(TEACHER)
    by_hand.encoder.block[0].layer[0].SelfAttention.o.weight[:, j * d_h:(j + 1) * d_h] = 0.0
    by_hand.encoder.block[2].layer[-1].DenseReluDense.wo.weight[:, :d_f // 2] = 0.0
    zeroed = by_hand(**BATCH(0)).logits
    untouched = TEACHER(**BATCH(0)).logits
print(f"max |masked - weights zeroed by hand| = {(masked - zeroed).abs().max():.2e}; "
      f"max |masked - unmasked| = {(masked - untouched).abs().max():.2e}")
assert torch.allclose(masked, zeroed, atol=1e-5) and not torch.allclose(masked, untouched, atol=1e-3)

# %% [markdown]
# ## 2. Appendix B: pruning with L0 regularisation
#
# **The objective.** *"With a given LM f(·; θ) that is parameterized by θ = {θ_j}, we can define binary
# mask variable z = {z_j} [...] a pruned LM is written as f(·; θ̃), where θ̃ = θ ⊙ z"*, and masks and
# weights are learned together by
# `min E_z [ (1/D) Σ_i L(f(x_i; θ̃), y_i) + λ ‖θ̃‖_0 ]`, each `z_j ~ Bernoulli(π_j)`.
# *"Considering the number of binary masks, n, the possible choices of z can be represented as 2^n. The
# discrete feature of the mask and this tremendous amount of choices make mask optimization practically
# intractable."* (The tiny encoder above has 16 head and 1,024 unit masks; t5-base's encoder has
# 144 and 36,864.)
#
# **The hard-concrete distribution.** Louizos et al. (2018) make z continuous and reparameterised:
# *"sample u from the uniform distribution U(0, 1) and calculate*
# `s = sigmoid(log u − log(1 − u) + α)`, `s̄ = s × (r − l) + l`, `z = min(1, max(0, s̄))`
# *where l and r are constant values that satisfy l < 0 and r > 0, and α is a learnable parameter."*
# The library's `HardConcrete` is exactly this, with the constants of Louizos et al. and CoFi:
# `l = −0.1`, `r = 1.1`, and a temperature `β = 2/3` that divides the logit
# (`s = sigmoid((log u − log(1 − u) + log_alpha) / β)`; the appendix omits β). The cell draws a mask with
# `HardConcrete.sample` and then recomputes it by hand from the same u.

# %%
hc = hardconcrete.HardConcrete(6, init_log_alpha=0.0, name="demo")
l, r, beta, eps = hardconcrete.LIMIT_L, hardconcrete.LIMIT_R, hardconcrete.TEMPERATURE, hardconcrete.EPS
with torch.no_grad():
    hc.log_alpha.copy_(torch.tensor([-3.0, -1.0, 0.0, 0.0, 1.0, 3.0]))
    torch.manual_seed(SEED)
    z = hc.sample()
    torch.manual_seed(SEED)  # the same u again, this time by hand
    u = torch.rand_like(hc.log_alpha).clamp(eps, 1 - eps)
    s = torch.sigmoid((u.log() - (1 - u).log() + hc.log_alpha) / beta)
    s_bar = s * (r - l) + l  # stretched from (0, 1) to (l, r) = (-0.1, 1.1)
    z_by_hand = s_bar.clamp(0.0, 1.0)  # min(1, max(0, s̄)): the stretch beyond [0, 1] becomes exact 0s and 1s
assert torch.equal(z, z_by_hand)
print(f"l = {l}, r = {r}, β = {beta:.4f}")
pd.DataFrame(dict(log_alpha=hc.log_alpha.detach(), u=u, s=s, s_bar=s_bar, z=z)).round(4)

# %% [markdown]
# Why the stretch and the clamp: without them z would be a number strictly between 0 and 1, and no
# unit would ever be removed. Stretching s to (l, r) puts some probability mass below 0 and above 1, and
# the clamp turns that mass into point masses *exactly* at 0 and at 1; in between, z is a smooth
# function of α, so the loss's gradient reaches α through the samples.
#
# The L0 norm's expectation is then differentiable too. A unit is non-zero when `s̄ > 0`, with
# probability `P(z > 0) = sigmoid(α − β · log(−l / r))` (`HardConcrete.prob_nonzero`); summed over the
# units it is the *expected* number of kept units, from which the expected sparsity ŝ is counted
# (Section 4.2 below). Two numbers to keep in mind: at `log_alpha = 0` (the *drop-rate* initialisation at
# drop rate 0.5) a unit is kept with probability 0.83, not 0.5, because the stretch pushes more mass
# above 1 than below 0; and `clamp_`, called after every optimiser step, keeps `log_alpha` in
# `[ln 0.01, ln 100]`, so a unit's keep-probability stays between 0.047 and 0.998 during training: no
# gate is ever frozen shut or open.

# %%
grid = torch.linspace(-6.0, 6.0, 121)
gates = hardconcrete.HardConcrete(len(grid), name="grid")
with torch.no_grad():
    gates.log_alpha.copy_(grid)
    keep = gates.prob_nonzero()  # (121,) P(z > 0)
    draws = torch.stack([gates.sample() for _ in range(2000)])  # (2000, 121) samples
    kept_share = (draws > 0).float().mean(0)  # (121,) share of the samples that are non-zero
closed_form = torch.sigmoid(grid - beta * math.log(-l / r)).clamp(eps, 1 - eps)
assert torch.allclose(keep, closed_form, atol=1e-6)
assert (kept_share - keep).abs().max() < 0.05  # 2,000 draws: a few standard errors
lo, hi = hardconcrete.LOG_ALPHA_MIN, hardconcrete.LOG_ALPHA_MAX
at = lambda a: float(torch.sigmoid(torch.tensor(a) - beta * math.log(-l / r)))  # noqa: E731
print(f"P(z > 0) at log_alpha = 0: {at(0.0):.3f}; at the clamp bounds ln 0.01 = {lo:.2f} and ln 100 = {hi:.2f}: "
      f"{at(lo):.3f} and {at(hi):.3f}; at 10 (the released code's start for heads): {at(10.0):.6f}")
samples = {}
with torch.no_grad():
    for a in (-2.0, 0.0, 2.0):  # 20,000 gates with the same log_alpha (plus the init noise of std 0.01)
        samples[a] = hardconcrete.HardConcrete(20_000, init_log_alpha=a).sample()

# %%
fig_hc, axes = plotting.subplots(1, 2, width=4.6, height=3.3)
ax1, ax2 = axes[0]
for a, zs in samples.items():
    ax1.hist(zs.numpy(), bins=40, range=(0, 1), histtype="step", lw=1.3,
             label=f"log_alpha = {a:g}: {float((zs == 0).float().mean()):.0%} exactly 0, "
                   f"{float((zs == 1).float().mean()):.0%} exactly 1")
ax1.set(yscale="log", xlabel="z", ylabel="samples (of 20,000)", title="hard-concrete samples")
ax1.legend(fontsize=7, loc="upper center")
ax2.axvspan(lo, hi, color="0.9", label="clamp range [ln 0.01, ln 100]")
ax2.plot(grid, keep, lw=1.5, label="P(z > 0) (prob_nonzero)")
ax2.scatter(grid[::6], kept_share[::6], s=14, color="tab:orange", zorder=3, label="share of 2,000 samples > 0")
ax2.axhline(0.5, color="black", lw=0.6, ls=":")
ax2.set(xlabel="log_alpha", ylabel="keep-probability", title="P(z > 0) against log_alpha")
ax2.legend(fontsize=7, loc="lower right")
plotting.plt.show()

# %% [markdown]
# **The deterministic mask** (from CoFi's code; the paper does not describe it). After training, and
# for the *deterministic* curve of the trace below, a mask must be fixed. In each group of units (the
# heads of one layer, the FFN units of one layer, as the released NASH and CoFi code decide it per
# layer) the expected number of zeros, `round(group − Σ P(z > 0))`, is set to 0 at the units with the
# smallest `log_alpha`; every other unit keeps the scale `sigmoid(log_alpha / β · 0.8)`, a number in
# (0, 1) that belongs to the model (compaction folds it into the weights, Part 5). Below: two layers of
# four heads; the first loses two heads, the second one.

# %%
det_demo = hardconcrete.HardConcrete(8, group=4, name="two layers of 4 heads")
with torch.no_grad():
    det_demo.log_alpha.copy_(torch.tensor([-3.0, -2.5, 0.5, 3.0, 4.0, 4.0, -4.0, 0.2]))
    p_keep, z_det = det_demo.prob_nonzero(), det_demo.deterministic()
expected_kept = p_keep.view(2, 4).sum(1)
print("expected kept per layer:", expected_kept.numpy().round(3), "-> zeros per layer:",
      torch.round(4 - expected_kept).numpy())
assert (z_det == 0).view(2, 4).sum(1).tolist() == [2, 1]
pd.DataFrame(dict(layer=[0] * 4 + [1] * 4, log_alpha=det_demo.log_alpha.detach(), p_nonzero=p_keep,
                  deterministic=z_det)).round(3)

# %% [markdown]
# **The Lagrangian relaxation.** *"Wang et al. (2020c) observes that optimizing with those relaxed
# regularizations makes models converge to different-size subnetworks depending on a learning rate and
# pruning schedule. To mitigate this problem, they suggest using a Lagrangian relaxation instead of the
# L0 regularizer λ‖θ̃‖_0 as follows:* `R = λ_1 (ŝ − t) + λ_2 (ŝ − t)²` *where λ_1 and λ_2 are learnable
# Lagrange multipliers. ŝ represents the current sparsity calculated by the masks z, while t represents
# the target sparsity."*
#
# A penalty λ‖θ̃‖_0 with a fixed λ gives a model whose size depends on λ and on the schedule; a
# constraint `ŝ = t` gives the size one asks for. The multipliers are trained by gradient *ascent*
# (`constraints.Lagrangian` flips their gradients with a hook, since torch optimisers refuse a negative
# learning rate) while the masks descend. On numbers: ŝ = 0.2 below t = 0.3. The ascent moves λ_1 by
# `lr · (ŝ − t) < 0`; then `∂R/∂ŝ = λ_1 + 2 λ_2 (ŝ − t) < 0`, so descending R *raises* ŝ. Above the
# target every sign flips. The pressure grows for as long as the gap lasts: that is what makes the
# constraint bind, whatever the distillation loss prefers.

# %%
lag = constraints.Lagrangian()
opt = torch.optim.SGD(lag.parameters(), lr=1.0)  # lr 1 for readable numbers (the runs use REG_LR with AdamW)
s_hat, t = torch.tensor(0.2, requires_grad=True), 0.3
rows = []
for step in range(4):
    opt.zero_grad()
    s_hat.grad = None
    R = lag(s_hat, t)
    R.backward()
    rows.append(dict(step=step, lambda_1=lag.lambda_1.item(), lambda_2=lag.lambda_2.item(), R=R.item(),
                     dR_dlambda_1=-lag.lambda_1.grad.item(), dR_ds_hat=s_hat.grad.item()))
    opt.step()  # descends -dR/dλ: ascends R
pd.DataFrame(rows).round(4)

# %% [markdown]
# NASH does not ask for the target at once: *"we further train the sub-network model with the pruning
# objective, utilizing a scheduler to gradually increase the sparsity until reaching the desired target
# value"* (Section 5.1). `constraints.target_schedule` raises t linearly from 0 over the warm-up (the
# paper: 16 of 20 epochs; here `WARMUP_STEPS` of `STEPS`), then keeps it there.

# %%
checkpoints = [0, WARMUP_STEPS // 4, WARMUP_STEPS // 2, WARMUP_STEPS, STEPS]
pd.DataFrame([dict(step=s, target=constraints.target_schedule(s, target=TARGET, warmup_steps=WARMUP_STEPS))
              for s in checkpoints]).round(4)

# %% [markdown]
# ## 3. Section 4: narrow encoder, shallow decoder
#
# *"We propose a structured pruning framework called NASH (Narrow encoder and Shallow decoder) [...] Our
# approach focuses on enhancing inference speed by utilizing uniform layer selection in the decoder
# network, deviating from the gradual pruning technique commonly employed in encoder-only models.
# Additionally, we improve generation performance by applying gradual L0 regularization pruning
# specifically to the encoder network, inducing low sparsity."* The two halves follow from Section 3:
# decoding runs the decoder once per output token, so decoder *depth* sets generation time (Finding
# 3.1), while a lightly pruned encoder keeps, or improves, quality (Finding 3.2).
#
# In `nashlib.pruning.prune` the two methods differ only in their masks and the scope of their
# constraint (`prune.METHODS`); NASH adds the layer selection on top.

# %%
pd.DataFrame(prune.METHODS).T

# %% [markdown]
# ### 3.1 Section 4.1: the shallow decoder, uniform layer selection
#
# *"For a given number of selected layers d_s, we can generate a sub-network of the decoder network with
# a set of selected layers as follows:* `L_s = { ⌊(L − 1) / (d_s − 1)⌋ · ℓ + 1 | ℓ ∈ {0, …, d_s − 1} }`*"*
# (1-based). The released code computes something else, `⌊(L − 1) · ℓ / (d_s − 1)⌋` (0-based): it
# multiplies before rounding down, so the last selected layer is always the teacher's last layer. The
# printed formula rounds the step down first and can stop short of the top: for d_s = 5 of 12 it keeps
# layers 0, 2, 4, 6, 8 and never reaches 9 to 11. `layers.select_layers` has both (`uniform`, the
# released one, which the published numbers came from and every notebook uses, and `uniform-paper`),
# and the two manual baselines of Table 3 (`low`, `high`). Below for T5-base's 12 decoder layers,
# 0-based, with each uniform rule also recomputed from its formula.

# %%
rows = []
for d_s in range(1, 7):
    picks = {s: layers.select_layers(12, d_s, s) for s in layers.STRATEGIES}
    step_first = 0 if d_s == 1 else (12 - 1) // (d_s - 1)  # the paper's rule: round the step down first
    assert picks["uniform"] == ([0] if d_s == 1 else [(12 - 1) * i // (d_s - 1) for i in range(d_s)])
    assert picks["uniform-paper"] == [step_first * i for i in range(d_s)]
    rows.append(dict(d_s=d_s, **{s.replace("-", "_"): v for s, v in picks.items()},
                     rules_differ=picks["uniform"] != picks["uniform-paper"]))
selection = pd.DataFrame(rows)
print("the two uniform rules differ for d_s =", selection[selection.rules_differ].d_s.tolist())
selection

# %% [markdown]
# **What a selection does to T5's positions** (not in the paper; it matters for Table 3's *high*
# baseline). T5 has no absolute position embeddings: the self-attention of each stack's *first* layer
# owns a table of relative position biases, computes the bias once, and hands it to every later layer.
# A selection that keeps layer 0 (every uniform rule, and `low`) keeps the table where it was. A
# selection that drops it (`high`) must decide: `keep_decoder_layers(..., position_bias="move")`, the
# library's default, moves layer 0's table into the new first layer, so the kept layers still see
# positions; `"zero"` gives them a zero bias, frozen, which is what the released code's rebuilt blocks
# compute (`PruneConfig(high_bias=...)` switches between them). The cell keeps the top two of the tiny
# teacher's 4 decoder layers both ways, and a uniform selection of `DECODER_LAYERS`.

# %%
def bias_owners(model) -> list[bool]:
    """Which decoder layers compute the relative position bias (own a table)."""
    return [blk.layer[0].SelfAttention.has_relative_attention_bias for blk in model.decoder.block]


L_dec = arch.depth("decoder")
DECODER_MAP = layers.select_layers(L_dec, DECODER_LAYERS, "uniform")
high = layers.select_layers(L_dec, 2, "high")
variants = {"teacher": TEACHER, f"uniform {DECODER_MAP}": layers.keep_decoder_layers(TEACHER, DECODER_MAP),
            f"high {high}, move": layers.keep_decoder_layers(TEACHER, high, position_bias="move"),
            f"high {high}, zero": layers.keep_decoder_layers(TEACHER, high, position_bias="zero")}
table = arch.position_bias("decoder").weight  # (32 buckets, H)
with torch.no_grad():
    out = {name: m(**BATCH(0)).logits for name, m in variants.items()}
rows = []
for name, m in variants.items():
    own = arch_of(m).position_bias("decoder")
    rows.append(dict(model=name, selected=getattr(m.config, "nash_selected_layers", list(range(L_dec))),
                     bias_owners=bias_owners(m), table_is_teachers=torch.equal(own.weight, table),
                     table_all_zero=not own.weight.any(), table_trainable=own.weight.requires_grad,
                     max_logit_change=float((out[name] - out["teacher"]).abs().max())))
pd.DataFrame(rows).round(3)

# %% [markdown]
# Both `high` students have the same weights; only their position bias differs, and with it their
# logits. Which one a reader compares with the paper's Table 3 matters: the released code, which
# produced the paper's numbers, builds the high selection with the zero bias.

# %%
moved, zero_bias = out[f"high {high}, move"], out[f"high {high}, zero"]
print(f"max |logits(move) - logits(zero)| = {(moved - zero_bias).abs().max():.3f}")
assert not torch.allclose(moved, zero_bias)

# %% [markdown]
# The paper also matches the hidden states of the shallow decoder with those of the teacher layers it
# came from: `L_h^dec = Σ_ℓ MSE(H_dec,s^ℓ, H_dec,t^(L_s[ℓ]))`, with `L_s` the selection above. That term
# is part of the training loss (Section 4.3, Part 4 below).
#
# ### 3.2 Section 4.2: the narrow encoder, gradual L0 regularisation with low sparsity
#
# *"We utilize the L0 regularization-based pruning method [...] enforcing an equality constraint between
# the target sparsity and the current sparsity:* `R = λ_1 (ŝ − t) + λ_2 (ŝ − t)²` *[...] The current
# sparsity, ŝ, is calculated as follows:*
# `ŝ = (4 / M) · d_h · Σ_i^L Σ_j^(N_h) z_head^(i,j) + (2 / M) · Σ_i^L Σ_j^(d_f) z_int^(i,j)`*, where M, L,
# N_h, and d_f indicate the number of model parameters, encoder layers, attention heads, and feed-forward
# layer dimensions."* With footnote 2: *"The sparsity is computed as the number of pruned parameters
# divided by the full model size (embeddings and classifier excluded)."*
#
# Read literally, the printed ŝ is the share of weights *kept* and has lost a factor d (a head is
# `4 · d · d_h` weights, a unit `2 · d`, Part 1). What is meant, and what the library computes, is `ŝ = 1 − (Σ_heads 4 · d · d_h · z_head + Σ_units 2 · d · z_int) / M`, with M the
# prunable weights of the encoder (NASH constrains the encoder only) and z replaced by its expectation
# `P(z > 0)` while training, which makes ŝ differentiable. First the counts, by hand, for t5-base.

# %%
D, DH, NH, DF, LAYERS = 768, 64, 12, 3072, 12  # t5-base's config.json
head, unit = 4 * D * DH, 2 * D
enc_layer = NH * head + DF * unit  # self-attention heads + FFN units
dec_layer = 2 * NH * head + DF * unit  # self- and cross-attention heads + FFN units
by_hand = {"encoder": LAYERS * enc_layer, "decoder": LAYERS * dec_layer}
embeddings = 32128 * D  # shared token embedding (the LM head is tied to it in T5 v1.0)
norms_and_bias = (LAYERS * 2 + 1 + LAYERS * 3 + 1) * D + 2 * 32 * NH  # RMSNorm weights + 2 bias tables
print(f"one head {head:,}, one FFN unit {unit:,}; an encoder layer {enc_layer:,} "
      f"({NH * head / enc_layer:.0%} heads), a decoder layer {dec_layer:,}")
print(f"M_encoder = {by_hand['encoder']:,}, M_decoder = {by_hand['decoder']:,}, "
      f"prunable total {sum(by_hand.values()):,}; not counted: embeddings {embeddings:,}, "
      f"layer norms and position-bias tables {norms_and_bias:,}")

# %% [markdown]
# The library counts the same numbers from a model's real shapes (`PruningMasks.full_sizes`, through
# `arch`), so T5 v1.1's gated FFNs and shapes with `d_kv · heads ≠ d_model` are counted right too. A
# t5-base built on the meta device costs no memory and no time; `shapes.count_parameters` (all weights,
# embeddings excluded) adds the layer norms and the two bias tables.

# %%
with torch.device("meta"):  # shapes only: no weights are allocated or initialised
    t5_base = T5ForConditionalGeneration(shapes.t5_config("t5-base"))
base_masks = PruningMasks(t5_base, types=("heads", "ffn_units"), parts=("encoder",))
full = base_masks.full_sizes()
assert full == by_hand, (full, by_hand)
everything = sum(p.numel() for p in t5_base.parameters())
assert shapes.count_parameters(t5_base) == sum(by_hand.values()) + norms_and_bias == everything - embeddings
print(f"full_sizes: {full}; count_parameters (no embeddings): {shapes.count_parameters(t5_base):,}; "
      f"all weights: {everything:,}")
print(f"initial expected encoder sparsity (released init: heads open, FFN units at log_alpha 0): "
      f"{base_masks.expected_sparsity('encoder').item():.4f} "
      f"= FFN share {DF * unit / enc_layer:.3f} x P(z = 0) {1 - at(0.0):.3f}")

# %% [markdown]
# Now a hand-made NASH-3 of t5-base at about t = 0.3: in every encoder layer 4 of 12 heads and 870 of
# 3,072 FFN units shut; the decoder keeps 3 of its 12 layers, unpruned. ŝ counted by hand, and by the
# library on the 3-layer student's masks (`sparsity_report`, with the *teacher's* full sizes, so that
# the dropped decoder layers count as pruned in the whole-model sparsity). The encoder's sparsity is
# what NASH constrains; the whole model's is what a parameter budget (and CoFi-T5's constraint) sees.

# %%
shut_heads, shut_units, kept_dec = 4, 870, 3
s_enc = LAYERS * (shut_heads * head + shut_units * unit) / by_hand["encoder"]
s_model = 1 - ((1 - s_enc) * by_hand["encoder"] + kept_dec * dec_layer) / sum(by_hand.values())
with torch.device("meta"):
    nash3 = T5ForConditionalGeneration(shapes.t5_config("t5-base", num_decoder_layers=kept_dec))
nash3_masks = PruningMasks(nash3, types=("heads", "ffn_units"), parts=("encoder",))
with torch.no_grad():
    nash3_masks.masks["encoder_self_heads"].log_alpha.view(LAYERS, NH).copy_(
        torch.tensor([-30.0] * shut_heads + [30.0] * (NH - shut_heads)))
    nash3_masks.masks["encoder_ffn_ffn_units"].log_alpha.view(LAYERS, DF).copy_(
        torch.tensor([-30.0] * shut_units + [30.0] * (DF - shut_units)))
report = nash3_masks.sparsity_report(full_sizes=full)
print(f"by hand: encoder ŝ = {s_enc:.6f}, whole model {s_model:.6f}")
print({k: round(v, 6) for k, v in report.items()})
assert abs(report["encoder_actual"] - s_enc) < 1e-6 and abs(report["model_actual"] - s_model) < 1e-6
assert abs(report["encoder_expected"] - s_enc) < 1e-4  # P(z > 0) of a shut gate is 1e-6, not 0

# %% [markdown]
# A NASH-3 of t5-base at 30 % encoder sparsity has removed more than half of its prunable weights (the
# whole-model number above), most of them in the decoder, the part that sets generation time.
#
# *"We only conduct the pruning of individual attention heads and intermediate layer dimensions [...]
# We further use hidden states distillation by matching the hidden states of pruned and unpruned
# networks at the same layers:* `L_h^enc = Σ_ℓ MSE(H_enc,s^ℓ, H_enc,t^ℓ)`*. [...] unlike previous
# methods that mainly use L0 regularization to achieve high inference speedup, we use such L0
# regularization to accomplish improvement of output quality."*
#
# **The controller, live.** `prune.prune` runs all of it: it copies the teacher, keeps the selected
# decoder layers, puts `z_head` and `z_int` masks on the student's encoder (started as the released code
# starts them: heads at `log_alpha` 10, FFN units at 0), and trains weights (AdamW at `LR`), masks
# (`MASK_LR`) and multipliers (`REG_LR`, ascent) together on the distillation loss plus R. Every step it
# records the target, the expected ŝ the Lagrangian steers, the deterministic ŝ of the evaluation masks
# (what compaction keeps), λ_1, λ_2 and the loss terms. The run below uses the cpu profile's pruning
# recipe (500 steps, warm-up over 400, `MASK_LR` 0.05, `REG_LR` 0.01; `tests/test_controller.py` shows it
# reaching 0.3 ± 0.01 for 10 of 10 seeds on this tiny shape) in every profile: the smoke profile's 6
# steps would show no controller at work. It takes some seconds to a minute on two CPU threads.

# %%
cfg = prune.PruneConfig(method="nash", target_sparsity=TARGET, decoder_layers=DECODER_LAYERS,
                        selection="uniform", steps=STEPS, warmup_steps=WARMUP_STEPS, lr=LR, mask_lr=MASK_LR,
                        reg_lr=REG_LR, seed=SEED, checkpoint_every=0)
t_run = time.perf_counter()
result = prune.prune(TEACHER, BATCH, cfg, WORK.name, progress=False)
for module in (TEACHER, result.student, result.model, result.masks):
    module.cpu()  # prune trains on its loop's device (a GPU where there is one); the demos run on the CPU
history = pd.DataFrame(result.history)
rep = result.report
print(f"{STEPS} pruning steps in {time.perf_counter() - t_run:.1f} s; decoder layers {rep.decoder_map}")
print(f"encoder sparsity: target {rep.target_sparsity}, reached {rep.reached:.4f} (deterministic masks), "
      f"expected {rep.encoder_expected:.4f}; missed (off by more than {rep.tolerance}): {rep.missed}")
print(f"whole model: {rep.model_actual:.4f} of the teacher's prunable weights removed")
history.iloc[[0, WARMUP_STEPS // 4, WARMUP_STEPS // 2, WARMUP_STEPS - 1, STEPS - 1]].round(4)

# %% [markdown]
# How to read the trace (left panel below; `traces.trace_panel`, the same panel the other notebooks draw
# for every student): the target (dashed) rises over the warm-up and then stays. With the released
# initialisation the expected ŝ starts *above* it (0.11 on this shape: the FFN units' `P(z = 0)` of
# 0.17 times their share of the weights), so λ_1 first grows positive and pushes the masks open. The
# rising target soon overtakes ŝ, but λ_1, grown while ŝ was above, stays positive for a while (the
# multiplier's windup), so ŝ keeps falling. Once λ_1 has turned round, ŝ rises, overshoots once, and
# from there the multipliers hold it on the target (λ_2 grows while any gap remains, so the pull
# stiffens). The deterministic curve follows the expected one in steps (a whole head, or a rounded
# number of units, at a time); the grey band is the run's tolerance. On the right, the loss terms that
# masks and weights descend: the KL to the teacher's outputs and the weighted hidden-state MSEs
# (Section 4.3).

# %%
TRACE = records.prune_trace(result.history)  # PrunePoints, as students save them
fig, axes = plotting.subplots(1, 2, width=5.0, height=3.4)
left, right = axes[0]
ax_s, ax_l = traces.trace_panel(left, TRACE, title=f"NASH-{DECODER_LAYERS}: encoder sparsity", tolerance=cfg.tolerance)
handles = [h for a in (ax_s, ax_l) for h in a.get_legend_handles_labels()[0]]
labels = [lb for a in (ax_s, ax_l) for lb in a.get_legend_handles_labels()[1]]
fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
ax_l.grid(False)  # one grid: the sparsity axis's
right.plot(history.step, history.kl, lw=1, label="KL(student ‖ teacher)")
right.plot(history.step, cfg.lambda_enc * history.hidden_enc, lw=1, label="λ_enc · L_h^enc")
right.plot(history.step, cfg.lambda_dec * history.hidden_dec, lw=1, label="λ_dec · L_h^dec")
right.set(yscale="log", xlabel="pruning step", ylabel="loss term", title="distillation terms")
right.legend(fontsize=7)
fig.suptitle(f"The Lagrangian pulling ŝ to its warmed-up target (tiny random T5, seed {SEED}, {P.name} profile)")
plotting.plt.show()

# %% [markdown]
# ## 4. Section 4.3: the training loss
#
# *"We combine hidden states distillation with prediction-layer distillation by using Kullback–Leibler
# divergence (KLD) function:* `L_pred = KLD(f(·) ‖ g(·))`*, where the f(·) and g(·) are softmax outputs
# for the sub-network of pruned model and unpruned model, respectively. Then, the total training
# objective for a pruned model is* `L = L_pred + λ^enc L_h^enc + λ^dec L_h^dec + R`*."*
#
# Three choices hide in that sentence, and the library names each (`distill.DISTILL`):
# `"paper"` is KL(student ‖ teacher) at temperature 1, weight 1, as printed (f is the student); the
# released code's `calculate_distillation_loss` computes `0.5 · T² · KL(teacher ‖ student)` at T = 2
# (`"released"`); and its training step leaves even that in a comment and trains on cross-entropy with the
# labels plus R (`"none"`), with the hidden-state terms forced to 0. Every notebook uses `"paper"`, with
# `λ^enc = λ^dec = 0.001`.
#
# The hidden states are the raw outputs of every block, caught by forward hooks (`BlockOutputs`;
# transformers' `output_hidden_states` would give the final layer norm's output in place of the last
# block's). The student below is the NASH copy *before* pruning: the teacher with the decoder layers
# `DECODER_MAP`, no masks yet.

# %%
student = layers.keep_decoder_layers(TEACHER, DECODER_MAP)  # eval mode, as the teacher
b = BATCH(0)
with torch.no_grad(), distill.BlockOutputs(TEACHER) as t_blocks:
    t_logits = TEACHER(**b).logits  # (B, T_tgt, V)
with torch.no_grad(), distill.BlockOutputs(student) as s_blocks:
    s_logits = student(**b).logits
print({f"{who} {part}": [tuple(h.shape) for h in blocks.outputs[part]]
       for who, blocks in (("teacher", t_blocks), ("student", s_blocks)) for part in ("encoder", "decoder")})
terms = distill.distillation_loss(s_logits, t_logits, s_blocks, t_blocks, decoder_map=DECODER_MAP,
                                  labels=b["labels"], attention_mask=b["attention_mask"],
                                  lambda_enc=cfg.lambda_enc, lambda_dec=cfg.lambda_dec)
per_layer = [float(torch.mean((s - t_blocks.outputs["decoder"][i]) ** 2))
             for s, i in zip(s_blocks.outputs["decoder"], DECODER_MAP)]
print({k: round(float(v), 5) for k, v in terms.items()})
print(f"decoder MSE per kept layer (student layer ← teacher layer): "
      f"{dict(zip([f'{k} ← {i}' for k, i in enumerate(DECODER_MAP)], [round(x, 4) for x in per_layer]))}")
assert float(terms["hidden_enc"]) == 0.0 and abs(sum(per_layer) - float(terms["hidden_dec"])) < 1e-4

# %% [markdown]
# Before any mask is learned the student's encoder *is* the teacher's, so `L_h^enc` is exactly 0; the
# decoder's kept layers agree with their teacher layers as long as every layer below them was kept, and
# differ from the first gap on. The KL measures how far the shallow decoder's next-token distributions
# are from the teacher's. Below, the KL by hand (mean over the target tokens that count), and the logit
# term of each named variant on the same logits.

# %%
log_f, log_g = s_logits.log_softmax(-1), t_logits.log_softmax(-1)  # f: the student, g: the teacher
kl_by_hand = (log_f.exp() * (log_f - log_g)).sum(-1).mean()  # every label counts here (no -100)
assert torch.allclose(kl_by_hand, terms["kl"], atol=1e-6)
assert torch.allclose(distill.kl_logits(s_logits, t_logits), kl_by_hand, atol=1e-6)
mask = b["labels"] != -100
pd.DataFrame([dict(variant=name, direction=kd.direction if kd else "-", temperature=kd.temperature if kd else None,
                   weight=kd.weight if kd else None,
                   logit_term=float(distill.logit_distillation(s_logits, t_logits, mask, name)))
              for name, kd in distill.DISTILL.items()]).round(5)

# %% [markdown]
# The same terms in the live run of Part 3.2, at its first and its last step. They are larger than
# above from the first step on, `L_h^enc` included: while pruning, the student runs in training mode
# (dropout, 0.1 in T5's config) and with *sampled* masks (at the start each FFN unit is shut with
# probability 0.17). Over the run the KL falls as the student learns to imitate the teacher, and R ends
# near 0 because ŝ sits on its target.

# %%
history[["step", "loss", "kl", "hidden_enc", "hidden_dec", "reg"]].iloc[[0, -1]].round(5)

# %% [markdown]
# ## 5. After pruning: compaction and deployment
#
# *"Following the approach of Xia et al. (2022), we continue fine-tuning the pruned model until
# convergence"* (Section 5.1). A masked model is still the teacher's size: to be faster it must become
# a smaller dense model. `compact.compact(student, masks)` builds a `NashT5ForConditionalGeneration`
# whose layers each keep only their open heads and FFN units (the per-layer layout is in its config),
# folds the deterministic masks' scales into the output projections, and gives the same logits as the
# masked model. `prune` has already done it (`result.model`); the fine-tuning step of the other
# notebooks (`training.finetune`) is left out here. What each layer kept is below. Which units a run
# shuts depends on where their masks start as much as on what they compute: the released initialisation
# starts heads at `log_alpha` 10 (clamped to ln 100 after the first step), where the keep-probability is
# flat (its slope `P(1 − P)` is 0.002), and FFN units at 0, where the slope is 0.14; so in a short run
# the sparsity comes mostly, or only, from FFN units.

# %%
small = result.model
layout = small.config.nash_layout
full_heads = {"encoder": layout["full_num_heads"], "decoder": layout["decoder_full_num_heads"]}
kept = pd.DataFrame([dict(part=part, layer=i, heads=f"{len(row['self'])}/{full_heads[part]}",
                          cross_heads=f"{len(row['cross'])}/{full_heads[part]}" if "cross" in row else "",
                          d_ff=f"{row['d_ff']}/{d_f}") for part in ("encoder", "decoder")
                     for i, row in enumerate(layout[part])])
sizes = {"teacher": TEACHER, "masked student (dense)": result.student, "compacted": small}
print({k: f"{shapes.count_parameters(m):,}" for k, m in sizes.items()}, "weights without embeddings")
print(f"compacted: {1 - shapes.count_parameters(small) / shapes.count_parameters(TEACHER):.3f} of the teacher's "
      f"weights gone (layer norms and bias tables included); sparsity report: {rep.model_actual:.3f}")
kept

# %% [markdown]
# The compacted model computes what the masked one did, up to float rounding (the masks' scales are
# multiplied into the weights instead of into the activations):

# %%
b = BATCH(1)
with torch.no_grad():
    with result.masks:  # the deterministic masks on the dense student (eval mode)
        masked = result.student(**b).logits
    compacted = small(**b).logits
diff = float((masked - compacted).abs().max())
print(f"max |masked - compacted| = {diff:.2e} (logits up to {float(masked.abs().max()):.2f})")
assert diff <= 1e-5 * max(1.0, float(masked.abs().max()))

# %% [markdown]
# **Deployment.** The compacted model saves with `save_pretrained` (safetensors, its layout in
# `config.json`, a two-line `modeling_nash.py` that points at `nashlib`) and loads with transformers'
# own `AutoModelForSeq2SeqLM.from_pretrained` once `nashlib` is imported (the import registers the
# `nash_t5` model type). Reloaded, it gives identical logits and generates the same tokens, with the KV
# cache, greedy and with beam search. (The tokens mean nothing: random teacher, random data.)

# %%
folder = Path(WORK.name) / f"nash-{DECODER_LAYERS}"
small.save_pretrained(folder)
print(sorted(p.name for p in folder.iterdir()))
loaded = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
print(type(loaded).__name__, loaded.config.model_type)
with torch.no_grad():
    assert torch.equal(loaded(**b).logits, compacted)
ids = BATCH(2)["input_ids"][:2]
for beams in (1, 4):
    kw = dict(input_ids=ids, num_beams=beams, max_new_tokens=6, min_new_tokens=6)
    tokens = loaded.generate(**kw)
    assert torch.equal(tokens, small.generate(**kw))
    print(f"num_beams={beams}:", tokens.tolist())

# %% [markdown]
# ## The figure
#
# The controller trace of Part 3.2 is saved with the per-step numbers (`nash_annotated.csv`: one row
# per pruning step, every column of the history) and the run's parameters.

# %%
paths = plotting.save_figure(
    fig, "nash_annotated", history, out_dir=OUT_DIR, profile=P,
    parameters=dict(profile=P.asdict(), shape=SHAPE, decoder_layers=DECODER_LAYERS, target=TARGET, steps=STEPS,
                    warmup_steps=WARMUP_STEPS, lr=LR, mask_lr=MASK_LR, reg_lr=REG_LR),
    seed=SEED, wall_time_s=round(time.perf_counter() - T0, 1), prune_report=rep.to_json(), findings=[])
WORK.cleanup()
paths
