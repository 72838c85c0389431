"""BART shapes for speed studies: BART-base with random weights, and its pruned forms built by compaction.

Table 6 of the paper applies NASH to BART-base (6 + 6 layers, d_model 768, 12 heads, 3072 FFN units, a
50,265-token vocabulary, learned absolute positions) and compares it with SIMPLE (Tao et al. 2023), which
prunes widths and keeps every layer. Speed depends on shapes only, so:

- :func:`build_bart` makes BART-base (or a smaller named shape) with random weights;
- :func:`pruned` makes a compacted copy (``nash_bart``, :mod:`nashlib.pruning.compact`) that keeps
  ``decoder_layers`` decoder layers chosen uniformly (NASH-*d*) and, per part, a share of every layer's heads
  and FFN units (the first ones: with random weights any would do). BART is compacted without hidden-dimension
  pruning, so the hidden size stays 768;
- :func:`share_for_params` finds the width share at which a pruned copy has a given number of parameters: every
  layer kept and both parts narrowed (a stand-in for SIMPLE's structure at its printed size), or NASH-*d*'s
  encoder narrowed to the size the paper prints.
"""

from __future__ import annotations

import torch
from transformers import BartConfig, BartForConditionalGeneration

from nashlib.arch import PARTS, arch_of
from nashlib.pruning.compact import compact
from nashlib.pruning.layers import keep_decoder_layers, select_layers

__all__ = ["BART_SHAPES", "bart_config", "build_bart", "pruned", "share_for_params", "total_parameters"]

# name -> (d_model, layers per part, heads, FFN units, vocabulary)
BART_SHAPES = {"bart-base": (768, 6, 12, 3072, 50265), "tiny-bart": (32, 4, 4, 64, 400)}


def bart_config(name: str = "bart-base") -> BartConfig:
    """The config of shape ``name`` (:data:`BART_SHAPES`); positions up to 1024 tokens, as BART-base's."""
    if name not in BART_SHAPES:
        raise ValueError(f"unknown BART shape {name!r}; allowed: {', '.join(BART_SHAPES)}")
    d, layers, heads, ff, vocab = BART_SHAPES[name]
    return BartConfig(vocab_size=vocab, d_model=d, encoder_layers=layers, decoder_layers=layers,
                      encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=ff,
                      decoder_ffn_dim=ff, max_position_embeddings=1024, dropout=0.0, attention_dropout=0.0)


def build_bart(name: str = "bart-base", *, seed: int = 0) -> BartForConditionalGeneration:
    """A randomly initialised BART of shape ``name``, in eval mode (weights from ``seed``)."""
    torch.manual_seed(seed)
    return BartForConditionalGeneration(bart_config(name)).eval()


class _Fixed:
    """Masks already decided: ``compact`` reads only ``deterministic()``."""

    def __init__(self, z: dict[str, torch.Tensor]):
        self.z = z

    def deterministic(self) -> dict[str, torch.Tensor]:
        return self.z


def _first(share: float, n: int) -> torch.Tensor:
    keep = min(n, max(1, round(share * n)))
    return (torch.arange(n) < keep).float()  # (n,): the first `keep` units kept


def pruned(model, *, decoder_layers: int | None = None, encoder_share: float = 1.0, decoder_share: float = 1.0):
    """A compacted copy of the dense BART ``model``: ``decoder_layers`` uniform decoder layers (all when None),
    and ``round(share * n)`` heads and FFN units (at least one) in every layer of each part."""
    for name, share in (("encoder_share", encoder_share), ("decoder_share", decoder_share)):
        if not 0 < share <= 1:
            raise ValueError(f"{name}={share!r}; allowed: 0 < share <= 1")
    n_dec = arch_of(model).depth("decoder")
    base = model if decoder_layers in (None, n_dec) else keep_decoder_layers(
        model, select_layers(n_dec, decoder_layers, "uniform"))
    arch, share = arch_of(base), {"encoder": encoder_share, "decoder": decoder_share}
    z = {}
    for part in PARTS:
        for block, refs in arch.blocks[part].items():
            key = f"{part}_{block}_heads" if block != "ffn" else f"{part}_ffn_ffn_units"
            z[key] = torch.cat([_first(share[part], r.width) for r in refs])  # (layers * width,)
    return compact(base, _Fixed(z)).eval()


def total_parameters(model) -> int:
    """Every parameter once, embeddings included (how the paper counts BART-base as 139M)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def share_for_params(model, params: float, *, decoder_layers: int | None = None, parts=PARTS,
                     grid: int = 100) -> float:
    """The share (in ``1/grid`` steps) of heads and FFN units, in every layer of ``parts``, at which
    :func:`pruned` (with ``decoder_layers``) has the parameter count closest to ``params``."""
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise ValueError(f"parts={list(parts)!r}; allowed: a non-empty subset of {', '.join(PARTS)}")
    if not 0 < params <= total_parameters(model):
        raise ValueError(f"params={params!r}; allowed: 0 < params <= the model's {total_parameters(model)}")

    def count(k: int) -> int:
        shares = {f"{p}_share": k / grid for p in parts}
        return total_parameters(pruned(model, decoder_layers=decoder_layers, **shares))

    lo, hi = 1, grid  # the count grows with the share: the first k whose count reaches params, or k - 1
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if count(mid) < params else (lo, mid)
    return min({max(1, lo - 1), lo}, key=lambda k: abs(count(k) - params)) / grid
