"""Figure 2's sweeps as configurations (nashlib.experiments.partwise)."""

import pytest

from nashlib import settings
from nashlib.experiments import partwise
from nashlib.results import paper


def test_the_four_curves_at_the_papers_targets():
    R = settings.get("cpu").student
    cfgs = partwise.configs(R, seed=3)
    assert len(cfgs) == 2 * len(paper.FIGURE2_SPARSITIES["encoder"]) + 2 * len(paper.FIGURE2_SPARSITIES["decoder"])
    assert {c.method for c in cfgs.values()} == set(partwise.CURVES.values())
    for name, c in cfgs.items():
        curve, target = partwise.curve_of(name)
        assert c.method == partwise.CURVES[curve] and c.target_sparsity == target and c.seed == 3
        assert target in paper.FIGURE2_SPARSITIES[curve.split(",")[0]] and c.decoder_layers is None


def test_thinned_sweeps_keep_the_first_and_last_target():
    assert partwise.sparsities("encoder", 2) == (0.2, 0.95)
    assert partwise.sparsities("encoder", 3) == (0.2, 0.7, 0.95)
    assert partwise.sparsities("decoder", 0) == partwise.sparsities("decoder", 9) == paper.FIGURE2_SPARSITIES["decoder"]
    with pytest.raises(ValueError, match="part='middle'; allowed: 'encoder', 'decoder'"):
        partwise.sparsities("middle")
    with pytest.raises(ValueError, match="sweep_points=1; allowed: 0"):
        settings.get("cpu", {"sweep_points": 1})
    assert settings.get("smoke").sweep_points == 2 and settings.get("cpu").sweep_points == 0
