"""Decoding paths side by side: one model, the same inputs, four ways to run its beam search.

- ``stock``: transformers' ``generate()`` (the paper's protocol);
- ``fast``: :mod:`nashlib.speed.fastgen`, no copies of the cross-attention cache at each beam reorder;
- ``grouped``: :mod:`nashlib.speed.grouped`, the cross-attention keys and values computed and stored once per
  example, its beams folded into the query axis;
- ``ctranslate2``: the same weights converted to CTranslate2 float32 (:mod:`nashlib.speed.ct2`), for the dense
  shapes it can represent (the reason is recorded for the others).

:func:`path_calls` makes one no-argument call per model x path (named ``"model / path"``, forced to
``new_tokens`` tokens, as every random-weight timing is); :func:`agreement` runs each once and compares its
tokens with the same model's stock tokens (fast and grouped must be identical; CTranslate2's beam search is
another implementation, so its agreement is reported); :func:`compare` turns the timed samples
(:func:`nashlib.speed.timing.measure`) into one row per call with its speedup over the same model's stock call
and over the teacher's stock call, paired within each round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import torch

from nashlib.speed import ct2, grouped, timing

__all__ = ["PATHS", "PathCalls", "path_calls", "grouped_call", "ct2_call", "agreement", "compare", "versus_ct2",
           "bars"]

PATHS = ("stock", "fast", "grouped", "ctranslate2")


@dataclass
class PathCalls:
    """The calls to time (``"model / path"`` -> call), their model and path, and the paths left out, with why."""

    calls: dict[str, Callable[[], torch.Tensor]] = field(default_factory=dict)
    meta: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (model, path)
    skipped: dict[str, str] = field(default_factory=dict)  # "model / path" -> why it was not run


def grouped_call(model, inputs: dict[str, torch.Tensor], *, new_tokens: int, beams: int) -> Callable[[], torch.Tensor]:
    """Like :func:`nashlib.speed.timing.generation_call` on the grouped path; raises if a guard fell back, so
    a timing of the grouped path is one."""
    batch = inputs["input_ids"].shape[0]

    def call() -> torch.Tensor:
        cache = grouped.grouped_cache(beams)
        with torch.inference_mode(), grouped.grouped_modules(model):
            out = model.generate(**inputs, num_beams=beams, do_sample=False, min_new_tokens=new_tokens,
                                 max_new_tokens=new_tokens, cache=cache)
        if cache.fallback is not None:
            raise RuntimeError(f"the grouped cache fell back to the stock path: {cache.fallback}")
        assert out.shape == (batch, new_tokens + 1), f"expected {(batch, new_tokens + 1)}, got {tuple(out.shape)}"
        return out  # (B, 1 + new tokens)

    return call


def ct2_call(model, inputs: dict[str, torch.Tensor], *, new_tokens: int, beams: int,
             threads: int) -> Callable[[], torch.Tensor]:
    """The model converted to CTranslate2 (once, here, untimed) and a call that decodes ``inputs`` with it."""
    tr = ct2.translator(model, threads=threads)
    start = torch.zeros(inputs["input_ids"].shape[0], 1, dtype=torch.long)  # (B, 1): T5's decoder start (pad)

    def call() -> torch.Tensor:
        out = ct2.generate(tr, inputs["input_ids"], inputs.get("attention_mask"), num_beams=beams,
                           max_new_tokens=new_tokens, min_new_tokens=new_tokens)
        return torch.cat([start, out], dim=1)  # (B, 1 + new tokens), laid out as generate()'s

    return call


def path_calls(models: dict, inputs: dict[str, torch.Tensor], *, new_tokens: int, beams: int, threads: int,
               paths=PATHS) -> PathCalls:
    """One call per model x path (see the module docstring); CTranslate2 only where it can represent the model."""
    unknown = [p for p in paths if p not in PATHS]
    if unknown or "stock" not in paths:
        raise ValueError(f"paths={list(paths)!r}; allowed: 'stock' and any of {', '.join(PATHS[1:])}")
    out = PathCalls()
    for name, model in models.items():
        for path in paths:
            key = f"{name} / {path}"
            why = ct2.unsupported(model) if path == "ctranslate2" else None
            if why is not None:
                out.skipped[key] = why
                continue
            if path == "grouped":
                out.calls[key] = grouped_call(model, inputs, new_tokens=new_tokens, beams=beams)
            elif path == "ctranslate2":
                out.calls[key] = ct2_call(model, inputs, new_tokens=new_tokens, beams=beams, threads=threads)
            else:
                out.calls[key] = timing.generation_call(model, inputs, new_tokens=new_tokens, beams=beams,
                                                        fast=path == "fast")
            out.meta[key] = (name, path)
    return out


def agreement(pc: PathCalls) -> dict[str, float]:
    """``{"model / path": fraction of generated tokens equal to the same model's stock tokens}`` (each call run
    once: this pass is also a warm-up)."""
    tokens = {key: call() for key, call in pc.calls.items()}
    out = {}
    for key, (model, _) in pc.meta.items():
        ref, got = tokens[f"{model} / stock"][:, 1:], tokens[key][:, 1:]  # (B, new tokens)
        out[key] = float((ref == got).float().mean()) if ref.shape == got.shape else float("nan")
    return out


def compare(samples: pd.DataFrame, pc: PathCalls, agree: dict[str, float], *, teacher: str) -> pd.DataFrame:
    """One row per timed call: model, path, median seconds and spread, speedup over the same model's stock call
    (``x_own_stock``) and over the teacher's stock call (``x_teacher_stock``), both paired within each round, and
    the token agreement with the same model's stock call."""
    summary = timing.summarize(samples).set_index("config")
    vs_teacher = timing.speedups(samples, f"{teacher} / stock").set_index("config")
    rows = []
    for key, (model, path) in pc.meta.items():
        own = timing.speedups(samples, f"{model} / stock").set_index("config")
        rows.append(dict(model=model, path=path, wall_median_s=summary.wall_median_s[key],
                         spread=summary.spread[key], x_own_stock=own.speedup[key],
                         x_teacher_stock=vs_teacher.speedup[key], same_tokens=agree[key]))
    return pd.DataFrame(rows)


def versus_ct2(table: pd.DataFrame) -> pd.DataFrame:
    """Per case and model that CTranslate2 ran: our fastest path, its seconds, CTranslate2's, and ``ct2_over_ours``
    (CTranslate2's median time / ours: 1 or more means ours is no slower). ``table``: :func:`compare`'s rows with
    a ``case`` column."""
    rows = []
    for (case, model), g in table.groupby(["case", "model"], sort=False):
        g = g.set_index("path")
        if "ctranslate2" not in g.index:
            continue
        ours, theirs = g.drop(index="ctranslate2").wall_median_s, g.wall_median_s["ctranslate2"]
        rows.append(dict(case=case, model=model, best_path=ours.idxmin(), best_s=ours.min(), ct2_s=theirs,
                         ct2_over_ours=theirs / ours.min(),
                         ct2_same_tokens=g.same_tokens["ctranslate2"]))
    return pd.DataFrame(rows)


def bars(ax, table: pd.DataFrame, *, teacher: str, title: str) -> None:
    """Speedup of every model x path against the teacher's stock call (one case of :func:`compare`'s rows)."""
    models = list(dict.fromkeys(table.model))
    found = [p for p in PATHS if p in set(table.path)]
    width = 0.8 / len(found)
    for j, path in enumerate(found):
        sub = table[table.path == path].set_index("model")
        xs = [i + (j - (len(found) - 1) / 2) * width for i, m in enumerate(models) if m in sub.index]
        ax.bar(xs, [sub.x_teacher_stock[m] for m in models if m in sub.index], width, label=path)
    ax.axhline(1, color="black", lw=0.8)
    ax.set(xticks=range(len(models)), xticklabels=models, ylabel=f"speedup vs stock {teacher} (x)", title=title)
    ax.legend(fontsize=7)
