"""A learned structure rebuilt at another shape (nashlib.speed.mapped): the shares survive, the depth rules hold."""

import pytest
import torch

from nashlib import shapes
from nashlib.pruning.compact import compact
from nashlib.pruning.layers import keep_decoder_layers
from nashlib.pruning.masks import PruningMasks
from nashlib.pruning.structure import grid
from nashlib.speed import mapped


@pytest.fixture(scope="module")
def pruned():
    """A NASH-like student of the tiny teacher: decoder layers 0 and 3 kept, encoder heads and units masked."""
    teacher = shapes.build_t5("tiny", seed=0)
    sel = keep_decoder_layers(teacher, [0, 3])
    masks = PruningMasks(sel, types=("heads", "ffn_units"), parts=("encoder",))
    with torch.no_grad():
        for m in masks.masks.values():
            m.log_alpha.copy_(torch.randn(m.n, generator=torch.Generator().manual_seed(7)) * 2.5 + 1.0)
    return teacher, compact(sel, masks.eval())


def test_rebuilt_at_the_same_shape_it_keeps_the_same_shares(pruned):
    teacher, student = pruned
    again = mapped.build_mapped("tiny", student, teacher, decoder_layers=2, seed=3)
    a, b = grid(student, teacher).blocks, grid(again, shapes.build_t5("tiny")).blocks
    assert a[["part", "layer", "block", "kept"]].equals(b[["part", "layer", "block", "kept"]])


def test_a_larger_shape_scales_widths_and_keeps_nash_depth(pruned):
    teacher, student = pruned
    share = mapped.shares(student, teacher)
    big = mapped.build_mapped("t5-small", student, teacher, decoder_layers=2)
    assert big.config.num_decoder_layers == 2 and big.config.num_layers == 6
    rows = big.config.nash_layout["encoder"]
    for j, row in enumerate(rows):  # target layer j takes source layer floor(j * 4 / 6)
        src = share["encoder"][j * 4 // 6]
        assert len(row["self"]) == round(src["self"] * 8) and row["d_ff"] == round(src["ffn"] * 2048)


def test_proportional_depth_drops_what_the_source_dropped(pruned):
    teacher, student = pruned
    deep = mapped.build_mapped("tiny", student, teacher, layers=8)
    assert (deep.config.num_layers, deep.config.num_decoder_layers) == (8, 4)  # sources 0,0,1,1,2,2,3,3: 1, 2 gone
    with pytest.raises(ValueError, match="decoder_layers=3; the student kept only 2 decoder layers"):
        mapped.build_mapped("tiny", student, teacher, decoder_layers=3)
