"""T5 models of named shapes: random weights for timing, or real weights from the hub / a folder.

Timing depends on shapes, not on weight values, so the speed notebooks build randomly initialised
models of the real t5-base / t5-small shapes. ``build_t5`` lets the encoder and the decoder have
their own depth, head count and FFN width (the shapes NASH produces: a narrow encoder and a shallow
decoder). ``share_view`` makes a model that reuses another model's weights with fewer decoder layers
or another model's encoder, so a notebook can time two dozen shapes without holding two dozen copies.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace

import torch
from torch import nn
from transformers import AutoModelForSeq2SeqLM, T5Config, T5ForConditionalGeneration
from transformers.cache_utils import DynamicCache, EncoderDecoderCache
from transformers.models.t5.modeling_t5 import T5Block, T5Stack

from nashlib.arch import head_cost, unit_cost

__all__ = ["Shape", "SHAPES", "shape", "t5_config", "build_t5", "share_view", "narrow_width",
           "build_layer", "load", "empty_cache", "count_parameters", "NASH_TYPES"]

NASH_TYPES = ("nash_t5", "nash_bart")  # model types that `import nashlib` registers (nashlib.pruning.compact)


@dataclass(frozen=True)
class Shape:
    d_model: int  # hidden size
    d_kv: int  # size of one attention head
    num_heads: int  # attention heads per layer
    d_ff: int  # FFN intermediate units per layer
    num_layers: int  # encoder layers
    num_decoder_layers: int  # decoder layers
    vocab_size: int  # embedding rows (T5's SentencePiece vocabulary, padded)
    feed_forward_proj: str = "relu"  # "relu" (T5 v1.0) or "gated-gelu" (T5 v1.1, Flan-T5)

    @property
    def gated(self) -> bool:
        return self.feed_forward_proj.startswith("gated")


# Published configurations (config.json of the hub checkpoints) plus tiny test shapes.
SHAPES: dict[str, Shape] = {
    "t5-small": Shape(512, 64, 8, 2048, 6, 6, 32128),
    "t5-base": Shape(768, 64, 12, 3072, 12, 12, 32128),
    "t5-large": Shape(1024, 64, 16, 4096, 24, 24, 32128),
    "t5-v1_1-small": Shape(512, 64, 6, 1024, 8, 8, 32128, "gated-gelu"),
    "t5-v1_1-base": Shape(768, 64, 12, 2048, 12, 12, 32128, "gated-gelu"),
    # tiny shapes for tests and the smoke profile; "tiny-odd" has d_kv * heads != d_model
    "tiny": Shape(64, 16, 4, 256, 4, 4, 512),
    "tiny-small": Shape(32, 16, 2, 128, 2, 2, 512),
    "tiny-gated": Shape(64, 16, 4, 128, 4, 4, 512, "gated-gelu"),
    "tiny-odd": Shape(48, 20, 3, 96, 3, 3, 512),
}


def shape(name: str) -> Shape:
    if not isinstance(name, str) or name not in SHAPES:
        raise ValueError(f"unknown model shape {name!r}; allowed: {', '.join(SHAPES)}")
    return SHAPES[name]


def t5_config(s: Shape | str, **changes) -> T5Config:
    """A ``T5Config`` for shape ``s`` (a name or a :class:`Shape`), with ``changes`` applied."""
    s = shape(s) if isinstance(s, str) else s
    s = replace(s, **changes)
    return T5Config(
        d_model=s.d_model, d_kv=s.d_kv, num_heads=s.num_heads, d_ff=s.d_ff,
        num_layers=s.num_layers, num_decoder_layers=s.num_decoder_layers,
        vocab_size=s.vocab_size, feed_forward_proj=s.feed_forward_proj,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
        tie_word_embeddings=not s.gated,
    )


def _check_range(name: str, value, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name}={value!r}; allowed: an integer from {low} to {high}")
    return value


def build_t5(
    shape_name: str = "t5-base",
    *,
    encoder_layers: int | None = None,
    decoder_layers: int | None = None,
    encoder_heads: int | None = None,
    encoder_d_ff: int | None = None,
    decoder_heads: int | None = None,
    decoder_d_ff: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> T5ForConditionalGeneration:
    """A randomly initialised T5 of shape ``shape_name``, in eval mode.

    Every argument left as ``None`` keeps the shape's value. Encoder and decoder may differ in width:
    the config then describes the decoder and ``model.config.nash_encoder`` records the encoder's
    heads and d_ff. Such a model is dense within each part, so it can be masked and compacted (each part keeps
    its own head count); saving it needs the compacted model class (``compact(model)``).
    """
    s = shape(shape_name)
    big = 4 * max(s.num_layers, s.num_decoder_layers, 12)
    enc_layers = _check_range("encoder_layers", s.num_layers if encoder_layers is None else encoder_layers, 1, big)
    dec_layers = _check_range("decoder_layers", s.num_decoder_layers if decoder_layers is None else decoder_layers,
                              1, big)
    enc_heads = _check_range("encoder_heads", s.num_heads if encoder_heads is None else encoder_heads, 1, 4 * s.num_heads)
    dec_heads = _check_range("decoder_heads", s.num_heads if decoder_heads is None else decoder_heads, 1, 4 * s.num_heads)
    enc_ff = _check_range("encoder_d_ff", s.d_ff if encoder_d_ff is None else encoder_d_ff, 1, 16 * s.d_ff)
    dec_ff = _check_range("decoder_d_ff", s.d_ff if decoder_d_ff is None else decoder_d_ff, 1, 16 * s.d_ff)

    torch.manual_seed(seed)
    config = t5_config(s, num_layers=enc_layers, num_decoder_layers=dec_layers, num_heads=dec_heads, d_ff=dec_ff)
    model = T5ForConditionalGeneration(config)
    if (enc_heads, enc_ff) != (dec_heads, dec_ff):
        enc_config = copy.deepcopy(model.encoder.config)
        enc_config.num_heads, enc_config.d_ff = enc_heads, enc_ff
        encoder = T5Stack(enc_config)
        encoder.embed_tokens = model.shared
        model.encoder = encoder
        model.config.nash_encoder = {"num_heads": enc_heads, "d_ff": enc_ff}
    return model.to(device).eval()


def share_view(
    base: T5ForConditionalGeneration,
    *,
    decoder_layers: int | None = None,
    encoder_from: T5ForConditionalGeneration | None = None,
) -> T5ForConditionalGeneration:
    """A model that shares ``base``'s weights, keeping its first ``decoder_layers`` decoder blocks.

    With ``encoder_from``, the view runs that model's encoder instead of ``base``'s. Nothing is
    copied: the view costs no memory, and timing it times exactly that shape. The first decoder
    block holds T5's relative position bias, so a prefix always keeps it. For choosing *which*
    layers a pruned model keeps (and copying them), see the layer-selection module.
    """
    n = len(base.decoder.block)
    decoder_layers = n if decoder_layers is None else _check_range("decoder_layers", decoder_layers, 1, n)
    view = copy.copy(base)
    view._modules = dict(base._modules)
    view.config = copy.deepcopy(base.config)
    view.config.num_decoder_layers = decoder_layers

    decoder = copy.copy(base.decoder)
    decoder._modules = dict(base.decoder._modules)
    decoder.config = copy.deepcopy(base.decoder.config)
    decoder.config.num_layers = decoder_layers
    decoder.block = nn.ModuleList(list(base.decoder.block)[:decoder_layers])
    view.decoder = decoder

    if encoder_from is not None:
        if encoder_from.config.d_model != base.config.d_model:
            raise ValueError(f"encoder_from has d_model={encoder_from.config.d_model}, "
                             f"base has {base.config.d_model}; they must match")
        view.encoder = encoder_from.encoder
        enc = encoder_from.encoder.config
        view.config.num_layers = enc.num_layers
        if (enc.num_heads, enc.d_ff) != (view.config.num_heads, view.config.d_ff):
            view.config.nash_encoder = {"num_heads": enc.num_heads, "d_ff": enc.d_ff}
        elif hasattr(view.config, "nash_encoder"):
            del view.config.nash_encoder
    return view


def narrow_width(s: Shape | str, sparsity: float, *, cross_attention: bool = False) -> tuple[int, int, float]:
    """Heads and FFN units left when a layer of shape ``s`` loses ``sparsity`` of its prunable weights.

    Counts parameters from the real shape with the adapter's costs (:mod:`nashlib.arch`): a head costs
    ``4 * d_model * d_kv`` per attention block (q, k, v rows and o columns; twice in a decoder layer
    with cross-attention), an FFN unit ``2 * d_model`` (``3 * d_model`` when gated). Heads are cut in proportion (at least one kept),
    then d_ff absorbs the rest of the budget. Returns ``(heads, d_ff, reached_sparsity)``.
    """
    s = shape(s) if isinstance(s, str) else s
    if not isinstance(sparsity, (int, float)) or isinstance(sparsity, bool) or not 0 <= sparsity < 1:
        raise ValueError(f"sparsity={sparsity!r}; allowed: 0 <= sparsity < 1")
    per_head = head_cost(s.d_model, s.d_kv) * (2 if cross_attention else 1)
    per_unit = unit_cost(s.d_model, s.gated)
    full = s.num_heads * per_head + s.d_ff * per_unit
    heads = max(1, round(s.num_heads * (1 - sparsity)))
    d_ff = max(1, round((full * (1 - sparsity) - heads * per_head) / per_unit))
    reached = 1 - (heads * per_head + d_ff * per_unit) / full
    return heads, d_ff, reached


def build_layer(
    s: Shape | str,
    *,
    num_heads: int,
    d_ff: int,
    decoder: bool,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> T5Block:
    """One T5 layer (self-attention + FFN; with ``decoder=True`` also cross-attention), eval mode.

    The layer is built like layers 1..n-1 of a stack: it receives the relative position bias instead
    of computing it, so timing it times one layer and nothing else.
    """
    s = shape(s) if isinstance(s, str) else s
    torch.manual_seed(seed)
    config = t5_config(s, num_heads=num_heads, d_ff=d_ff)
    config.is_decoder = decoder
    config.use_cache = False
    config._attn_implementation = "sdpa"  # what a full model uses by default
    return T5Block(config, has_relative_attention_bias=False, layer_idx=0).to(device).eval()


def load(name_or_path: str, **kwargs):
    """``AutoModelForSeq2SeqLM.from_pretrained`` with errors that say what to do: offline, or for a model type
    transformers does not know (compacted models, ``nash_t5`` / ``nash_bart``, are registered by ``import nashlib``,
    which this module's import has done; transformers' own message would suggest upgrading transformers)."""
    try:
        return AutoModelForSeq2SeqLM.from_pretrained(name_or_path, **kwargs)
    except OSError as err:
        raise OSError(
            f"could not load model {name_or_path!r} from a local folder or the Hugging Face hub "
            f"({err.__class__.__name__}: {str(err).splitlines()[0]}). Without internet, pass the path "
            "of a folder written by save_pretrained, or use the 'cpu' profile, which needs no hub."
        ) from err
    except ValueError as err:
        found = re.search(r"model type `([^`]*)` but Transformers does not recognize", str(err))
        if found is None:
            raise
        raise ValueError(
            f"{name_or_path}: model type {found.group(1)!r} is known neither to transformers nor to nashlib; "
            f"models compacted by nashlib load after `import nashlib`, which registers {', '.join(NASH_TYPES)}. "
            "A newer nashlib may know this type.") from err


def empty_cache() -> EncoderDecoderCache:
    """An empty encoder-decoder KV cache to pass to ``generate(cache=...)``.

    transformers 5.x sizes the cache it creates itself from the config's *encoder* depth, which
    raises an IndexError when the decoder is deeper than the encoder; an explicit empty cache grows
    per layer and gives the same tokens.
    """
    return EncoderDecoderCache(DynamicCache(), DynamicCache())


def count_parameters(module: nn.Module, *, exclude_embeddings: bool = True) -> int:
    """Parameters of ``module`` (each shared tensor once), token embeddings and LM head excluded by default.

    Every embedding table with a row per vocabulary entry counts as a token embedding, so a view
    whose encoder comes from another model (``share_view``) does not count that model's table.
    """
    seen, total, skip = set(), 0, set()
    if exclude_embeddings:
        vocab = getattr(getattr(module, "config", None), "vocab_size", None)
        out = module.get_output_embeddings() if hasattr(module, "get_output_embeddings") else None
        for m in module.modules():
            if isinstance(m, nn.Embedding) and m.num_embeddings == vocab or m is out:
                skip.add(id(m.weight))
    for p in module.parameters():
        if id(p) in seen or id(p) in skip:
            continue
        seen.add(id(p))
        total += p.numel()
    return total
