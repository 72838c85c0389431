"""What a compacted model kept, on the teacher's full grid, and the recount of its reached sparsity."""

import copy
from types import SimpleNamespace

import pytest
import torch

from nashlib import shapes
from nashlib.pruning import structure
from nashlib.pruning.compact import compact
from nashlib.pruning.layers import keep_decoder_layers
from nashlib.pruning.masks import PruningMasks
from nashlib.results.plotting import plt

ALL = ("heads", "ffn_units", "mha_layer", "ffn_layer", "hidden")


def _compacted(teacher, types, parts, *, keep=None, seed=3):
    """A compacted student of ``teacher`` (decoder layers ``keep``, random masks) and its report's sparsities."""
    student = keep_decoder_layers(teacher, keep) if keep else copy.deepcopy(teacher)
    masks = PruningMasks(student, types=types, parts=parts)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in masks.masks.values():
            m.log_alpha.copy_(torch.randn(m.n, generator=g) * 2.5 + 1.0)
    masks.eval()
    report = masks.sparsity_report(PruningMasks(teacher, types=(), parts=()).full_sizes())
    return compact(student, masks), SimpleNamespace(**report)


def test_grid_has_the_teachers_depth_and_dropped_layers_are_removed():
    teacher = shapes.build_t5("tiny", seed=0)
    model, report = _compacted(teacher, ("heads", "ffn_units"), ("encoder",), keep=[0, 3])
    g = structure.grid(model, teacher)
    assert (g.depth("encoder"), g.depth("decoder")) == (4, 4) and len(g.blocks) == 4 * 2 + 4 * 3
    dec = g.blocks[g.blocks.part == "decoder"]
    assert list(dec[~dec.present].layer.unique()) == [1, 2] and (dec[~dec.present].kept == 0).all()
    assert (dec[dec.present].kept == dec[dec.present].full).all()  # NASH keeps its layers at full width
    assert g.removed("decoder") == 2 and g.closed("decoder") == 6 and g.removed("encoder") == 0
    assert g.sparsity("decoder") == pytest.approx(0.5)
    table = structure.check_recount(g, report)
    assert list(table.part) == ["encoder", "decoder", "model"]
    assert set(g.table().columns) >= {"layer_sparsity", "removed", "w_kept", "w_full", "hidden_kept", "fraction"}


@pytest.mark.parametrize("shape", ["tiny", "tiny-gated", "tiny-odd"])
def test_recount_from_the_structure_gives_the_reports_sparsity(shape):
    """Every mask type (hidden dimensions, whole sublayers) on both parts: the grid adds up to the report."""
    teacher = shapes.build_t5(shape, seed=0)
    model, report = _compacted(teacher, ALL, ("encoder", "decoder"))
    g = structure.grid(model, teacher)
    assert g.hidden_kept == model.config.d_model <= g.hidden_full == teacher.config.d_model
    table = structure.check_recount(g, report)
    assert table.recounted.between(0, 1).all()
    with pytest.raises(AssertionError, match="does not add up"):
        structure.check_recount(g, SimpleNamespace(**{f"{p}_actual": 0.99 for p in structure.SPARSITY_PARTS}))


def test_grid_refuses_a_dense_model_or_another_teacher():
    teacher = shapes.build_t5("tiny", seed=0)
    with pytest.raises(ValueError, match="no nash_layout"):
        structure.grid(teacher, teacher)
    model, _ = _compacted(teacher, ("heads",), ("encoder",))
    with pytest.raises(ValueError, match="pass the teacher it was pruned from"):
        structure.grid(model, shapes.build_t5("tiny-odd", seed=0))
    with pytest.raises(ValueError, match="part='nope'"):
        structure.grid(model, teacher).sparsity("nope")


def test_figure_panels_draw_the_grid_and_the_part_bars():
    teacher = shapes.build_t5("tiny", seed=0)
    runs = {"NASH-2": _compacted(teacher, ("heads", "ffn_units"), ("encoder",), keep=[0, 3]),
            "CoFi": _compacted(teacher, ALL, ("encoder", "decoder"))}
    grids = {m: structure.grid(model, teacher) for m, (model, _) in runs.items()}
    fig, axes = plt.subplots(1, 3)
    image = structure.draw_grid(axes[0], grids["NASH-2"], runs["NASH-2"][1], "NASH-2")
    assert image.get_array().shape == (8, 3) and "removed" in [t.get_text() for t in axes[0].texts]
    bars = structure.draw_part_bars(axes[2], {m: r for m, (_, r) in runs.items()}, grids, ["C0", "C1"])
    assert len(bars) == 6 and len(axes[2].patches) == 6
    plt.close(fig)
