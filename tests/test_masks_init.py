"""PruningMasks' initialisation and evaluation-mask options: the released code's by default, the earlier ones
by name. The old numbers were measured with the code before the options existed (seed 0, "tiny")."""

import pytest
import torch

from nashlib import shapes
from nashlib.pruning.hardconcrete import SCALE_FACTOR, TEMPERATURE
from nashlib.pruning.masks import PruningMasks

NASH = dict(types=("heads", "ffn_units"), parts=("encoder",))
COFI = dict(types=("heads", "ffn_units", "mha_layer", "ffn_layer", "hidden"), parts=("encoder", "decoder"))
OLD = dict(init="droprate", deterministic="global")


def _masks(kind, **options):
    torch.manual_seed(0)
    return PruningMasks(shapes.build_t5("tiny", seed=0), **kind, **options)


def test_released_init_starts_all_but_ffn_units_open():
    masks = _masks(COFI)
    for key, m in masks.masks.items():
        want = 0.0 if key.endswith("ffn_units") else 10.0
        assert m.log_alpha.mean().item() == pytest.approx(want, abs=0.01), key
    no_units = _masks(dict(COFI, types=("heads", "mha_layer", "ffn_layer", "hidden")))
    assert no_units.expected_sparsity("model").item() < 1e-4  # measured 1.8e-5
    # NASH: FFN units are 2/3 of the tiny encoder's prunable parameters, each dropped with Q(z <= 0) = 0.168
    assert _masks(NASH).expected_sparsity("encoder").item() == pytest.approx(2 / 3 * 0.1682, abs=1e-3)
    assert _masks(COFI).expected_sparsity("model").item() == pytest.approx(0.0961, abs=1e-3)


@pytest.mark.parametrize("kind,scope,expected,actual", [(NASH, "encoder", 0.168268, 0.174479),
                                                        (COFI, "model", 0.307947, 0.317906)])
def test_droprate_and_global_reproduce_the_earlier_numbers(kind, scope, expected, actual):
    report = _masks(kind, **OLD).sparsity_report()
    assert report[f"{scope}_expected"] == pytest.approx(expected, abs=2e-6)
    assert report[f"{scope}_actual"] == pytest.approx(actual, abs=2e-6)


def _old_rule(log_alpha, prob_nonzero):
    """The earlier deterministic mask: the expected zeros ranked over every layer of the mask at once."""
    z = torch.sigmoid(log_alpha / TEMPERATURE * SCALE_FACTOR)
    num_zeros = log_alpha.numel() - round(prob_nonzero.sum().item())
    if num_zeros > 0:
        z[torch.topk(log_alpha, k=num_zeros, largest=False).indices] = 0.0
    return z


def test_global_rule_is_the_earlier_rule_and_per_layer_differs():
    old, new = _masks(COFI, **OLD), _masks(COFI)
    torch.manual_seed(1)
    with torch.no_grad():
        for a, b in zip(old.masks.values(), new.masks.values()):
            a.log_alpha.copy_(torch.randn(a.n) * 2)
            b.log_alpha.copy_(a.log_alpha)
    z_old, z_new = old.deterministic(), new.deterministic()
    for key, m in old.masks.items():
        with torch.no_grad():
            ref = _old_rule(m.log_alpha.detach().clone(), m.prob_nonzero())
        if key == "hidden":
            ref = (ref > 0).float()  # binary at evaluation
            assert torch.equal(z_new[key], ref)  # one vector: the two rules coincide
        assert torch.equal(z_old[key], ref), key
    assert any(not torch.equal(z_old[k], z_new[k]) for k in old.masks if k != "hidden")


def test_groups_follow_the_rule():
    s = shapes.shape("tiny")
    per_layer = {k: m.group for k, m in _masks(dict(COFI, types=COFI["types"] + ("layer",))).masks.items()}
    assert per_layer["encoder_self_heads"] == s.num_heads and per_layer["decoder_ffn_ffn_units"] == s.d_ff
    assert per_layer["decoder_cross_mha_layer"] == 1 and per_layer["encoder_ffn_ffn_layer"] == 1
    assert per_layer["hidden"] == s.d_model and per_layer["decoder_layer"] == s.num_decoder_layers
    whole = _masks(COFI, deterministic="global").masks
    assert all(m.group == m.n for m in whole.values())


def test_per_layer_keeps_each_layers_expected_count():
    masks = _masks(NASH)
    heads = masks.masks["encoder_self_heads"]
    with torch.no_grad():  # layer 0: four heads at 0.1 (3.4 expected kept), layer 1: one head at -1 (3.6)
        heads.log_alpha.fill_(4.0)
        heads.log_alpha[:4] = torch.tensor([0.2, 0.1, 0.3, 0.2])
        heads.log_alpha[4] = -1.0
    closed = torch.nonzero(masks.deterministic()["encoder_self_heads"] == 0).flatten().tolist()
    assert closed == [1]
    masks = masks.moved_to(shapes.build_t5("tiny", seed=1))
    assert masks.deterministic_rule == "per_layer" and masks.init == "released"
    assert torch.nonzero(masks.deterministic()["encoder_self_heads"] == 0).flatten().tolist() == [1]


@pytest.mark.parametrize("kwargs,match", [
    (dict(init="paper"), "init='paper'; allowed: 'released', 'droprate'"),
    (dict(deterministic="layer"), "deterministic='layer'; allowed: 'per_layer', 'global'"),
    (dict(droprate_init=1.0), "droprate_init=1.0; allowed: 0 < droprate_init < 1"),
])
def test_bad_options_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PruningMasks(shapes.build_t5("tiny"), **kwargs)
