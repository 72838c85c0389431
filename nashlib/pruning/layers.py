"""Decoder layer selection: which d_s of the teacher's L decoder layers the shallow decoder keeps.

- ``uniform`` (the default, as the official code computes it): ``floor((L - 1) * l / (d_s - 1))``
  for l = 0..d_s-1, giving [0, 5, 11] for L = 12, d_s = 3. The published numbers came from this one.
- ``uniform-paper`` (as printed in the paper, Section 4.1, 0-indexed): ``floor((L - 1) / (d_s - 1)) * l``,
  giving [0, 5, 10].
- ``low``: the first d_s layers; ``high``: the last d_s layers.
- ``l0``: not an index rule; the layers are learned with CoFi-style layer masks on the decoder
  (see ``nashlib.pruning.prune``).

With d_s = 1 every uniform rule and ``low`` keep layer 0 (the layer that holds T5's relative
position bias); ``high`` keeps the last layer. ``keep_decoder_layers`` copies the kept layers into a new
model, renumbers their cache indices, and, when layer 0 was dropped (``high``), gives the new first layer the
position bias by ``position_bias``:

- ``"move"`` (the default): layer 0's table moves into the new first layer, so the kept layers still see
  positions. The better model, but not what the paper's Table 3 measured;
- ``"zero"`` (the released code): its compacted T5 builds the remaining blocks without a table, so they
  add a zero bias. Here the new first layer holds a table of zeros, frozen (``requires_grad=False``)
  while pruning: the same function, and a checkpoint that stock loaders and compaction read like any
  other (the compacted model's own fine-tuning may then train it, as it trains every weight).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from nashlib.arch import PARTS, arch_of, set_position_bias

__all__ = ["STRATEGIES", "POSITION_BIAS", "select_layers", "keep_decoder_layers", "keep_encoder_layers",
           "keep_layers"]

STRATEGIES = ("uniform", "uniform-paper", "low", "high")
POSITION_BIAS = ("move", "zero")  # what the new first layer gets when layer 0 is dropped


def select_layers(num_layers: int, keep: int, strategy: str = "uniform") -> list[int]:
    """0-based indices of the ``keep`` decoder layers (of ``num_layers``) chosen by ``strategy``."""
    if strategy not in STRATEGIES:
        extra = " ('l0' is learned: use nashlib.pruning.prune with decoder layer masks)" if strategy == "l0" else ""
        raise ValueError(f"unknown selection strategy {strategy!r}; allowed: {', '.join(STRATEGIES)}{extra}")
    for name, value in (("num_layers", num_layers), ("keep", keep)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name}={value!r}; allowed: an integer")
    if not 1 <= keep <= num_layers:
        raise ValueError(f"keep={keep} decoder layers of {num_layers}; allowed: 1 to {num_layers}")
    L = num_layers
    if strategy == "low":
        return list(range(keep))
    if strategy == "high":
        return list(range(L - keep, L))
    if keep == 1:
        return [0]
    if strategy == "uniform":
        return [(L - 1) * i // (keep - 1) for i in range(keep)]
    return [(L - 1) // (keep - 1) * i for i in range(keep)]


def keep_decoder_layers(model, indices: list[int], position_bias: str = "move"):
    """A copy of ``model`` whose decoder keeps only the layers ``indices`` (in that order)."""
    return keep_layers(model, "decoder", indices, position_bias)


def keep_encoder_layers(model, indices: list[int]):
    """A copy of ``model`` whose encoder keeps only the layers ``indices`` (Table 4's uniform encoder baseline)."""
    return keep_layers(model, "encoder", indices)


def keep_layers(model, part: str, indices: list[int], position_bias: str = "move"):
    """A copy of ``model`` whose ``part`` ("encoder" or "decoder") keeps only the layers ``indices``;
    ``position_bias`` ("move" or "zero") matters only when layer 0 is not among them."""
    if part not in PARTS:
        raise ValueError(f"part={part!r}; allowed: 'encoder', 'decoder'")
    if position_bias not in POSITION_BIAS:
        raise ValueError(f"position_bias={position_bias!r}; allowed: 'move', 'zero'")
    arch = arch_of(model)
    if arch.compacted:
        raise ValueError(f"model type {arch.name!r} is not supported for layer selection; supported: t5, bart")
    n = arch.depth(part)
    if not indices or len(set(indices)) != len(indices) or sorted(indices) != list(indices) or \
            min(indices) < 0 or max(indices) >= n:
        raise ValueError(f"indices={indices!r}; allowed: increasing, distinct {part} layer indices from 0 to {n - 1}")
    new = copy.deepcopy(model)
    arch = arch_of(new)
    table = arch.position_bias(part)  # T5: computed in layer 0 for every layer; None for BART
    if table is not None and indices[0] != 0 and position_bias == "zero":
        table = nn.Embedding.from_pretrained(torch.zeros_like(table.weight), freeze=True)  # a zero bias
    for pos, i in enumerate(indices):
        for attn in arch.attentions(part, i).values():
            attn.module.layer_idx = pos  # its slot in the KV cache
        if table is not None:  # the new first layer computes the bias (from layer 0's table), the rest receive it
            set_position_bias(arch.blocks[part]["self"][i].module, table if pos == 0 else None)
    stack, attr = arch.stack(part)
    setattr(stack, attr, nn.ModuleList([arch.layer_modules[part][i] for i in indices]))
    arch.set_depth(part, len(indices))
    setattr(new.config, "nash_selected_layers" if part == "decoder" else "nash_selected_encoder_layers",
            list(indices))
    return new
