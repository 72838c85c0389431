"""Where masks act on stock Hugging Face modules, and how much each mask is worth in parameters.

No modeling file is copied. The architecture adapter (:mod:`nashlib.arch`) lists, per layer, the
attention blocks (their q, k, v, o projections) and FFNs (their input and output projections) of the
library's own modules. :class:`PruningMasks` then acts through forward hooks:

- heads: a pre-hook on the output projection ``o`` scales each head's slice of its input, (B, T, H*d_kv);
- FFN units: a pre-hook on the FFN's output projection scales its input, (B, T, d_ff);
- whole attention or FFN sublayers (CoFi): a hook on the same projection scales its output;
- hidden dimensions (CoFi, T5 only): hooks scale the token embeddings and every sublayer's output, so
  the residual stream is zero in a pruned dimension.

Masks are drawn once per forward pass of the whole model (so encoder and decoder see one sample) and
are deterministic in eval mode. Sparsity is counted from the model's real shapes with the adapter's
costs: a head costs ``4 * d_model * d_kv``, an FFN unit ``2 * d_model`` (``3 * d_model`` when gated);
with a hidden mask each of those scales with the kept share of ``d_model``. Embeddings are not
counted, as in the paper.

Two choices the paper's text leaves open (it states neither) follow the released code (NASH's and
CoFi's ``models/l0_module.py``) by default; this library's earlier behaviour is one named option away:

- ``init="released"``: heads, whole sublayers, whole layers and hidden dimensions start at
  ``log_alpha`` ``open_log_alpha`` (10: almost surely kept) and only FFN units at the drop-rate init
  (``droprate_init`` 0.5 -> ``log_alpha`` 0), so only FFN units add to the expected sparsity at step 0:
  their share times ``Q(z <= 0) = 0.168``, 0.11 (NASH) and 0.10 (CoFi-T5) on the tiny shape.
  ``init="droprate"`` (the earlier behaviour) starts heads and hidden dimensions at the drop rate too
  (whole-sublayer and layer masks stay at ``open_log_alpha``): expected sparsity 0.17 (NASH) and 0.31
  (CoFi-T5) at step 0 with target 0, and each CoFi step drops every hidden dimension with probability
  0.17.
- ``deterministic="per_layer"``: the evaluation mask's count rule (:mod:`.hardconcrete`) is applied
  per layer: the heads or FFN units of each layer, and each whole sublayer on its own (closed when
  ``P(z > 0) < 1/2``). ``deterministic="global"`` (the earlier behaviour) ranks all layers' units of a
  mask together. The hidden mask is one vector shared by all layers and a whole-layer mask is a
  selection among one part's layers (its count is what :class:`~.constraints.LayerCount` steers), so
  both are one group under either rule: there per_layer and global coincide. As ``clamp_`` keeps
  ``P(z > 0) >= 0.047``, the per-layer count keeps at least ``round(0.047 * d_ff)`` FFN units in every
  layer (the released code too); only a whole-FFN mask (``ffn_layer``) closes a layer's FFN.
"""

from __future__ import annotations

import torch
from torch import nn

from nashlib.arch import PARTS, Attn, FFN, arch_of
from nashlib.pruning.hardconcrete import HardConcrete

__all__ = ["DETERMINISTIC", "INITS", "MASK_TYPES", "PruningMasks"]


# mask type -> (unit, description). NASH uses heads + ffn_units on the encoder; CoFi uses all.
MASK_TYPES = {
    "heads": "attention heads (self- and cross-attention)",
    "ffn_units": "FFN intermediate units",
    "mha_layer": "whole attention sublayers",
    "ffn_layer": "whole FFN sublayers",
    "hidden": "hidden dimensions (shared by every layer; T5 only)",
    "layer": "whole layers (binary at evaluation; T5 only): learned layer selection",
}
INITS = ("released", "droprate")  # initial log_alpha: see the module docstring
DETERMINISTIC = ("per_layer", "global")  # groups of the evaluation mask's count rule
_AT_DROPRATE = {"released": ("ffn_units",), "droprate": ("ffn_units", "heads", "hidden")}


class PruningMasks(nn.Module):
    """Hard-concrete masks of the chosen ``types`` on the chosen ``parts`` of ``model``, applied by hooks.

    ``parts``: "encoder", "decoder" or both. Keys of :attr:`masks` are ``"{part}_{block}_{type}"``
    (block: self, cross, ffn) and ``"hidden"``. Use as a context manager or call :meth:`attach` /
    :meth:`detach`; the model's own modules are not replaced.
    """

    def __init__(self, model: nn.Module, *, types=("heads", "ffn_units"), parts=("encoder",),
                 init: str = "released", deterministic: str = "per_layer", droprate_init: float = 0.5,
                 open_log_alpha: float = 10.0):
        super().__init__()
        types, parts = tuple(types), tuple(parts)
        _check_options(types, parts, init, deterministic, droprate_init)
        self.arch = arch_of(model)
        if self.arch.compacted:
            raise ValueError(f"masks go on a dense model (model type 't5' or 'bart'), not on a compacted "
                             f"{self.arch.name!r}")
        if "hidden" in types and self.arch.family != "t5":
            raise ValueError(
                f"mask type 'hidden' is supported on T5 only; got model type {self.arch.name!r}. BART is "
                f"post-LayerNorm (LayerNorm(x + sublayer(x))): a pruned hidden dimension does not stay zero "
                f"through the residual and the LayerNorm's mean, variance and bias, so compaction could not "
                f"be exact. On BART drop 'hidden' from the types (heads, ffn_units, mha_layer, ffn_layer "
                f"work there), or prune a T5")
        if "layer" in types and self.arch.family != "t5":
            raise ValueError(f"mask type 'layer' is supported on T5 only (pre-norm residual blocks make it "
                             f"exact to compact there); got model type {self.arch.name!r}")
        self.types, self.parts = types, parts
        self.init, self.deterministic_rule = init, deterministic
        self.droprate_init, self.open_log_alpha = droprate_init, open_log_alpha
        self.model_ref = [model]  # not a submodule: masks are saved on their own
        self.masks = nn.ModuleDict()
        self._build()
        self._z: dict[str, torch.Tensor] | None = None
        self._handles = []

    def _build(self) -> None:
        """One :class:`HardConcrete` per (part, block, type), in a fixed order (the seed's noise follows it)."""
        types = self.types
        for part in self.parts:
            for block, refs in self.arch.blocks[part].items():
                n_layers = len(refs)
                if block == "ffn":
                    if "ffn_units" in types:
                        units = {r.width for r in refs}
                        if len(units) != 1:
                            raise ValueError(f"{part} FFNs differ in width {sorted(units)}: mask a dense model")
                        width = units.pop()
                        self._new(f"{part}_ffn_ffn_units", "ffn_units", n_layers * width, width)
                    if "ffn_layer" in types:
                        self._new(f"{part}_ffn_ffn_layer", "ffn_layer", n_layers, 1)
                else:
                    if "heads" in types:
                        self._new(f"{part}_{block}_heads", "heads", n_layers * refs[0].n_heads, refs[0].n_heads)
                    if "mha_layer" in types:
                        self._new(f"{part}_{block}_mha_layer", "mha_layer", n_layers, 1)
        if "hidden" in types:
            self._new("hidden", "hidden", self.arch.d_model, None)
        if "layer" in types:
            for part in self.parts:
                self._new(f"{part}_layer", "layer", self.arch.depth(part), None)

    def _new(self, key: str, kind: str, n: int, per_layer: int | None) -> None:
        """Mask ``key`` of ``n`` units; ``per_layer``: units per layer (the per-layer rule's group), None for
        masks that are one group under either rule (hidden, whole layers)."""
        group = per_layer if self.deterministic_rule == "per_layer" else None
        if kind in _AT_DROPRATE[self.init]:
            self.masks[key] = HardConcrete(n, droprate_init=self.droprate_init, group=group, name=key)
        else:
            self.masks[key] = HardConcrete(n, init_log_alpha=self.open_log_alpha, group=group, name=key)

    def moved_to(self, model: nn.Module) -> "PruningMasks":
        """The same masks (types, parts, options, learned ``log_alpha``) on another model of the same widths,
        e.g. the student after its layers were removed."""
        out = PruningMasks(model, types=self.types, parts=self.parts, init=self.init,
                           deterministic=self.deterministic_rule, droprate_init=self.droprate_init,
                           open_log_alpha=self.open_log_alpha)
        out.load_state_dict(self.state_dict())
        return out.train(self.training)

    # -- drawing masks ---------------------------------------------------------------------------
    def z(self, key: str) -> torch.Tensor | None:
        """The current mask for ``key`` (drawn once per model forward), or None if absent."""
        if key not in self.masks:
            return None
        if self._z is None:
            self._z = {}
            for k, m in self.masks.items():
                z = m()
                if (k == "hidden" or k.endswith("_layer") and k.count("_") == 1) and not self.training:
                    z = (z > 0).to(z.dtype)  # binary at evaluation: see compact.py and _hook_layer
                self._z[k] = z
        return self._z[key]

    def fresh(self) -> None:
        """Forget the current draw; the next forward pass draws new masks."""
        self._z = None

    def deterministic(self) -> dict[str, torch.Tensor]:
        """Evaluation masks of every key, independent of the module's mode."""
        was = self.training
        self.eval()
        self.fresh()
        out = {k: self.z(k).detach().clone() for k in self.masks}
        self.fresh()
        self.train(was)
        return out

    def clamp_(self) -> None:
        for m in self.masks.values():
            m.clamp_()

    # -- hooks ---------------------------------------------------------------------------------
    def _layer_z(self, part, block, kind, layer, per_layer):
        z = self.z(f"{part}_{block}_{kind}")
        return None if z is None else z.view(-1, per_layer)[layer] if per_layer else z[layer]

    def attach(self) -> "PruningMasks":
        if self._handles:
            return self
        model = self.model_ref[0]
        self._handles.append(model.register_forward_pre_hook(lambda m, a: self.fresh()))
        hidden = "hidden" in self.masks
        if hidden:
            for emb in self.arch.embeddings:
                self._handles.append(emb.register_forward_hook(lambda m, a, out: out * self.z("hidden")))
        for part in self.parts:
            for block, refs in self.arch.blocks[part].items():
                for layer, ref in enumerate(refs):
                    if block == "ffn":
                        self._hook_ffn(part, layer, ref, hidden)
                    else:
                        self._hook_attn(part, block, layer, ref, hidden)
        for part in self.parts:
            if f"{part}_layer" in self.masks:
                for layer, module in enumerate(self.arch.layer_modules[part]):
                    self._hook_layer(part, layer, module)
        if hidden:  # sublayer outputs of parts without other masks must be masked too
            for part in PARTS:
                if part in self.parts:
                    continue
                for refs in self.arch.blocks[part].values():
                    for ref in refs:
                        self._handles.append(ref.output.register_forward_hook(lambda m, a, o: o * self.z("hidden")))
        return self

    def _hook_layer(self, part, layer, module):
        """A whole block: out = x + z * (block(x) - x); z is binary at evaluation, so a closed block is
        skipped exactly (a scale could not be folded into a block's several residual additions)."""
        inputs = {}

        def pre(m, args):
            inputs["x"] = args[0]

        def post(m, args, out):
            z = self.z(f"{part}_layer")[layer]
            x = inputs.pop("x")
            return (x + z * (out[0] - x), *out[1:])

        self._handles.append(module.register_forward_pre_hook(pre))
        self._handles.append(module.register_forward_hook(post))

    def _hook_attn(self, part, block, layer, ref: Attn, hidden: bool):
        H, d = ref.n_heads, ref.d_head

        def pre(module, args):
            z = self._layer_z(part, block, "heads", layer, H)
            if z is None:
                return None
            x = args[0]
            x = (x.view(*x.shape[:-1], H, d) * z[:, None]).view(x.shape)  # (B, T, H, d_kv) scaled per head
            return (x, *args[1:])

        def post(module, args, out):
            z = self._layer_z(part, block, "mha_layer", layer, None)
            if z is not None:
                out = out * z
            return out * self.z("hidden") if hidden else out

        self._handles.append(ref.o.register_forward_pre_hook(pre))
        self._handles.append(ref.o.register_forward_hook(post))

    def _hook_ffn(self, part, layer, ref: FFN, hidden: bool):
        units = ref.width

        def pre(module, args):
            z = self._layer_z(part, "ffn", "ffn_units", layer, units)
            return None if z is None else (args[0] * z, *args[1:])  # (B, T, d_ff) scaled per unit

        def post(module, args, out):
            z = self._layer_z(part, "ffn", "ffn_layer", layer, None)
            if z is not None:
                out = out * z
            return out * self.z("hidden") if hidden else out

        self._handles.append(ref.output.register_forward_pre_hook(pre))
        self._handles.append(ref.output.register_forward_hook(post))

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self.fresh()

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc):
        self.detach()
        return False

    # -- sparsity --------------------------------------------------------------------------------
    def _sizes(self, z: dict[str, torch.Tensor] | None) -> dict[str, tuple[torch.Tensor, float]]:
        """(kept prunable parameters, full prunable parameters) per part; expected when ``z`` is None."""

        def get(key):
            if key not in self.masks:
                return None
            return self.masks[key].prob_nonzero() if z is None else (z[key] > 0).float()

        D = self.arch.d_model
        hid = get("hidden")
        d_kept = hid.sum() if hid is not None else torch.tensor(float(D))
        out = {}
        for part in PARTS:
            kept, full = torch.zeros(()), 0.0
            mine = part in self.parts
            whole = get(f"{part}_layer") if mine else None
            for block, refs in self.arch.blocks[part].items():
                n, W, ref = len(refs), refs[0].width, refs[0]  # every layer of a dense model alike
                unit_key, layer_key = _keys(part, block)
                full += ref.cost(n * W, D)
                u = get(unit_key) if mine else None
                layer_z = get(layer_key) if mine else None
                per_layer = u.view(n, W).sum(1) if u is not None else torch.full((n,), float(W))  # (n,) kept units
                if layer_z is not None:
                    per_layer = per_layer * layer_z
                if whole is not None:
                    per_layer = per_layer * whole
                kept = kept + ref.cost(per_layer.sum(), d_kept)
            out[part] = (kept, full)
        return out

    def expected_sparsity(self, scope: str = "encoder") -> torch.Tensor:
        """Differentiable expected sparsity of ``scope`` ("encoder", "decoder" or "model")."""
        return _sparsity(self._sizes(None), scope)

    def sparsity_report(self, full_sizes: dict[str, float] | None = None) -> dict[str, float]:
        """Expected and actual (deterministic) sparsity of encoder, decoder and whole model."""
        with torch.no_grad():
            exp, act = self._sizes(None), self._sizes(self.deterministic())
        report = {}
        for scope in ("encoder", "decoder", "model"):
            report[f"{scope}_expected"] = float(_sparsity(exp, scope, full_sizes))
            report[f"{scope}_actual"] = float(_sparsity(act, scope, full_sizes))
        return report

    def expected_layers(self, part: str = "decoder") -> torch.Tensor:
        """Differentiable expected number of kept layers of ``part`` (needs the 'layer' mask type)."""
        if f"{part}_layer" not in self.masks:
            raise ValueError(f"no layer mask on the {part}; add mask type 'layer' and part {part!r}")
        return self.masks[f"{part}_layer"].expected_kept()

    def full_sizes(self) -> dict[str, float]:
        return {part: full for part, (_, full) in self._sizes(None).items()}


def _check_options(types, parts, init, deterministic, droprate_init) -> None:
    for t in types:
        if t not in MASK_TYPES:
            raise ValueError(f"unknown mask type {t!r}; allowed: {', '.join(MASK_TYPES)}")
    for p in parts:
        if p not in PARTS:
            raise ValueError(f"unknown part {p!r}; allowed: 'encoder', 'decoder'")
    if init not in INITS:
        raise ValueError(f"init={init!r}; allowed: {', '.join(map(repr, INITS))}")
    if deterministic not in DETERMINISTIC:
        raise ValueError(f"deterministic={deterministic!r}; allowed: {', '.join(map(repr, DETERMINISTIC))}")
    if isinstance(droprate_init, bool) or not isinstance(droprate_init, (int, float)) or not 0 < droprate_init < 1:
        raise ValueError(f"droprate_init={droprate_init!r}; allowed: 0 < droprate_init < 1")


def _keys(part, block):
    """Mask keys of a block's units and of the whole block."""
    if block == "ffn":
        return f"{part}_ffn_ffn_units", f"{part}_ffn_ffn_layer"
    return f"{part}_{block}_heads", f"{part}_{block}_mha_layer"


def _sparsity(sizes, scope, full_sizes=None):
    parts = PARTS if scope == "model" else (scope,)
    if scope not in ("encoder", "decoder", "model"):
        raise ValueError(f"scope={scope!r}; allowed: 'encoder', 'decoder', 'model'")
    kept = sum(sizes[p][0] for p in parts)
    full = sum((full_sizes or {}).get(p, sizes[p][1]) for p in parts)
    return 1 - kept / full
