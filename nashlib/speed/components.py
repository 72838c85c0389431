"""Where generation time goes, by model component (the paper's Figure 4).

Module hooks time every module's forward call. Time is *exclusive*: a module's own time minus the
time of its hooked children, so nothing is counted twice and the components add up to the time spent
inside the model. What ``generate()`` spends outside the model (beam search scores and bookkeeping,
logits processing, stopping checks) is the rest of the wall time; the beam-search reorder of the KV
cache is timed on its own by wrapping the method of the one cache object we pass in (nothing global is
patched). On a GPU every hook synchronises, which serialises the device: the profile then shows where
time goes, and the un-hooked runs measured beside it show what the hooks cost.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pandas as pd
import torch
from torch import nn
from transformers.models.t5 import modeling_t5 as t5

from nashlib.shapes import empty_cache
from nashlib.speed.fastgen import fast_cache
from nashlib.speed.timing import sync

__all__ = ["COMPONENTS", "component_map", "ComponentProfiler", "profile_generation", "shares", "shares_by",
           "profile_paths", "seconds_by"]

COMPONENTS = (
    "embedding",
    "layer norm",
    "dropout",
    "attention projections",
    "attention scores & softmax",
    "FFN",
    "LM head",
    "other model code",
    "beam cache reorder",
    "generation loop (search, logits)",
)


def component_map(model: nn.Module) -> dict[nn.Module, str]:
    """Assign every module of a T5 model whose own time we measure to a component."""
    comp: dict[nn.Module, str] = {}
    for module in model.modules():
        if isinstance(module, (t5.T5LayerNorm, nn.LayerNorm)):
            comp[module] = "layer norm"
        elif isinstance(module, nn.Dropout):
            comp[module] = "dropout"
        elif isinstance(module, t5.T5Attention):
            comp[module] = "attention scores & softmax"  # its own time: bias, scores, softmax, cache update
            for proj in (module.q, module.k, module.v, module.o):
                comp[proj] = "attention projections"
            if module.has_relative_attention_bias:
                comp[module.relative_attention_bias] = "attention scores & softmax"
        elif isinstance(module, (t5.T5DenseActDense, t5.T5DenseGatedActDense)):
            comp[module] = "FFN"
            for child in module.children():
                comp.setdefault(child, "FFN")
        elif isinstance(module, nn.Embedding):
            comp.setdefault(module, "embedding")  # the stacks' token embeddings (tied to model.shared)
        elif isinstance(module, (t5.T5Stack, t5.T5Block, t5.T5LayerSelfAttention, t5.T5LayerCrossAttention,
                                 t5.T5LayerFF)):
            comp[module] = "other model code"
    comp[model] = "other model code"
    if model.get_output_embeddings() is not None:
        comp[model.get_output_embeddings()] = "LM head"
    return comp


class ComponentProfiler:
    """Context manager: hooks on every mapped module, exclusive time per component."""

    def __init__(self, model: nn.Module, device: str | torch.device = "cpu"):
        self.model, self.device = model, torch.device(device)
        self.components = component_map(model)
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.model_seconds = 0.0  # time inside the model's outermost calls
        self._stack: list[list] = []  # [module, start, child_time]
        self._handles = []

    def _pre(self, module, args):
        sync(self.device)
        self._stack.append([module, time.perf_counter(), 0.0])

    def _post(self, module, args, output):
        sync(self.device)
        end = time.perf_counter()
        mod, start, child = self._stack.pop()
        assert mod is module, "unbalanced module hooks"
        total = end - start
        name = self.components[module]
        self.seconds[name] += total - child
        self.calls[name] += 1
        if self._stack:
            self._stack[-1][2] += total
        else:
            self.model_seconds += total

    def __enter__(self):
        for module in self.components:
            self._handles.append(module.register_forward_pre_hook(self._pre))
            self._handles.append(module.register_forward_hook(self._post))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self._stack.clear()
        return False


def profile_generation(model, inputs: dict[str, torch.Tensor], *, new_tokens: int, beams: int,
                       device: str | torch.device = "cpu", cache=None) -> dict[str, float]:
    """Seconds per component for one ``generate()`` call; keys are :data:`COMPONENTS` plus ``total``.

    ``cache``: an empty cache to generate with (default ``models.empty_cache()``, the stock reorder;
    ``fastgen.fast_cache(beams)`` profiles the fast path).
    """
    cache = empty_cache() if cache is None else cache
    reorder = cache.reorder_cache
    spent = {"beam cache reorder": 0.0}

    def timed_reorder(beam_idx):
        sync(device)
        t0 = time.perf_counter()
        reorder(beam_idx)
        sync(device)
        spent["beam cache reorder"] += time.perf_counter() - t0

    cache.reorder_cache = timed_reorder  # this cache object only
    with ComponentProfiler(model, device) as prof, torch.inference_mode():
        sync(device)
        t0 = time.perf_counter()
        out = model.generate(**inputs, num_beams=beams, do_sample=False, min_new_tokens=new_tokens,
                             max_new_tokens=new_tokens, cache=cache)
        sync(device)
        total = time.perf_counter() - t0
    assert out.shape[1] == new_tokens + 1, f"generated {out.shape[1] - 1} tokens, expected {new_tokens}"
    result = {name: prof.seconds.get(name, 0.0) for name in COMPONENTS}
    result["beam cache reorder"] = spent["beam cache reorder"]
    result["generation loop (search, logits)"] = total - prof.model_seconds - spent["beam cache reorder"]
    result["total"] = total
    return result


def shares(rows: list[dict[str, float]]) -> pd.DataFrame:
    """Median seconds and share of the total per component over several profiled calls."""
    df = pd.DataFrame(rows)
    med = df.median()
    total = med[list(COMPONENTS)].sum()
    return pd.DataFrame({"component": list(COMPONENTS),
                         "seconds": [med[c] for c in COMPONENTS],
                         "share": [med[c] / total for c in COMPONENTS]})


def shares_by(rows: list[dict], key: str, order=None) -> pd.DataFrame:
    """:func:`shares` for each value of ``rows[i][key]`` (e.g. a decoding mode), stacked; ``key`` first.

    ``order``: the values, in the order wanted (default: first seen in ``rows``).
    """
    frames = []
    for value in dict.fromkeys(r[key] for r in rows) if order is None else order:
        s = shares([{k: v for k, v in r.items() if k != key} for r in rows if r[key] == value])
        s.insert(0, key, value)
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


def profile_paths(model, inputs: dict[str, torch.Tensor], *, new_tokens: int, beams: int, repeats: int,
                  device: str | torch.device = "cpu") -> pd.DataFrame:
    """Component shares of ``generate()`` with the stock cache and with ``fastgen.fast_cache``.

    ``repeats`` profiled calls per path; one row per path x component (see :func:`shares_by`).
    """
    rows = []
    for path in ("stock", "fast"):
        for _ in range(repeats):
            cache = fast_cache(beams) if path == "fast" else empty_cache()
            r = profile_generation(model, inputs, new_tokens=new_tokens, beams=beams, device=device, cache=cache)
            rows.append(dict(path=path, **r))
    return shares_by(rows, "path")


def seconds_by(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Median seconds per component (rows, in :data:`COMPONENTS` order) x each value of ``key`` (columns)."""
    order = list(dict.fromkeys(table[key]))
    return table.pivot(index="component", columns=key, values="seconds").loc[list(COMPONENTS), order]
