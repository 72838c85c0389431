"""Speedups over output length: every model generates each forced length, and runs its encoder alone, in the same
interleaved rounds (:func:`nashlib.speed.timing.measure`); each speedup is against the baseline model at the same
length, paired within a round. The encoder is timed alone so that a call splits into encoder and decoder time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from nashlib.speed import timing

__all__ = ["Sweep", "length_sweep"]


@dataclass(frozen=True)
class Sweep:
    """``data``: one row per model and length (``model, new_tokens, speedup, speedup_q25, speedup_q75,
    wall_median_s, encoder_median_s, decoder_median_s``); ``wall``: seconds per round (rounds x ``"model / n"``
    and ``"model / encoder"``), for paired checks."""

    data: pd.DataFrame
    wall: pd.DataFrame

    def per_round(self, model: str, new_tokens: int):
        """Seconds of ``model`` at ``new_tokens``, one per round (a numpy array)."""
        return self.wall[f"{model} / {new_tokens}"].to_numpy()

    def round_speedups(self, model: str, baseline: str, new_tokens: int):
        """``baseline``'s time over ``model``'s, one ratio per round (a numpy array)."""
        return self.per_round(baseline, new_tokens) / self.per_round(model, new_tokens)


def length_sweep(models: dict, inputs: dict[str, torch.Tensor], new_tokens: list[int], *, baseline: str, beams: int,
                 warmup: int, repeats: int, device: str = "cpu", progress: bool = True) -> Sweep:
    """Time every model of ``models`` at every length of ``new_tokens`` (forced) and its encoder alone."""
    if baseline not in models:
        raise ValueError(f"baseline={baseline!r}; allowed: one of the models ({', '.join(models)})")
    calls = {f"{m} / {n}": timing.generation_call(x, inputs, new_tokens=n, beams=beams)
             for m, x in models.items() for n in new_tokens}
    calls |= {f"{m} / encoder": timing.encoder_call(x, inputs) for m, x in models.items()}
    samples = timing.measure(calls, warmup=warmup, repeats=repeats, device=device, progress=progress)
    wall = samples.pivot(index="repeat", columns="config", values="wall_s")  # (rounds, configs)
    rows = []
    for n in new_tokens:
        speed = timing.speedups(samples[samples.config.str.endswith(f" / {n}")], f"{baseline} / {n}")
        speed = speed.set_index("config")
        for m in models:
            rows.append(dict(model=m, new_tokens=n, **speed.loc[f"{m} / {n}", ["speedup", "speedup_q25",
                                                                                  "speedup_q75"]],
                             wall_median_s=wall[f"{m} / {n}"].median(),
                             encoder_median_s=wall[f"{m} / encoder"].median()))
    data = pd.DataFrame(rows)
    data["decoder_median_s"] = data.wall_median_s - data.encoder_median_s
    return Sweep(data, wall)
