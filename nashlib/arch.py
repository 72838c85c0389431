"""The architecture adapter: where an encoder-decoder model keeps its blocks, and what each prunable unit costs.

Every pruning module asks :func:`arch_of` where the encoder and decoder layers, their attention blocks
(q, k, v, o projections), FFNs (input and output projections), embeddings and T5's relative position
bias are, and how many parameters a head or an FFN unit is worth; none of them reads
``model.encoder.block`` or ``model.model.decoder.layers`` itself. Supported: T5 v1.0 (relu FFN),
T5 v1.1 / Flan-T5 (gated FFN), BART, and their compacted forms (``nash_t5``, ``nash_bart``).

Costs count weights only (no biases), as the paper does: a head costs ``4 * d_model * d_kv`` per
attention block (its rows of q, k, v and its columns of o), an FFN unit ``2 * d_model`` (a row of the
input projection and a column of the output one), ``3 * d_model`` when gated (two input projections).
Hidden-dimension pruning scales every cost with the kept ``d_model``, so the costs take it as an
argument, and may be given tensors (expected counts) as well as integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

__all__ = ["PARTS", "Attn", "FFN", "Arch", "arch_of", "head_cost", "unit_cost", "set_position_bias", "SUPPORTED"]

PARTS = ("encoder", "decoder")


def head_cost(d_model, d_head, heads=1):
    """Weights of ``heads`` attention heads: each has d_head rows of q, k, v and d_head columns of o.

    ``heads`` and ``d_model`` may be tensors (expected counts); the products run left to right, the
    order the sparsity accounting has always used, so float results do not change."""
    return heads * 4 * d_head * d_model


def unit_cost(d_model, gated: bool, units=1):
    """Weights of ``units`` FFN units: an input row (two when gated) and an output column of d_model each."""
    return units * (3 if gated else 2) * d_model


@dataclass
class Attn:
    q: nn.Linear  # (d_model -> n_heads * d_head)
    k: nn.Linear
    v: nn.Linear
    o: nn.Linear  # (n_heads * d_head -> d_model)
    n_heads: int
    d_head: int
    module: nn.Module  # the attention module itself

    @property
    def output(self) -> nn.Linear:
        return self.o

    @property
    def width(self) -> int:
        """Prunable units: heads."""
        return self.n_heads

    @property
    def d_model(self) -> int:
        return self.o.out_features

    def cost(self, heads=None, d_model=None):
        """Weights of ``heads`` heads (default: all) at hidden size ``d_model`` (default: the model's)."""
        return head_cost(self.d_model if d_model is None else d_model, self.d_head,
                         self.n_heads if heads is None else heads)


@dataclass
class FFN:
    inputs: list[nn.Linear]  # wi, or wi_0 and wi_1 (gated), or fc1; each (d_model -> d_ff)
    output: nn.Linear  # wo or fc2, (d_ff -> d_model)
    module: nn.Module  # the module holding the projections (T5: DenseReluDense; BART: the layer)

    @property
    def gated(self) -> bool:
        return len(self.inputs) == 2

    @property
    def width(self) -> int:
        """Prunable units: d_ff."""
        return self.output.in_features

    @property
    def d_model(self) -> int:
        return self.output.out_features

    def cost(self, units=None, d_model=None):
        """Weights of ``units`` FFN units (default: all) at hidden size ``d_model`` (default: the model's)."""
        return unit_cost(self.d_model if d_model is None else d_model, self.gated,
                         self.width if units is None else units)


@dataclass
class Arch:
    """An encoder-decoder model seen as lists of layers; ``blocks[part][kind][layer]``.

    ``kind`` is "self", "cross" (decoder only) or "ffn"; an FFN is None where compaction removed the
    whole sublayer. ``layer_modules[part]`` are the layers themselves (T5Block, BartEncoderLayer...).
    """

    name: str  # config.model_type
    family: str  # "t5" or "bart"
    config: object  # the model's config
    d_model: int
    embeddings: list[nn.Module]  # token embedding modules whose outputs the hidden mask scales
    stacks: dict[str, nn.Module]  # part -> T5Stack / BartEncoder / BartDecoder
    list_attr: str  # name of a stack's nn.ModuleList of layers
    depth_keys: dict[str, str]  # part -> config attribute counting its layers
    stack_depth_key: str | None = None  # T5 stacks hold a config copy of their own that counts layers too
    blocks: dict[str, dict[str, list]] = field(default_factory=dict)
    layer_modules: dict[str, list[nn.Module]] = field(default_factory=dict)

    @property
    def compacted(self) -> bool:
        """True for ``nash_t5`` / ``nash_bart``: layers may differ in width, some sublayers are gone."""
        return self.name != self.family

    def depth(self, part: str) -> int:
        return len(self.layer_modules[part])

    def stack(self, part: str) -> tuple[nn.Module, str]:
        """The stack of ``part`` and the attribute name of its nn.ModuleList of layers."""
        return self.stacks[part], self.list_attr

    def attentions(self, part: str, layer: int) -> dict[str, Attn]:
        """The attention blocks of one layer: {"self": ...} and, in the decoder, "cross"."""
        return {kind: refs[layer] for kind, refs in self.blocks[part].items() if kind != "ffn"}

    def set_depth(self, part: str, n: int) -> None:
        """Record that ``part`` now has ``n`` layers, in the config (and T5's per-stack config)."""
        setattr(self.config, self.depth_keys[part], n)
        if self.stack_depth_key is not None:
            setattr(self.stacks[part].config, self.stack_depth_key, n)

    def position_bias(self, part: str) -> nn.Embedding | None:
        """T5's relative position bias table, kept in layer 0's self-attention and shared by every later
        layer (see :func:`set_position_bias`); None for BART (learned absolute positions)."""
        if self.family != "t5" or not self.layer_modules[part]:
            return None
        first = self.blocks[part]["self"][0].module
        return first.relative_attention_bias if first.has_relative_attention_bias else None


def set_position_bias(attn: nn.Module, table: nn.Embedding | None) -> None:
    """Make T5 attention ``attn`` compute the position bias from ``table`` (the first layer of a stack
    does; the others receive it), or, with None, receive it from the layer before."""
    if table is not None:
        attn.has_relative_attention_bias, attn.relative_attention_bias = True, table
    elif attn.has_relative_attention_bias:
        attn.has_relative_attention_bias = False
        del attn.relative_attention_bias


def _t5_attn(a) -> Attn:
    return Attn(a.q, a.k, a.v, a.o, a.n_heads, a.key_value_proj_dim, a)


def _t5_arch(model) -> Arch:
    stacks = {"encoder": model.encoder, "decoder": model.decoder}
    arch = Arch(model.config.model_type, "t5", model.config, model.config.d_model,
                [model.encoder.embed_tokens, model.decoder.embed_tokens], stacks, "block",
                {"encoder": "num_layers", "decoder": "num_decoder_layers"}, "num_layers")
    for part, stack in stacks.items():
        kinds = {"self": [], "cross": [], "ffn": []}
        for block in stack.block:  # block.layer: self-attention, (cross-attention,) FFN sublayers
            kinds["self"].append(_t5_attn(block.layer[0].SelfAttention))
            if part == "decoder":
                kinds["cross"].append(_t5_attn(block.layer[1].EncDecAttention))
            ff = getattr(block.layer[-1], "DenseReluDense", None)  # None: sublayer removed by compaction
            ins = None if ff is None else [ff.wi_0, ff.wi_1] if hasattr(ff, "wi_0") else [ff.wi]
            kinds["ffn"].append(None if ff is None else FFN(ins, ff.wo, ff))
        if part == "encoder":
            del kinds["cross"]
        arch.blocks[part] = kinds
        arch.layer_modules[part] = list(stack.block)
    return arch


def _bart_attn(a) -> Attn:
    return Attn(a.q_proj, a.k_proj, a.v_proj, a.out_proj, a.num_heads, a.head_dim, a)


def _bart_arch(model) -> Arch:
    inner = model.model
    stacks = {"encoder": inner.encoder, "decoder": inner.decoder}
    arch = Arch(model.config.model_type, "bart", model.config, model.config.d_model,
                [inner.encoder.embed_tokens, inner.decoder.embed_tokens], stacks, "layers",
                {"encoder": "encoder_layers", "decoder": "decoder_layers"})
    for part, stack in stacks.items():
        kinds = {"self": [], "cross": [], "ffn": []}
        for layer in stack.layers:
            kinds["self"].append(_bart_attn(layer.self_attn))
            if part == "decoder":
                kinds["cross"].append(_bart_attn(layer.encoder_attn))
            kinds["ffn"].append(FFN([layer.fc1], layer.fc2, layer))
        if part == "encoder":
            del kinds["cross"]
        arch.blocks[part] = kinds
        arch.layer_modules[part] = list(stack.layers)
    return arch


_ARCHS = {"t5": _t5_arch, "nash_t5": _t5_arch, "bart": _bart_arch, "nash_bart": _bart_arch}
SUPPORTED = tuple(sorted(_ARCHS))


def arch_of(model) -> Arch:
    """The adapter for ``model``; a ValueError naming the model type if it is not supported."""
    kind = getattr(getattr(model, "config", None), "model_type", None)
    if kind not in _ARCHS:
        raise ValueError(f"model type {kind!r} is not supported; supported: {', '.join(SUPPORTED)}")
    return _ARCHS[kind](model)
