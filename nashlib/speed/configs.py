"""Sets of shapes to time, and the timing runs the speed notebooks share.

- :func:`nash_family`: T5-base and NASH-*d* views (d full-width decoder layers, a narrow encoder).
- :func:`depth_width_grid`: every encoder width x decoder width x decoder depth (Finding 3.1).
- :func:`generation_calls`: one no-argument ``generate()`` call per shape, decoding mode and path
  (stock or fast), named ``"shape / mode / path"``, with a metadata row per call.
- :func:`same_tokens`: whether stock and fast calls give identical tokens (their first warm-up run).
- :func:`time_layer_widths`: one layer per width, timed at each sequence length (Figure 3).
"""

from __future__ import annotations

import pandas as pd
import torch

from nashlib import shapes as models
from nashlib.speed import timing

__all__ = ["nash_family", "depth_width_grid", "generation_calls", "same_tokens", "time_layer_widths",
           "relative_to_full"]


def nash_family(full, narrow, *, teacher: str, depths=(4, 3, 2)) -> dict:
    """``{teacher: full, "NASH-d": view}``: each view keeps ``d`` decoder layers of ``full`` and the
    encoder of ``narrow`` (weights shared, nothing copied)."""
    return {teacher: full} | {f"NASH-{d}": models.share_view(full, decoder_layers=d, encoder_from=narrow)
                              for d in depths}


def depth_width_grid(full, narrow, depths) -> tuple[dict, dict]:
    """Views ``"enc {full|narrow} / dec {full|narrow} x{d}"`` for every depth, and their metadata."""
    configs, meta = {}, {}
    for enc_name, enc_model in (("full", full), ("narrow", narrow)):
        for dec_name, dec_model in (("full", full), ("narrow", narrow)):
            for d in depths:
                name = f"enc {enc_name} / dec {dec_name} x{d}"
                configs[name] = models.share_view(dec_model, decoder_layers=d, encoder_from=enc_model)
                meta[name] = dict(encoder=enc_name, decoder=dec_name, decoder_layers=d)
    return configs, meta


def generation_calls(shapes: dict, inputs: dict[str, torch.Tensor], *, new_tokens: int, modes: dict[str, int],
                     paths=("stock", "fast")) -> tuple[dict, dict]:
    """``(calls, meta)`` for every shape x mode (name -> beams) x path, named ``"shape / mode / path"``."""
    calls, meta = {}, {}
    for shape_name, model in shapes.items():
        for mode, beams in modes.items():
            for path in paths:
                name = f"{shape_name} / {mode} / {path}"
                calls[name] = timing.generation_call(model, inputs, new_tokens=new_tokens, beams=beams,
                                                     fast=path == "fast")
                meta[name] = dict(shape=shape_name, mode=mode, path=path,
                                  decoder_layers=model.config.num_decoder_layers)
    return calls, meta


def same_tokens(calls: dict, shapes, modes) -> dict[tuple[str, str], bool]:
    """``{(shape, mode): stock tokens == fast tokens}``, running each stock and fast call once."""
    return {(s, m): bool(torch.equal(calls[f"{s} / {m} / stock"](), calls[f"{s} / {m} / fast"]()))
            for s in shapes for m in modes}


def time_layer_widths(shape, widths, *, seq_lens, batch: int, memory_len: int, warmup: int, repeats: int,
                      min_sample_s: float, seed: int, device="cpu") -> pd.DataFrame:
    """Milliseconds per call of one encoder and one decoder layer of each ``(heads, d_ff)`` width.

    At each sequence length all widths are timed in the same interleaved rounds
    (``timing.measure``, each sample looped to ``min_sample_s``). One row per kind x length x width.
    """
    rows = []
    for kind in ("encoder", "decoder"):
        layers = {(h, ff): models.build_layer(shape, num_heads=h, d_ff=ff, decoder=kind == "decoder", seed=seed)
                  for h, ff in widths}
        for seq_len in seq_lens:
            calls = {f"h{h}-ff{ff}": timing.layer_call(layers[h, ff], batch=batch, seq_len=seq_len,
                                                       memory_len=memory_len, seed=seed, device=device)
                     for h, ff in widths}
            samples = timing.measure(calls, warmup=warmup, repeats=repeats, device=device, min_sample_s=min_sample_s)
            for (h, ff), (_, row) in zip(widths, timing.summarize(samples).iterrows()):
                rows.append(dict(kind=kind, seq_len=seq_len, heads=h, d_ff=ff, ms=1e3 * row.wall_median_s,
                                 ms_q25=1e3 * row.wall_q25_s, ms_q75=1e3 * row.wall_q75_s,
                                 cpu_ms=1e3 * row.cpu_median_s, repeats=int(row.repeats)))
        del layers
    return pd.DataFrame(rows)


def relative_to_full(data: pd.DataFrame, *, heads: int, d_ff: int) -> pd.DataFrame:
    """``data`` with ``full_ms`` (the ``heads``/``d_ff`` layer's time at the same kind and length) and
    ``relative_time = ms / full_ms``."""
    full = data[(data.heads == heads) & (data.d_ff == d_ff)]
    out = data.merge(full[["kind", "seq_len", "ms"]].rename(columns={"ms": "full_ms"}), on=["kind", "seq_len"])
    out["relative_time"] = out.ms / out.full_ms
    return out
