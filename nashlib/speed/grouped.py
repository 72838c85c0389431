"""Beam search with the cross-attention keys and values stored once per example (grouped queries).

``generate()`` repeats the encoder's output ``num_beams`` times, so at the first decoding step every
cross-attention layer projects ``B * beams`` identical rows into keys and values, ``(B*beams, H, T_src, d_kv)``,
and every later step attends to ``beams`` identical copies (``speed.fastgen`` stops *copying* them at each
reorder; they are still computed and stored ``beams`` times). But the beams of one example differ only in their
queries. Folding the beams into the query axis,

    q (B*beams, H, 1, d)  ->  (B, H, beams, d)        k, v (B, H, T_src, d)  from the B distinct encoder rows

computes the same attention: each query still meets every key of its own example, once. The first step's
key/value projections shrink ``beams``-fold (about 460 GFLOP to 115 for t5-base at batch 8, source 512, beam
4, 12 layers) and so does the memory every later step reads (1.2 GB to 0.3 GB). The attention itself runs
through the model's own attention function (``config._attn_implementation``: SDPA or eager), so the only
change in arithmetic is the shape of the batched matrix products.

It is exact only when the beams of an example really share their encoder rows and never move to another
example. :class:`GroupedBeamCache` checks both: at the first step, that the encoder rows (and mask rows) of each
example's beams are bitwise equal; at every reorder, that no beam index crosses examples. When a check fails it
falls back to the stock path: the per-example keys are repeated to ``B*beams`` rows and reordered as usual, and
``fallback`` says why.

Use it per call; nothing global is patched: :func:`generate_grouped` gives the decoder's cross-attention modules
a grouped subclass for the duration of the call (``T5Attention`` -> :class:`GroupedT5Attention`,
``NashT5Attention`` -> :class:`GroupedNashT5Attention`) and restores them after. A T5 (v1.0 or v1.1) and the
compacted NASH models (uneven heads per layer, skipped sublayers) are supported; BART is not (yet).
"""

from __future__ import annotations

import contextlib
import inspect

import torch
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.t5.modeling_t5 import T5Attention, eager_attention_forward

from nashlib.pruning.compact import NashT5Attention
from nashlib.speed.fastgen import BeamSharedCrossCache, _check_beams

__all__ = ["GroupedBeamCache", "GroupedT5Attention", "GroupedNashT5Attention", "grouped_cache",
           "generate_grouped", "grouped_modules", "cross_attentions"]

_CACHE_KW = "cache" if "cache" in inspect.signature(T5Attention.forward).parameters else "past_key_values"


class GroupedBeamCache(BeamSharedCrossCache):
    """A cache whose cross-attention part holds one row per example while ``grouped`` (see the module docstring).

    ``fallback`` is ``None`` while grouping, else why the stock path took over.
    """

    def __init__(self, num_beams: int):
        super().__init__(num_beams)
        self.grouped = num_beams > 1  # one beam: nothing to group, the stock path is already per example
        self._source_checked = False

    def check_source(self, kv_states: torch.Tensor, mask: torch.Tensor | None) -> bool:
        """At the first cross-attention call: are each example's beam rows of the encoder output (and of the mask)
        bitwise equal? Records a fallback when not; returns whether to group."""
        if not self._source_checked:
            self._source_checked = True
            why = _unequal_rows(kv_states, self.num_beams, "encoder output")
            if why is None and mask is not None and mask.shape[0] != 1:
                why = _unequal_rows(mask, self.num_beams, "cross-attention mask")
            if why is not None:
                self.grouped, self.fallback = False, why
        return self.grouped

    def _why_not_skip(self, beam_idx: torch.Tensor) -> str | None:
        if self.grouped:
            self._rows_checked = True  # the rows were checked as encoder output; one row per example is stored
        return super()._why_not_skip(beam_idx)

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Reorder the self-attention cache; when a beam crosses examples, ungroup and reorder the stock way."""
        if self.grouped and self.fallback is None:
            self.fallback = self._why_not_skip(beam_idx)
            if self.fallback is not None:
                self._ungroup()
            else:
                self.self_attention_cache.reorder_cache(beam_idx)
                self.skipped += 1
                return
        super().reorder_cache(beam_idx)

    def _ungroup(self) -> None:
        """One row per example -> ``num_beams`` rows per example: the layout the stock path expects."""
        for layer in self.cross_attention_cache.layers:
            if getattr(layer, "is_initialized", False) and layer.keys.numel() > 0:
                layer.keys = layer.keys.repeat_interleave(self.num_beams, dim=0)  # (B*beams, H, T_src, d_kv)
                layer.values = layer.values.repeat_interleave(self.num_beams, dim=0)
        self.grouped = False


def _unequal_rows(t: torch.Tensor, k: int, what: str) -> str | None:
    if t.shape[0] % k:
        return f"{what} has {t.shape[0]} rows, not a multiple of num_beams={k}"
    g = t.unflatten(0, (t.shape[0] // k, k))  # (B, beams, ...)
    return None if torch.equal(g, g[:, :1].expand_as(g)) else f"the {what} rows of one example's beams differ"


def _per_example(t: torch.Tensor | None, g: int, q_len: int) -> torch.Tensor | None:
    """A mask or bias ``(B*g or 1, h, q, T)`` as ``(B or 1, h, g*q, T)``: one row per example, beams as queries."""
    if t is None:
        return None
    if t.shape[0] != 1:
        t = t[::g]  # (B, h, q, T): the beams' rows are equal (checked)
    return t if q_len == 1 and t.shape[2] == 1 else t.repeat(1, 1, g, 1)  # query index = beam * q_len + position


def _grouped_cross(attn, hidden, mask, kv_states, position_bias, cache: GroupedBeamCache):
    """Cross-attention of ``B*g`` beam rows against ``B`` rows of keys and values (module docstring)."""
    g, (n, q_len, _) = cache.num_beams, hidden.shape
    B, T, H, d = n // g, kv_states.shape[1], attn.n_heads, attn.key_value_proj_dim
    if position_bias is None:  # cross-attention has no relative bias: zeros over the full head set, shared onwards
        full = getattr(attn, "full_heads", H)
        position_bias = torch.zeros(1, full, q_len, T, device=hidden.device, dtype=hidden.dtype)
    bias = position_bias
    if getattr(attn, "kept_heads", None) is not None:
        bias = position_bias[:, attn._kept_index(position_bias.device)]  # (1, H, q, T)
    layers = cache.cross_attention_cache
    if not cache.is_updated.get(attn.layer_idx):
        src = kv_states[::g]  # (B, T, D): one encoder row per example
        k = attn.k(src).view(B, T, H, d).transpose(1, 2)  # (B, H, T, d)
        v = attn.v(src).view(B, T, H, d).transpose(1, 2)
        k, v = layers.update(k, v, attn.layer_idx)
        cache.is_updated[attn.layer_idx] = True
    else:
        k, v = layers.layers[attn.layer_idx].keys, layers.layers[attn.layer_idx].values
    q = attn.q(hidden).view(B, g * q_len, H, d).transpose(1, 2)  # (B, H, g*q, d): the beams become queries
    fn = ALL_ATTENTION_FUNCTIONS.get_interface(attn.config._attn_implementation, eager_attention_forward)
    out, weights = fn(attn, q, k, v, _per_example(mask, g, q_len), dropout=0.0, scaling=attn.scaling,
                      position_bias=_per_example(bias, g, q_len))  # out: (B, g*q, H, d)
    return attn.o(out.reshape(n, q_len, H * d)), position_bias, weights


class _GroupedCross:
    """The grouped path when the call's cache is a grouping :class:`GroupedBeamCache`; the class's own otherwise."""

    def forward(self, hidden_states, mask=None, key_value_states=None, position_bias=None, cache=None,
                past_key_values=None, **kwargs):
        cache = cache if cache is not None else past_key_values
        if (key_value_states is not None and isinstance(cache, GroupedBeamCache) and self.n_heads > 0
                and cache.grouped and cache.check_source(key_value_states, mask)):
            return _grouped_cross(self, hidden_states, mask, key_value_states, position_bias, cache)
        return super().forward(hidden_states, mask=mask, key_value_states=key_value_states,
                               position_bias=position_bias, **{_CACHE_KW: cache}, **kwargs)


class GroupedT5Attention(_GroupedCross, T5Attention):
    """``T5Attention`` with the grouped cross-attention path."""


class GroupedNashT5Attention(_GroupedCross, NashT5Attention):
    """``NashT5Attention`` (a compacted model's attention) with the grouped cross-attention path."""


_GROUPED = {T5Attention: GroupedT5Attention, NashT5Attention: GroupedNashT5Attention}


def cross_attentions(model) -> list:
    """The decoder's cross-attention modules of a T5 or compacted NASH T5 (skipped sublayers have none)."""
    found = []
    for block in model.get_decoder().block:
        for layer in block.layer:
            attn = getattr(layer, "EncDecAttention", None)
            if isinstance(attn, T5Attention):
                found.append(attn)
    return found


def grouped_cache(num_beams: int) -> GroupedBeamCache:
    """An empty :class:`GroupedBeamCache` for one ``generate(cache=..., num_beams=num_beams)`` call."""
    return GroupedBeamCache(_check_beams(num_beams))


@contextlib.contextmanager
def grouped_modules(model):
    """The model's cross-attention modules with the grouped subclass inside the block, their own class after.

    Alone it changes nothing: the grouped path runs only for a call whose cache is a :class:`GroupedBeamCache`
    (``with grouped_modules(m): m.generate(..., cache=grouped_cache(4))``; :func:`generate_grouped` does both).
    """
    modules = cross_attentions(model)
    unknown = {type(m).__name__ for m in modules if type(m) not in _GROUPED}
    if unknown:
        raise ValueError(f"cross-attention class(es) {sorted(unknown)} have no grouped form; known: "
                         f"{', '.join(c.__name__ for c in _GROUPED)}")
    classes = [type(m) for m in modules]
    try:
        for m in modules:
            m.__class__ = _GROUPED[type(m)]
        yield model
    finally:
        for m, cls in zip(modules, classes):
            m.__class__ = cls


def generate_grouped(model, **generate_kwargs) -> torch.Tensor:
    """``model.generate(**generate_kwargs)`` with per-example cross-attention keys and values (module docstring).

    ``num_beams`` is taken from the arguments, else from a ``generation_config`` argument, else from
    ``model.generation_config``.
    """
    for name in ("past_key_values", "cache"):
        if name in generate_kwargs:
            raise ValueError(f"generate_grouped makes its own cache; pass {name}= to model.generate() instead")
    if getattr(model.config, "model_type", "") not in ("t5", "nash_t5"):
        raise ValueError(f"generate_grouped supports T5 and compacted NASH T5 models; {type(model).__name__} "
                         f"({getattr(model.config, 'model_type', '?')}) is not one (BART: use speed.fastgen)")
    config = generate_kwargs.get("generation_config") or model.generation_config
    beams = generate_kwargs.get("num_beams", config.num_beams or 1)
    with grouped_modules(model):
        return model.generate(**generate_kwargs, cache=grouped_cache(_check_beams(beams)))
