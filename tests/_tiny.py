"""Shared by the pruning tests: fixed random token batches for a tiny T5 (``batch(step)``, as training reads them)."""

import torch


def random_batches(n=16, batch=4, src=10, tgt=5):
    g = torch.Generator().manual_seed(0)
    data = [dict(input_ids=torch.randint(2, 500, (batch, src), generator=g),
                 attention_mask=torch.ones(batch, src, dtype=torch.long),
                 labels=torch.randint(2, 500, (batch, tgt), generator=g)) for _ in range(n)]
    return lambda step: data[step % n]
