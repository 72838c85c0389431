"""Decoder layer selection: which d_s of the teacher's L decoder layers the shallow decoder keeps.

- ``uniform`` (the default, as the official code computes it): ``floor((L - 1) * l / (d_s - 1))``
  for l = 0..d_s-1, giving [0, 5, 11] for L = 12, d_s = 3. The published numbers came from this one.
- ``uniform-paper`` (as printed in the paper, Section 4.1, 0-indexed): ``floor((L - 1) / (d_s - 1)) * l``,
  giving [0, 5, 10].
- ``low``: the first d_s layers; ``high``: the last d_s layers.
- ``l0``: not an index rule; the layers are learned with CoFi-style layer masks on the decoder
  (see ``nashlib.prune``).

With d_s = 1 every uniform rule and ``low`` keep layer 0 (the layer that holds T5's relative
position bias); ``high`` keeps the last layer. ``keep_decoder_layers`` copies the kept layers into a new
model, renumbers their cache indices, and moves the position-bias table into the new first layer when
layer 0 was dropped, so ``high`` selections still see positions.
"""

from __future__ import annotations

import copy

from torch import nn

__all__ = ["STRATEGIES", "select_layers", "keep_decoder_layers", "keep_encoder_layers", "keep_layers"]

STRATEGIES = ("uniform", "uniform-paper", "low", "high")


def select_layers(num_layers: int, keep: int, strategy: str = "uniform") -> list[int]:
    """0-based indices of the ``keep`` decoder layers (of ``num_layers``) chosen by ``strategy``."""
    if strategy not in STRATEGIES:
        extra = " ('l0' is learned: use nashlib.prune with decoder layer masks)" if strategy == "l0" else ""
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


def _blocks(model, part: str = "decoder") -> tuple[nn.Module, str]:
    if part not in ("encoder", "decoder"):
        raise ValueError(f"part={part!r}; allowed: 'encoder', 'decoder'")
    kind = model.config.model_type
    if kind == "t5":
        return getattr(model, part), "block"
    if kind == "bart":
        return getattr(model.model, part), "layers"
    raise ValueError(f"model type {kind!r} is not supported for layer selection; supported: t5, bart")


def keep_decoder_layers(model, indices: list[int]):
    """A copy of ``model`` whose decoder keeps only the layers ``indices`` (in that order)."""
    return keep_layers(model, "decoder", indices)


def keep_encoder_layers(model, indices: list[int]):
    """A copy of ``model`` whose encoder keeps only the layers ``indices`` (Table 4's uniform encoder baseline)."""
    return keep_layers(model, "encoder", indices)


def keep_layers(model, part: str, indices: list[int]):
    """A copy of ``model`` whose ``part`` ("encoder" or "decoder") keeps only the layers ``indices``."""
    stack, attr = _blocks(model, part)
    n = len(getattr(stack, attr))
    if not indices or len(set(indices)) != len(indices) or sorted(indices) != list(indices) or \
            min(indices) < 0 or max(indices) >= n:
        raise ValueError(f"indices={indices!r}; allowed: increasing, distinct {part} layer indices from 0 to {n - 1}")
    new = copy.deepcopy(model)
    new_stack, _ = _blocks(new, part)
    blocks = getattr(new_stack, attr)
    kept = nn.ModuleList([blocks[i] for i in indices])
    if model.config.model_type == "t5":
        first = blocks[0].layer[0].SelfAttention
        for pos, block in enumerate(kept):
            for sub in block.layer[:2 if part == "decoder" else 1]:
                attn = getattr(sub, "SelfAttention", None) or getattr(sub, "EncDecAttention")
                attn.layer_idx = pos
            sa = block.layer[0].SelfAttention
            if pos == 0 and not sa.has_relative_attention_bias:  # carry the position-bias table over
                sa.has_relative_attention_bias = True
                sa.relative_attention_bias = first.relative_attention_bias
            elif pos > 0 and sa.has_relative_attention_bias:
                sa.has_relative_attention_bias = False
                del sa.relative_attention_bias
        if part == "decoder":
            new.config.num_decoder_layers = len(indices)
        else:
            new.config.num_layers = len(indices)
        new_stack.config.num_layers = len(indices)
    else:
        for pos, layer in enumerate(kept):
            layer.self_attn.layer_idx = pos
            if part == "decoder":
                layer.encoder_attn.layer_idx = pos
        setattr(new.config, f"{part}_layers", len(indices))
    setattr(new_stack, attr, kept)
    setattr(new.config, "nash_selected_layers" if part == "decoder" else "nash_selected_encoder_layers",
            list(indices))
    return new
