"""Compaction: a masked model becomes a physically smaller model that stock loaders can read.

T5 (v1.0 relu, v1.1 / Flan gated) and BART are supported; BART without hidden-dimension masks.

:class:`NashT5ForConditionalGeneration` is a T5 whose layers may each keep a different set of heads
and FFN units, and whose hidden size may be pruned. Its config (:class:`NashT5Config`, model type
``nash_t5``) records the per-layer layout, and both are registered with transformers' Auto classes
when ``nashlib`` is imported, so ``save_pretrained`` and ``AutoModelForSeq2SeqLM.from_pretrained``
work, and ``generate()`` runs with the KV cache.

Two details make the compact model compute exactly what the masked one did:

- T5 computes its relative position bias in layer 0 for every head and hands it to every later layer.
  Layer 0 keeps the full bias table; each attention slices the bias to the heads it kept
  (:class:`NashT5Attention`), and an attention with no heads left returns zeros (its cache still
  records the sequence length, which the position bias needs).
- Kept units carry the deterministic mask's scale; it is folded into the output projections (``o``
  columns per head, ``wo`` columns per unit). Hidden-dimension masks are binary at evaluation
  (``sites.PruningMasks``): T5 ties its LM head to the embeddings, so a scale on a hidden dimension
  could not be folded into the embeddings alone. RMSNorm keeps dividing by the original ``d_model``
  (:class:`NashT5LayerNorm`), and the LM head keeps the original output scaling.

The layout (:class:`NashLayout`) keeps each part's full head count, so an encoder and a decoder of
different widths compact exactly, and ``nash_tied_lm_head`` records whether the LM head is the token
embedding (transformers 5.x ties every T5 config; a v1.1 / Flan-T5 checkpoint loads untied). Loading is
strict (:class:`_StrictLoading`): safetensors only, every key present and expected, every shape as the
layout says, every weight finite, the weight files' seals (digests of the layout and of the bytes,
:mod:`nashlib.pruning.seal`) intact; a layout that contradicts itself is refused when the config is made.
Without ``import nashlib`` transformers does not know ``nash_t5`` (it reads no plugin entry points), so a
saved folder carries a two-line shim (:data:`SHIM`, ``modeling_nash.py``) named by the config's ``auto_map``:
transformers then refuses with its "custom code" error pointing at the folder, whose shim names the fix, and
``trust_remote_code=True`` loads the same strict classes through it.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from pathlib import Path

import torch
from huggingface_hub.dataclasses import strict
from torch import nn
from transformers import (AutoConfig, AutoModelForSeq2SeqLM, BartConfig, BartForConditionalGeneration, T5Config,
                          T5ForConditionalGeneration)
from transformers.models.bart.modeling_bart import BartAttention
from transformers.cache_utils import EncoderDecoderCache
from transformers.models.t5.modeling_t5 import T5Attention, T5LayerNorm

from nashlib.arch import PARTS, Attn, arch_of, set_position_bias
from nashlib.env import atomic_write_text
from nashlib.pruning import seal
from nashlib.pruning.masks import PruningMasks

__all__ = ["NashT5Config", "NashT5ForConditionalGeneration", "NashT5Attention", "NashT5LayerNorm",
           "NashBartConfig", "NashBartForConditionalGeneration", "NashBartAttention", "SkippedSublayer",
           "NashLayout", "LayerLayout", "compact", "layout_of"]


@dataclass(frozen=True)
class LayerLayout:
    """What one layer of a compacted model kept: head indices (into the teacher's heads) and FFN units."""

    heads: dict[str, tuple[int, ...]]  # "self" (and "cross" in a decoder) -> kept heads, strictly increasing
    d_ff: int  # FFN units kept; 0: the FFN sublayer is gone


@dataclass(frozen=True)
class NashLayout:
    """The per-layer shape of a compacted model, validated; stored in its config as plain JSON (``to_dict``).

    Kept heads must be strictly increasing: T5 hands every layer the full position-bias table and each
    attention slices its kept heads out of it in this order, so an unsorted or duplicated list would pair
    heads with the wrong bias rows. Encoder and decoder may come from stacks of different head counts.
    """

    full_heads: dict[str, int]  # part -> the teacher's heads per attention of that part
    full_d_model: int  # the teacher's hidden size (RMSNorm divides by it; the LM head scales by it)
    layers: dict[str, tuple[LayerLayout, ...]]  # part -> one entry per layer

    def to_dict(self) -> dict:
        rows = {p: [{**{b: list(h) for b, h in row.heads.items()}, "d_ff": row.d_ff} for row in self.layers[p]]
                for p in PARTS}
        return {"full_num_heads": self.full_heads["encoder"], "decoder_full_num_heads": self.full_heads["decoder"],
                "full_d_model": self.full_d_model, **rows}

    @classmethod
    def parse(cls, raw, d_model: int, depths: dict[str, int] | None = None) -> "NashLayout":
        """``raw`` (a config's ``nash_layout``) checked against itself, ``d_model`` and the config's ``depths``."""
        if not isinstance(raw, dict):
            raise ValueError(f"nash_layout={raw!r}; allowed: a dict written by nashlib.pruning.compact.compact()")
        for key in ("full_num_heads", "full_d_model", *PARTS):
            if key not in raw:
                raise ValueError(f"nash_layout has no {key!r}; it was not written by compact(), or was edited")
        enc_heads = _int("nash_layout.full_num_heads", raw["full_num_heads"], 1)
        full = {"encoder": enc_heads, "decoder": _int("nash_layout.decoder_full_num_heads",
                                                      raw.get("decoder_full_num_heads", enc_heads), 1)}
        full_d = _int("nash_layout.full_d_model", raw["full_d_model"], d_model)
        layers = {}
        for part in PARTS:
            rows = raw[part]
            if not isinstance(rows, list):
                raise ValueError(f"nash_layout[{part!r}]={rows!r}; allowed: a list with one entry per layer")
            if depths is not None and len(rows) != depths[part]:
                raise ValueError(f"layout lists {len(rows)} {part} layers, config has {depths[part]}")
            blocks = ("self", "cross") if part == "decoder" else ("self",)
            layers[part] = tuple(_layer_layout(row, f"nash_layout[{part!r}][{i}]", blocks, full[part])
                                 for i, row in enumerate(rows))
        return cls(full, full_d, layers)


def _int(name: str, value, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name}={value!r}; allowed: an integer >= {low}")
    return value


def _layer_layout(row, where: str, blocks: tuple[str, ...], full_heads: int) -> LayerLayout:
    """One layer's entry, checked: every block present, head indices in range and strictly increasing."""
    if not isinstance(row, dict) or set(row) - {"ffn_kept"} != {*blocks, "d_ff"}:
        raise ValueError(f"{where}={row!r}; allowed: a dict with exactly the keys {', '.join(blocks)}, d_ff")
    heads = {}
    for block in blocks:
        kept = row[block]
        ok = isinstance(kept, (list, tuple)) and all(isinstance(h, int) and not isinstance(h, bool) for h in kept)
        if not ok or any(not 0 <= h < full_heads for h in kept) or any(a >= b for a, b in zip(kept, kept[1:])):
            raise ValueError(f"{where}[{block!r}]={kept!r}; allowed: strictly increasing head indices "
                             f"from 0 to {full_heads - 1} (no duplicates)")
        heads[block] = tuple(kept)
    return LayerLayout(heads, _int(f"{where}['d_ff']", row["d_ff"], 0))


def _depths(config) -> dict[str, int]:
    if config.model_type == "nash_t5":
        return {"encoder": config.num_layers, "decoder": config.num_decoder_layers}
    return {"encoder": config.encoder_layers, "decoder": config.decoder_layers}


class _LayoutValidated:
    """Config mixin: a ``nash_layout`` that contradicts itself or the config is refused when the config is made."""

    def __post_init__(self, **kwargs):  # runs when the config is made, also by from_pretrained
        super().__post_init__(**kwargs)
        if self.nash_layout is not None:
            NashLayout.parse(self.nash_layout, self.d_model, _depths(self))
            if self.model_type == "nash_bart" and self.nash_layout["full_d_model"] != self.d_model:
                raise ValueError(f"nash_layout.full_d_model={self.nash_layout['full_d_model']} but d_model="
                                 f"{self.d_model}; BART is compacted without hidden-dimension pruning")


@strict
class NashT5Config(_LayoutValidated, T5Config):
    model_type = "nash_t5"
    # {"full_num_heads": H_encoder, "decoder_full_num_heads": H_decoder, "full_d_model": D,
    #  "encoder": [{"self": [kept head indices], "d_ff": units}, ...],
    #  "decoder": [{"self": [...], "cross": [...], "d_ff": units}, ...]}   (see NashLayout)
    nash_layout: dict | None = None
    # False: the LM head is a matrix of its own (T5 v1.1 / Flan-T5), not the token embedding. transformers 5.x
    # always ties T5's head (it reads a checkpoint's tie_word_embeddings as the output-scaling flag), so the
    # compacted model keeps this flag itself and leaves lm_head.weight out of the tied weights.
    nash_tied_lm_head: bool = True


def _cache_keyword(forward) -> str:
    """The name under which ``forward`` takes the KV cache: ``cache`` from transformers 5.24, before it
    ``past_key_values``. A subclass that read only the old name would decode with the position bias of
    step 0 at every step (and leave the cache of an attention without heads unrecorded)."""
    return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"


_T5_CACHE, _BART_CACHE = _cache_keyword(T5Attention.forward), _cache_keyword(BartAttention.forward)


class NashT5Attention(T5Attention):
    """A T5 attention that kept only some heads: slices the full position bias, passes the full one on."""

    kept_heads: tuple[int, ...] | None  # indices into the full head set; None: all kept
    full_heads: int

    def _kept_index(self, device) -> torch.Tensor:
        # made lazily on the bias's device: from_pretrained builds modules on the meta device
        cached = getattr(self, "_kept_tensor", None)
        if cached is None or cached.device != device:
            cached = self._kept_tensor = torch.tensor(self.kept_heads, dtype=torch.long, device=device)
        return cached

    def _full_bias(self, hidden_states, key_value_states, past_key_values):
        T = hidden_states.shape[1]
        if key_value_states is not None:
            past, K = 0, key_value_states.shape[1]
        else:
            past = past_key_values.get_seq_length(self.layer_idx) if past_key_values is not None else 0
            K = past + T
        if self.has_relative_attention_bias:
            return self.compute_bias(T, K, device=hidden_states.device, past_seen_tokens=past)
        return torch.zeros(1, self.full_heads, T, K, device=hidden_states.device, dtype=hidden_states.dtype)

    def forward(self, hidden_states, mask=None, key_value_states=None, position_bias=None, cache=None,
                past_key_values=None, **kwargs):
        past_key_values = cache if cache is not None else past_key_values  # renamed to `cache` in transformers 5.24
        if position_bias is None:
            position_bias = self._full_bias(hidden_states, key_value_states, past_key_values)  # (1, H_full, T, K)
        if self.n_heads == 0:
            if past_key_values is not None and key_value_states is None:  # record the length for later steps
                _empty_cache_update(self, hidden_states, past_key_values, self.key_value_proj_dim)
            return torch.zeros_like(hidden_states), position_bias, None
        bias = position_bias if self.kept_heads is None else position_bias[:, self._kept_index(position_bias.device)]
        out, _, weights = super().forward(hidden_states, mask=mask, key_value_states=key_value_states,
                                          position_bias=bias, **{_T5_CACHE: past_key_values}, **kwargs)
        return out, position_bias, weights


class NashT5LayerNorm(T5LayerNorm):
    """T5's RMSNorm over kept hidden dimensions, still dividing by the original ``d_model``."""

    full_d_model: int

    def forward(self, hidden_states):
        variance = hidden_states.to(torch.float32).pow(2).sum(-1, keepdim=True) / self.full_d_model
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            hidden_states = hidden_states.to(self.weight.dtype)
        return self.weight * hidden_states


class SkippedSublayer(nn.Module):
    """A sublayer whose units were all pruned: the residual passes through unchanged."""

    def forward(self, hidden_states, *args, **kwargs):
        return hidden_states


def _linear(n_in: int, n_out: int, device, dtype, bias: bool = False) -> nn.Linear:
    """A Linear left uninitialised: its weights are copied in (compact) or loaded (from_pretrained),
    or initialised by ``post_init``."""
    return nn.utils.skip_init(nn.Linear, n_in, n_out, bias=bias, device=device, dtype=dtype)


def _shrink_attention(attn: T5Attention, heads: list[int], full_heads: int, d_model: int) -> None:
    attn.__class__ = NashT5Attention
    attn.full_heads = full_heads
    attn.n_heads = len(heads)
    attn.inner_dim = len(heads) * attn.key_value_proj_dim
    attn.kept_heads = None if list(heads) == list(range(full_heads)) else tuple(heads)
    attn._kept_tensor = None
    dev, dt = attn.q.weight.device, attn.q.weight.dtype
    for name in ("q", "k", "v"):
        setattr(attn, name, _linear(d_model, attn.inner_dim, dev, dt))
    attn.o = _linear(attn.inner_dim, d_model, dev, dt)


def _shrink_ffn(block, ff, units: int, d_model: int) -> None:
    """Resize T5 FFN ``ff`` (the DenseReluDense of ``block``) to ``units``; with none, skip the whole sublayer."""
    if units == 0:
        block.layer[-1] = SkippedSublayer()  # the FFN sublayer (norm, FFN, residual) is a T5 block's last
        return
    dev, dt = ff.wo.weight.device, ff.wo.weight.dtype
    for name in ("wi", "wi_0", "wi_1"):
        if hasattr(ff, name):
            setattr(ff, name, _linear(d_model, units, dev, dt))
    ff.wo = _linear(units, d_model, dev, dt)


class _StrictLoading:
    """Model mixin: strict ``from_pretrained`` and an LM head that may stay untied (``config.nash_tied_lm_head``).

    transformers loads a checkpoint leniently: a tensor missing from the file is initialised at random and only
    listed, an unexpected one is dropped. A compacted model's shapes come from its config's layout, so a config
    edited apart from its weights would load wrong weights silently. Here every expected key must be in the
    file, no other key may be, every shape must match the layout, weights come from safetensors only, and
    every loaded tensor must be finite. A layout edit that keeps every shape (kept head indices replaced by
    other valid ones, a larger ``full_d_model``) and finite bytes overwritten in place are caught by the seals
    ``save_pretrained`` writes into the weight files (:mod:`nashlib.pruning.seal`).
    """

    def get_expanded_tied_weights_keys(self, all_submodels: bool = False) -> dict:
        keys = super().get_expanded_tied_weights_keys(all_submodels=all_submodels)
        if not getattr(self.config, "nash_tied_lm_head", True):
            keys.pop("lm_head.weight", None)
        return keys

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Stock ``save_pretrained``, plus :data:`SHIM` and an ``auto_map`` naming it in ``config.json``.

        A process that has imported ``nashlib`` loads the folder with its registered classes and ignores
        the shim. One that has not gets transformers' "contains custom code" error pointing at the folder,
        where the shim's first lines name the fix; with ``trust_remote_code=True`` the shim imports
        ``nashlib`` (transformers names the missing package if it is not installed).
        """
        if not kwargs.get("safe_serialization", True):
            raise ValueError("safe_serialization=False; a compacted model saves only as safetensors (it loads only so)")
        names = {"nash_t5": "NashT5", "nash_bart": "NashBart"}[self.config.model_type]
        self.config.auto_map = {"AutoConfig": f"{SHIM_MODULE}.{names}Config",
                                "AutoModelForSeq2SeqLM": f"{SHIM_MODULE}.{names}ForConditionalGeneration"}
        out = super().save_pretrained(save_directory, *args, **kwargs)
        seal.seal(Path(save_directory), self.config)
        atomic_write_text(Path(save_directory) / f"{SHIM_MODULE}.py", SHIM)
        return out

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        where = pretrained_model_name_or_path
        for key, allowed in (("use_safetensors", True), ("ignore_mismatched_sizes", False)):
            if kwargs.get(key, allowed) != allowed:
                raise ValueError(f"{key}={kwargs[key]!r}; a compacted model loads only with {key}={allowed}")
        want_info = kwargs.pop("output_loading_info", False)
        try:
            model, info = super().from_pretrained(where, *args, use_safetensors=True, output_loading_info=True,
                                                  **kwargs)
        except (RuntimeError, ValueError) as err:
            if "mismatch" not in str(err):
                raise
            raise ValueError(f"{where}: the saved weights do not fit the per-layer layout in its config.json "
                             f"('nash_layout'); {_EDITED} ({err})") from err
        bad = {k: sorted(info[k]) for k in ("missing_keys", "unexpected_keys", "mismatched_keys") if info.get(k)}
        if bad:
            listed = "; ".join(f"{k.replace('_', ' ')}: {', '.join(map(str, v[:6]))}" + (" ..." if len(v) > 6 else "")
                               for k, v in bad.items())
            raise ValueError(f"{where}: the saved weights do not fit the per-layer layout in its config.json "
                             f"('nash_layout'): {listed}. {_EDITED}")
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                raise ValueError(f"{where}: weight {name!r} holds NaN or infinite values; the file is damaged")
        seal.check(_folder_of(where, kwargs), model.config)
        return (model, info) if want_info else model


def _folder_of(where, kwargs) -> Path:
    """The local folder ``from_pretrained`` read: ``where`` itself, or the hub cache's snapshot of it."""
    sub = kwargs.get("subfolder") or ""
    if Path(where).is_dir():
        return Path(where) / sub
    from transformers.utils import cached_file
    keys = ("cache_dir", "revision", "token", "local_files_only")
    return Path(cached_file(where, "config.json", subfolder=sub, **{k: kwargs[k] for k in keys if k in kwargs})).parent


SHIM_MODULE = "modeling_nash"
SHIM = '''"""A model compacted by NASH (nashlib, the nash-companion library): its classes live in nashlib.

To load this folder, either run ``import nashlib`` first (it registers the model types nash_t5 and nash_bart
with transformers' Auto classes), or pass ``trust_remote_code=True``, which runs this file: it imports
nashlib, so nashlib must be installed (``pip install -e <nash-companion checkout>``).
"""

from nashlib.pruning.compact import (NashBartConfig, NashBartForConditionalGeneration, NashT5Config,  # noqa: F401
                                     NashT5ForConditionalGeneration)
'''

_EDITED = ("The config and the weights come from different models, or one was edited; "
           "re-save the model with save_pretrained.")


class NashT5ForConditionalGeneration(_StrictLoading, T5ForConditionalGeneration):
    """T5 with a per-layer layout (see :class:`NashT5Config`); otherwise the stock model."""

    config_class = NashT5Config

    def __init__(self, config: NashT5Config):
        if not config.nash_layout:
            raise ValueError("NashT5Config.nash_layout is empty; build this model with nashlib.pruning.compact.compact()")
        layout = NashLayout.parse(config.nash_layout, config.d_model, _depths(config))  # the config may have changed
        super().__init__(config)
        arch = arch_of(self)  # still the full T5 layout here
        for part in PARTS:
            H = layout.full_heads[part]
            table = arch.position_bias(part)
            if table is not None and table.embedding_dim != H:  # encoder and decoder of different head counts
                set_position_bias(arch.blocks[part]["self"][0].module, nn.Embedding(table.num_embeddings, H))
            for layer, row in enumerate(layout.layers[part]):
                for block, attn in arch.attentions(part, layer).items():
                    _shrink_attention(attn.module, row.heads[block], H, config.d_model)
                _shrink_ffn(arch.layer_modules[part][layer], arch.blocks[part]["ffn"][layer].module, row.d_ff,
                            config.d_model)
        if layout.full_d_model != config.d_model:
            for module in self.modules():
                if isinstance(module, T5LayerNorm):
                    module.__class__ = NashT5LayerNorm
                    module.full_d_model = layout.full_d_model
        self.model_dim = layout.full_d_model  # the LM head's output scaling uses the original width
        self.post_init()  # initialise the resized projections like any T5 weight


@strict
class NashBartConfig(_LayoutValidated, BartConfig):
    model_type = "nash_bart"
    nash_layout: dict | None = None  # as NashT5Config's, without hidden-dimension pruning
    nash_tied_lm_head: bool = True  # False: the LM head is not the token embedding


def _empty_cache_update(attn, hidden_states, past_key_values, head_dim) -> None:
    """Record the sequence length in the self-attention cache of an attention with no heads left."""
    cache = past_key_values.self_attention_cache if isinstance(past_key_values, EncoderDecoderCache) \
        else past_key_values
    empty = hidden_states.new_zeros(hidden_states.shape[0], 0, hidden_states.shape[1], head_dim)
    cache.update(empty, empty, attn.layer_idx)


class NashBartAttention(BartAttention):
    """A BART attention that may have no heads left: its output is then the output projection's bias."""

    def forward(self, hidden_states, key_value_states=None, cache=None, attention_mask=None, past_key_values=None,
                **kwargs):
        past_key_values = cache if cache is not None else past_key_values  # renamed to `cache` in transformers 5.24
        if self.num_heads > 0:
            return super().forward(hidden_states, key_value_states=key_value_states, attention_mask=attention_mask,
                                   **{_BART_CACHE: past_key_values}, **kwargs)
        if past_key_values is not None and key_value_states is None:
            _empty_cache_update(self, hidden_states, past_key_values, self.head_dim)
        bias = self.out_proj.bias
        out = torch.zeros_like(hidden_states) if bias is None else bias.expand_as(hidden_states).clone()
        return out, None


class NashBartForConditionalGeneration(_StrictLoading, BartForConditionalGeneration):
    """BART with a per-layer layout of heads and FFN units (see :class:`NashBartConfig`)."""

    config_class = NashBartConfig

    def __init__(self, config: NashBartConfig):
        if not config.nash_layout:
            raise ValueError("NashBartConfig.nash_layout is empty; build this model with nashlib.pruning.compact.compact()")
        layout = NashLayout.parse(config.nash_layout, config.d_model, _depths(config))
        super().__init__(config)
        d = config.d_model
        arch = arch_of(self)  # still the full BART layout here
        for part in PARTS:
            for i, (layer, row) in enumerate(zip(arch.layer_modules[part], layout.layers[part])):
                for block, ref in arch.attentions(part, i).items():
                    attn = ref.module
                    attn.__class__ = NashBartAttention
                    attn.num_heads = len(row.heads[block])
                    inner = attn.num_heads * attn.head_dim
                    dev, dt = attn.q_proj.weight.device, attn.q_proj.weight.dtype
                    for name in ("q_proj", "k_proj", "v_proj"):
                        setattr(attn, name, _linear(d, inner, dev, dt, bias=True))
                    attn.out_proj = _linear(inner, d, dev, dt, bias=True)
                fc1 = arch.blocks[part]["ffn"][i].inputs[0]
                dev, dt = fc1.weight.device, fc1.weight.dtype
                layer.fc1 = _linear(d, row.d_ff, dev, dt, bias=True)
                layer.fc2 = _linear(row.d_ff, d, dev, dt, bias=True)
        self.post_init()


AutoConfig.register("nash_t5", NashT5Config)
AutoModelForSeq2SeqLM.register(NashT5Config, NashT5ForConditionalGeneration)
AutoConfig.register("nash_bart", NashBartConfig)
AutoModelForSeq2SeqLM.register(NashBartConfig, NashBartForConditionalGeneration)


def layout_of(z: dict[str, torch.Tensor], arch, parts=PARTS) -> dict:
    """Kept heads and FFN units per layer from deterministic masks ``z`` (keys as in PruningMasks)."""

    def kept(key, layer, n):
        m = z.get(key)
        return list(range(n)) if m is None else torch.nonzero(m.view(-1, n)[layer] > 0).flatten().tolist()

    def alive(key, layer):
        m = z.get(key)
        return True if m is None else bool(m[layer] > 0)

    layout = {}
    for part in parts:
        rows = []
        blocks = arch.blocks[part]
        for layer in range(arch.depth(part)):
            row = {}
            for block, attn in arch.attentions(part, layer).items():
                heads = kept(f"{part}_{block}_heads", layer, attn.width)
                row[block] = heads if alive(f"{part}_{block}_mha_layer", layer) else []
            units = blocks["ffn"][layer].width
            ffn_kept = kept(f"{part}_ffn_ffn_units", layer, units)
            row["ffn_kept"] = ffn_kept if alive(f"{part}_ffn_ffn_layer", layer) else []
            row["d_ff"] = len(row["ffn_kept"])
            rows.append(row)
        layout[part] = rows
    return layout


def _scales(z, part, block, unit_key, layer_key, layer, n_full, kept):
    """Deterministic mask scale of each kept unit (unit mask times sublayer mask), shape (len(kept),)."""
    scale = torch.ones(len(kept))
    if unit_key in z:
        scale = scale * z[unit_key].view(-1, n_full)[layer, torch.tensor(kept)].cpu()
    if layer_key in z:
        scale = scale * z[layer_key][layer].cpu()
    return scale


@torch.no_grad()
def compact(model, masks: PruningMasks | None = None):
    """A physically smaller copy of ``model`` with ``masks``' deterministic masks folded in.

    ``model`` is a dense T5 (returns :class:`NashT5ForConditionalGeneration`) or BART (returns
    :class:`NashBartForConditionalGeneration`). Without masks, the result has ``model``'s own shape
    (useful after decoder layer selection). The source model is not changed.
    """
    arch = arch_of(model)
    if arch.compacted:
        raise ValueError(f"compaction takes a dense T5 or BART (model type 't5' or 'bart'); "
                         f"got model type {arch.name!r}")
    for part in PARTS:
        for refs in arch.blocks[part].values():
            if len({r.width for r in refs}) > 1:
                raise ValueError("compact() takes a dense model (every layer the same width) plus masks")
    z = masks.deterministic() if masks is not None else {}
    layout = layout_of(z, arch)
    hidden = z.get("hidden")
    hk = torch.arange(arch.d_model) if hidden is None else torch.nonzero(hidden > 0).flatten()  # hidden dims kept
    if len(hk) == 0:
        raise ValueError("every hidden dimension is pruned; nothing would be left to compute with")
    new = _empty_compacted(model, arch, layout, len(hk)).to(model.device, model.dtype)
    new_arch = arch_of(new)
    _copy_unchanged(model, new, arch.d_model, hk)
    for part in PARTS:
        for layer, row in enumerate(layout[part]):
            for block, old in arch.attentions(part, layer).items():
                _copy_attention(z, (part, block, layer), old, new_arch.blocks[part][block][layer], row[block], hk)
            _copy_ffn(z, (part, layer), arch.blocks[part]["ffn"][layer], new_arch.blocks[part]["ffn"][layer],
                      row["ffn_kept"], hk)
    new.generation_config = copy.deepcopy(model.generation_config)
    return new.eval()


def _empty_compacted(model, arch, layout: dict, d_kept: int):
    """The compacted model class with ``layout``'s shape (config copied from ``model``), weights not yet set.

    Each part keeps its own full head count (a model built with other widths in the encoder than in the
    decoder), and whether the LM head is the token embedding is read from the weights themselves: on
    transformers 5.x a T5 config always says tied, while a v1.1 / Flan-T5 checkpoint loads untied."""
    full_heads = {p: arch.blocks[p]["self"][0].width for p in PARTS}
    rows = {p: [{k: v for k, v in row.items() if k != "ffn_kept"} for row in layout[p]] for p in PARTS}
    nash = NashLayout.parse({"full_num_heads": full_heads["encoder"], "decoder_full_num_heads": full_heads["decoder"],
                             "full_d_model": arch.d_model, **rows}, d_kept)
    cfg = model.config.to_dict()
    for key in ("model_type", "architectures", "transformers_version", "nash_layout", "nash_encoder"):
        cfg.pop(key, None)
    out, emb = model.get_output_embeddings(), model.get_input_embeddings()
    cfg.update(nash_layout=nash.to_dict(), nash_tied_lm_head=out is None or out.weight is emb.weight)
    if arch.family == "t5":
        cfg.update({arch.depth_keys[p]: len(layout[p]) for p in PARTS}, d_model=d_kept, num_heads=full_heads["encoder"])
        cfg["tie_word_embeddings"] = bool(model.config.scale_decoder_outputs)  # T5Config reads it as the scaling flag
        return NashT5ForConditionalGeneration(NashT5Config(**cfg))
    return NashBartForConditionalGeneration(NashBartConfig(**cfg))


def _projection_storage(arch) -> set[int]:
    """Data pointers of every attention and FFN projection of ``arch`` (filled per kept unit, not copied whole)."""
    linears = [lin for part in PARTS for refs in arch.blocks[part].values() for ref in refs if ref is not None
               for lin in ([ref.q, ref.k, ref.v, ref.o] if isinstance(ref, Attn) else [*ref.inputs, ref.output])]
    return {p.data_ptr() for lin in linears for p in lin.parameters()}


def _copy_unchanged(model, new, D: int, hk: torch.Tensor) -> None:
    """Copy every tensor that is not a projection (embeddings, LM head, norms, position tables), slicing kept
    hidden dimensions where the width changed.

    Every such tensor of ``new`` must be filled, and tensors ``new`` ties together must receive equal values:
    an error names the tensor, where a skip or an overwrite would silently change the logits."""
    projections, old_state, written = _projection_storage(arch_of(new)), model.state_dict(), {}
    for key, value in new.state_dict().items():
        if value.numel() == 0 or value.data_ptr() in projections:
            continue
        src = old_state.get(key)
        if src is not None and src.shape != value.shape and src.dim() >= 1 and src.shape[-1] == D \
                and value.shape[-1] == len(hk) and src.shape[:-1] == value.shape[:-1]:
            src = src[..., hk]  # token embeddings, LM head and layer-norm weights: hidden dimensions kept
        if src is None or src.shape != value.shape:
            raise RuntimeError(f"compaction cannot fill {key} {tuple(value.shape)} from the source model "
                               f"({'no such tensor' if src is None else tuple(src.shape)})")
        first = written.setdefault(value.data_ptr(), src)
        if first is not src and not torch.equal(first, src):
            raise RuntimeError(f"compaction: {key} is tied to another tensor of the compacted model, "
                               "but the source model's values differ")
        value.copy_(src)


def _copy_attention(z, where: tuple, old, new_ref, heads: list[int], hk: torch.Tensor) -> None:
    """Kept heads' q, k, v rows and o columns (o scaled by the deterministic masks); ``where``: (part, block, layer)."""
    part, block, layer = where
    layer_key = f"{part}_{block}_mha_layer"
    if old.o.bias is not None and (heads or new_ref is not None):
        new_ref.o.bias.copy_(old.o.bias * _scales(z, part, block, "", layer_key, layer, 1, [0]).to(old.o.bias))
    if not heads:
        return
    dh = old.d_head
    cols = torch.cat([torch.arange(h * dh, (h + 1) * dh) for h in heads])  # (len(heads) * d_head,)
    scale = _scales(z, part, block, f"{part}_{block}_heads", layer_key, layer, old.width, heads)
    for name in ("q", "k", "v"):
        src, dst = getattr(old, name), getattr(new_ref, name)
        dst.weight.copy_(src.weight[cols][:, hk])
        if src.bias is not None:
            dst.bias.copy_(src.bias[cols])
    new_ref.o.weight.copy_((old.o.weight[:, cols] * scale.repeat_interleave(dh).to(old.o.weight))[hk])


def _copy_ffn(z, where: tuple, old, new_ref, units: list[int], hk: torch.Tensor) -> None:
    """Kept FFN units' input rows and output columns (scaled by the deterministic masks); ``where``: (part, layer)."""
    part, layer = where
    layer_scale = _scales(z, part, "ffn", "", f"{part}_ffn_ffn_layer", layer, 1, [0])
    if new_ref is not None and old.output.bias is not None:
        new_ref.output.bias.copy_(old.output.bias * layer_scale.to(old.output.bias))
    if not units:
        return
    idx = torch.tensor(units)
    scale = _scales(z, part, "ffn", f"{part}_ffn_ffn_units", f"{part}_ffn_ffn_layer", layer, old.width, units)
    for old_in, new_in in zip(old.inputs, new_ref.inputs):
        new_in.weight.copy_(old_in.weight[idx][:, hk])
        if old_in.bias is not None:
            new_in.bias.copy_(old_in.bias[idx])
    new_ref.output.weight.copy_((old.output.weight[:, idx] * scale.to(old.output.weight))[hk])
