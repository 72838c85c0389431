"""Training batches as a function of the step: ``batch(step)``, the same however often a run was interrupted."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["batches"]


def _epoch_order(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool: int) -> np.ndarray:
    """A permutation in which each run of ``batch_size`` rows has similar lengths (less padding).

    Shuffle; sort each window of ``pool`` batches by length; cut it into batches; shuffle the batches.
    """
    order = rng.permutation(len(lengths))
    window = batch_size * pool
    chunks = [order[i:i + window] for i in range(0, len(order), window)]
    order = np.concatenate([c[np.argsort(lengths[c], kind="stable")] for c in chunks])
    n = len(order) // batch_size
    return order[:n * batch_size].reshape(n, batch_size)[rng.permutation(n)].reshape(-1)


def _column(encoded, name: str) -> list[list[int]]:
    """A column as Python lists: straight from the Arrow table of a ``datasets.Dataset`` (iterating the
    dataset row by row takes seconds for 67k rows), else by iterating ``encoded[name]``."""
    table = getattr(encoded, "data", None)
    if hasattr(table, "column") and getattr(encoded, "_indices", None) is None:
        return table.column(name).to_pylist()
    return list(encoded[name])


def batches(encoded, batch_size: int, seed: int, pad_id: int = 0, pool: int = 50) -> Callable[[int], dict]:
    """``batch(step)``: the step's padded batch, depending on the step only (seeded per epoch).

    Every epoch visits each row once (the last partial batch is left out); rows of similar source
    length share a batch (see :func:`_epoch_order`; ``pool=1`` turns that off), which saves padding.
    """
    ids, labels = _column(encoded, "input_ids"), _column(encoded, "labels")
    per_epoch = len(ids) // batch_size
    if per_epoch < 1:
        raise ValueError(f"{len(ids)} training rows cannot fill one batch of {batch_size}")
    lengths = np.array([len(x) for x in ids])
    orders: dict[int, np.ndarray] = {}

    def batch(step: int) -> dict[str, torch.Tensor]:
        epoch, k = divmod(step, per_epoch)
        if epoch not in orders:
            orders.clear()
            orders[epoch] = _epoch_order(lengths, batch_size, np.random.default_rng([seed, epoch]), pool)
        rows = orders[epoch][k * batch_size:(k + 1) * batch_size]
        src = max(len(ids[i]) for i in rows)
        tgt = max(len(labels[i]) for i in rows)
        x = torch.full((len(rows), src), pad_id)  # (B, T_src)
        y = torch.full((len(rows), tgt), -100)  # (B, T_tgt); -100: ignored by the loss
        for r, i in enumerate(rows):
            x[r, :len(ids[i])] = torch.tensor(ids[i])
            y[r, :len(labels[i])] = torch.tensor(labels[i])
        return {"input_ids": x, "attention_mask": (x != pad_id).long(), "labels": y}

    return batch
