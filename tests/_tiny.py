"""Shared by the tests: fixed random token batches for a tiny T5 (``batch(step)``, as training reads them); tiny
BART and compacted NASH models and padded inputs for the generation tests."""

import torch
from transformers import BartConfig, BartForConditionalGeneration

from nashlib import shapes as models
from nashlib.pruning.compact import NashT5ForConditionalGeneration, compact
from nashlib.pruning.layers import keep_decoder_layers
from nashlib.pruning.masks import PruningMasks


def random_batches(n=16, batch=4, src=10, tgt=5):
    g = torch.Generator().manual_seed(0)
    data = [dict(input_ids=torch.randint(2, 500, (batch, src), generator=g),
                 attention_mask=torch.ones(batch, src, dtype=torch.long),
                 labels=torch.randint(2, 500, (batch, tgt), generator=g)) for _ in range(n)]
    return lambda step: data[step % n]


def tiny_bart():
    torch.manual_seed(0)
    return BartForConditionalGeneration(BartConfig(
        vocab_size=500, d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48, max_position_embeddings=64,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=None,
        init_std=0.3)).eval()  # larger than the default 0.02, so outputs depend on the input


def tiny_nash():
    """NASH-2 shape: decoder layers 0 and 3 of 4, random L0 masks on the encoder, and every
    cross-attention head of the second kept decoder layer pruned (a layer with an empty cross cache)."""
    model = keep_decoder_layers(models.build_t5("tiny", seed=0), [0, 3])
    masks = PruningMasks(model, types=("heads", "ffn_units"), parts=("encoder", "decoder"))
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, m in masks.masks.items():
            m.log_alpha.copy_(torch.randn(m.n, generator=g) * 2.5 + 1.0 if name.startswith("encoder") else
                              torch.full((m.n,), 5.0))
        masks.masks["decoder_cross_heads"].log_alpha.view(2, -1)[1] = -5.0
    small = compact(model, masks.eval())
    assert isinstance(small, NashT5ForConditionalGeneration)
    assert small.config.nash_layout["decoder"][1]["cross"] == []
    return small.eval()





def padded_inputs(model, batch=3, length=9):
    """Random ids; example i is padded after ``length - 2 * i`` tokens (padding on the right)."""
    pad = model.config.pad_token_id
    ids = torch.randint(3, model.config.vocab_size, (batch, length), generator=torch.Generator().manual_seed(7))
    mask = torch.ones_like(ids)
    for i in range(batch):
        mask[i, length - 2 * i:] = 0
        ids[i, length - 2 * i:] = pad
    return {"input_ids": ids, "attention_mask": mask}  # (B, T_src) each
