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
# # Figure 2, the quality half: pruning the encoder alone or the decoder alone, with or without depth
#
# **The paper's claim** (Ko et al. 2023, Section 3, Figure 2): before proposing NASH, the paper prunes T5-base
# with CoFi-T5 (L0 masks on heads and FFN units, and on whole attention and FFN sub-layers) applied to the
# *encoder alone* or to the *decoder alone*, with depth pruning (the sub-layer masks) or without it (width only),
# at target sparsities of the pruned part from 20 to 95 % (encoder) and 60 to 95 % (decoder), and plots model
# size and speedup against quality, four curves. It reads two findings off the figure: *"depth pruning exhibits a
# significant influence on the decoder, while the encoder shows negligible effects"*; **Finding 3.1**, *the number
# of layers in the decoder is the dominant factor of inference speed, while the decoder width does not have a
# significant impact* (width pruning of the decoder *"reduces the model size but leads to both performance
# degradation and negligible speedup"*); and **Finding 3.2**, *light encoder pruning slightly speeds up inference
# and improves quality, while heavy encoder pruning degrades it*. The speed half of Finding 3.1 at the real
# T5-base shape is the notebook `fig2_decoder_depth_speed`; this one trains the four curves.
#
# **What we do.** One student per curve, target and seed (`nashlib.experiments.partwise`: the prune methods
# `cofi-encoder`, `cofi-encoder-width`, `cofi-decoder`, `cofi-decoder-width`, each constraining the sparsity of its
# own part), trained, compacted, fine-tuned, reloaded and scored like every student here
# (`ablations.train_seeds`), at the paired seeds of the profile; quality with a 95 % interval over seeds and
# validation rows; speed of the first seed's students against the teacher, beam search until every sequence ends
# (`ablations.time_arms`, interleaved rounds). Each point is placed at the sparsity it *reached*.
#
# **How it differs from the paper.** The paper prunes pretrained T5-base on SAMSum; in the `cpu` profile the
# teacher is a small T5 trained from scratch here on the profile's pruning task (SST-2 frequent words, a short
# generation task derived from SST-2, not the paper's), so the speedups are those of a small model whose decoding
# calls are short; the paper-scale path (`laptop`, `paper`) runs the paper's task. The smoke and rehearsal
# profiles run two targets per curve (`Profile.sweep_points`). The sub-layer masks of the tiny models close a
# large share of a part at once, so a run can land away from its target; each row says what it reached.

# %% tags=["parameters"]
PROFILE: str = "cpu"  # smoke | cpu | laptop | paper (nashlib.settings)
OUT_DIR: str = "../figures"  # where the PNG, CSV and run-info JSON go
SEED: int = 0  # seeds python, numpy and torch (each student is trained once per seed of P.student.paired_seeds)
OVERRIDES: dict = {}  # profile fields to replace, e.g. {"student.steps": 100} (see nashlib.settings)
TIE: float = 1.0  # quality points (x100): a difference counts when its 95 % interval clears this
SPEED_TIE: float = 0.1  # speedup (x): two curves' speedups are "the same" within this, "different" beyond it

# %%
import time

import numpy as np
import pandas as pd
import seaborn as sns

from nashlib import settings
from nashlib.data import tasks
from nashlib.experiments import ablations, baselines, paired, partwise
from nashlib.results import paper, plotting
from nashlib.results import verdicts as V

P, RUN = settings.start(PROFILE, seed=SEED, out_dir=OUT_DIR, overrides=OVERRIDES, notebook="fig2_quality_sweeps")
TEACHERS, TEACHER_TABLE = baselines.pruning_teachers(P)
T0 = time.perf_counter()
for name, value, ok in (("TIE", TIE, 0 <= TIE < 100), ("SPEED_TIE", SPEED_TIE, 0 < SPEED_TIE < 10)):
    if not ok:
        raise ValueError(f"{name}={value!r}; allowed: {'0 <= tie < 100' if name == 'TIE' else '0 < tie < 10'}")
TASK = next(iter(TEACHERS))  # the first task the profile prunes (cpu: SST-2 frequent words; paper: SAMSum)
T, R = TEACHERS[TASK], P.recipe(TASK)
SEEDS = list(R.paired_seeds)
CONFIGS = partwise.configs(R, SEEDS[0], P.sweep_points)
print(f"profile {P.name}: {tasks.get(TASK).title}; {len(CONFIGS)} arms x {len(SEEDS)} seeds; {R.describe()}")
pd.DataFrame([dict(arm=a, method=c.method, target=c.target_sparsity) for a, c in CONFIGS.items()])

# %% [markdown]
# ## The students
#
# `ablations.train_seeds` trains (or loads from the on-disk cache) every arm at every seed, two workers at a time
# in `cpu`, and checks each student (`summary.check_student`: the compacted model as reloaded, scored on the
# teacher's validation rows). Each row carries what the student *reached*: the sparsity of the pruned part, of the
# whole model, the decoder layers in which anything is left, and whether it missed its target.

# %%
ABL = ablations.train_seeds(T, lambda seed: partwise.configs(R, seed, P.sweep_points), R, SEEDS, workers=P.workers)
per_seed = ablations.frame(ABL)
per_seed[["curve", "target"]] = pd.DataFrame([partwise.curve_of(a) for a in per_seed.strategy], index=per_seed.index)
per_seed["part"] = per_seed.curve.str.split(",").str[0]
per_seed["reached"] = np.where(per_seed.part == "encoder", per_seed.encoder_sparsity, per_seed.decoder_sparsity)
assert len(per_seed) == len(CONFIGS) * len(SEEDS)
assert (per_seed[per_seed.part == "encoder"].decoder_sparsity == 0).all(), "an encoder curve pruned the decoder"
assert (per_seed[per_seed.part == "decoder"].encoder_sparsity == 0).all(), "a decoder curve pruned the encoder"
SCORES = {tasks.get(TASK).title: ablations.score_matrices(ABL)}
data = ablations.seed_means(per_seed.assign(missed_share=per_seed.missed.astype(float)), SCORES)
data[["strategy", "reached", "model_sparsity", "params_M", "decoder_layers_nonempty", "missed_share", "quality",
      "quality_lo", "quality_hi"]].round(3)

# %% [markdown]
# ## Speed
#
# The first seed's students and the teacher, timed together under the paper's protocol at this profile's scale
# (`ablations.time_arms`: real validation sources, beam search until every sequence has ended, interleaved rounds;
# each speedup is the median of the per-round ratios, and `speedup_rounds` keeps every round, so two curves
# compare round by round with an interval). Encoder and decoder time are kept apart.

# %%
speed = ablations.time_arms(ABL[0], sources=R.timing_batch, beams=P.beams, warmup=P.warmup, repeats=P.repeats)
ROUNDS = {r.strategy: np.asarray(r.speedup_rounds) for r in speed.itertuples()}  # (repeats,): paired by round
data = data.merge(speed[["strategy", "speedup", "speedup_q25", "speedup_q75", "encoder_median_s",
                         "decoder_median_s"]], on="strategy")
speed[["strategy", "speedup", "speedup_q25", "speedup_q75", "encoder_median_s", "decoder_median_s",
       "new_tokens_mean"]].round(3)

# %% [markdown]
# ## The figure
#
# As the paper's: for each part, quality against model size (millions of prunable weights, as the paper counts
# them) and against speedup, one curve per pruning option; the dotted line is the teacher. Bars: the 95 % interval of the
# quality over seeds and rows, and the quartiles of the speedup over rounds.

# %%
MARKERS = {"encoder, with depth": "^", "encoder, width only": "o", "decoder, with depth": "v",
           "decoder, width only": "s"}
COLORS = dict(zip(partwise.CURVES, sns.color_palette(plotting.PALETTE, 4)))
fig, axes = plotting.subplots(1, 4, width=3.3, height=3.2)
for k, part in enumerate(("encoder", "decoder")):
    for curve in (c for c in partwise.CURVES if c.startswith(part)):
        d = data[data.curve == curve].sort_values("target")
        yerr = [d.quality - d.quality_lo, d.quality_hi - d.quality]
        for ax, x, xerr in ((axes[0][2 * k], d.params_M, None),
                            (axes[0][2 * k + 1], d.speedup, [d.speedup - d.speedup_q25, d.speedup_q75 - d.speedup])):
            ax.errorbar(x, d.quality, yerr=yerr, xerr=xerr, marker=MARKERS[curve], color=COLORS[curve], capsize=2,
                        label=curve)
    for ax, xlabel in ((axes[0][2 * k], "model size (M prunable weights)"), (axes[0][2 * k + 1], "speedup (x)")):
        ax.axhline(T.scores.main * 100, color="black", ls=":", lw=1, label="teacher")
        ax.set(xlabel=xlabel, ylabel="quality (metric x 100)", title=f"{part} pruned")
        ax.legend(fontsize=7)
fig.suptitle(f"Figure 2: CoFi-T5 on one part, with or without depth ({tasks.get(TASK).title}, {P.name} profile, "
             f"{len(SEEDS)} seeds)")
plotting.plt.show()

# %% [markdown]
# ## Verdict
#
# Four checks, each through `nashlib.results.verdicts` (`V`), the rules ours (the paper states the findings in
# words):
# 1. *Depth matters on the decoder*: at every decoder target, the decoder curve with depth is faster than the one
#    without by more than `SPEED_TIE` (mean per-round difference of the two speedups, 95 % interval over rounds).
# 2. *Depth does not matter on the encoder*: at every encoder target, the two encoder curves' speedups are within
#    `SPEED_TIE` of each other.
# 3. *Decoder width gives a negligible speedup*: at the highest decoder target, width only, the speedup is below
#    1.2x (the threshold `fig2_decoder_depth_speed` uses for "minor").
# 4. *Finding 3.2*: at the lowest encoder target (width only, CoFi's usual encoder pruning) the student is not worse
#    than the teacher by more than `TIE`, and it beats the highest encoder target by more than `TIE` (paired by seed
#    and row).
# The claim holds when every check holds; partly when some do.

# %%
def pairs_at(part: str) -> list[tuple[float, str, str]]:
    """(target, with-depth arm, width-only arm) at every target of ``part``."""
    return [(s, partwise.arm_name(f"{part}, with depth", s), partwise.arm_name(f"{part}, width only", s))
            for s in partwise.sparsities(part, P.sweep_points)]


dec = [V.beats(ROUNDS[a], ROUNDS[b], margin=SPEED_TIE, names=("with depth", "width only"),
               claim=f"decoder at {s:.2f}: depth pruning faster than width pruning") for s, a, b in pairs_at("decoder")]
enc = [V.within(ROUNDS[a], ROUNDS[b], tolerance=SPEED_TIE, names=("with depth", "width only"),
                claim=f"encoder at {s:.2f}: depth pruning no faster than width pruning") for s, a, b in pairs_at("encoder")]
top = partwise.arm_name("decoder, width only", partwise.sparsities("decoder", P.sweep_points)[-1])
narrow = V.at_most(ROUNDS[top], 1.2, strict=True, name="speedup", claim="decoder width only, highest target: < 1.2x")
matrices, targets = SCORES[tasks.get(TASK).title], partwise.sparsities("encoder", P.sweep_points)
low, high = (partwise.arm_name("encoder, width only", s) for s in (targets[0], targets[-1]))
teacher_rows = np.broadcast_to(paired.row_scores(T.info.predictions, T), matrices[low].shape)  # (seeds, rows)
light = V.combine([
    V.beats(matrices[low], teacher_rows, margin=-TIE, names=("light", "teacher"),
            claim=f"light encoder pruning ({targets[0]:.2f}) within {TIE:g} points of the teacher or better"),
    V.beats(matrices[low], matrices[high], margin=TIE, names=("light", "heavy"),
            claim=f"light encoder pruning ({targets[0]:.2f}) beats heavy ({targets[-1]:.2f})")],
    claim="Finding 3.2: light encoder pruning keeps quality, heavy encoder pruning loses it")
PARTS = [V.combine(dec, claim="depth matters on the decoder"),
         V.combine(enc, claim="depth does not matter on the encoder"), narrow, light]
VERDICT = V.combine(PARTS, claim="Figure 2: decoder depth dominates speed; light encoder pruning keeps quality")
for v in dec + enc + PARTS + [VERDICT]:
    print(" ", v.line())

# %% [markdown]
# **Reading it.** In an autoregressive decoder every new token runs every decoder layer once, on one position:
# each layer costs a fixed number of small matrix products, normalisations and Python calls whatever its width, so
# closing whole sub-layers (depth) removes that fixed cost and narrowing them (width) mostly does not
# (`fig3_layer_time_vs_seqlen`, `fig4_component_profile`). The encoder runs once per input, on every position at
# once: there width and depth remove the same arithmetic, and the encoder is a small share of a generation call.
# Quality moves the other way: the encoder builds the representation every decoding step reads, so pruning it
# lightly can regularise, while pruning it heavily removes what the decoder needs. On the tiny cpu models the
# decoding call is short and its fixed costs dominate, which favours depth even more than at T5-base's size.

# %%
ours = (f"{P.name} profile ({P.scale()}), {tasks.get(TASK).title}, {len(SEEDS)} seeds: " + "; ".join(
    f"{r.strategy}: reached {r.reached:.2f}, quality {r.quality:.1f} [{r.quality_lo:.1f}, {r.quality_hi:.1f}], "
    f"{r.speedup:.2f}x" for r in data.sort_values(["curve", "target"]).itertuples()))
print(ours)
FINDING = V.Finding("Figure 2 (quality sweeps)", "decoder depth, not width, gives the speedup; encoder depth adds no "
                    "speed; light encoder pruning keeps quality and heavy encoder pruning loses it", paper.FIGURE2,
                    ours, VERDICT)
paths = plotting.save_figure(
    fig, "fig2_quality_sweeps", data.drop(columns=["layers_kept"]), out_dir=OUT_DIR, profile=P.name,
    parameters=dict(profile=P.asdict(), tie=TIE, speed_tie=SPEED_TIE), seed=SEED,
    wall_time_s=round(time.perf_counter() - T0, 1), teachers=TEACHER_TABLE.to_dict("records"),
    per_seed=per_seed.drop(columns=["layers_kept"]).to_dict("records"),
    speed_rounds=speed[["strategy", "speedup_rounds"]].to_dict("records"), findings=[FINDING.asdict()])
paths
