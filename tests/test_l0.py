import math

import pytest
import torch

from nashlib.pruning import hardconcrete as l0
from nashlib.pruning.constraints import Lagrangian, target_schedule


def test_droprate_half_gives_log_alpha_zero():
    torch.manual_seed(0)
    m = l0.HardConcrete(1000, droprate_init=0.5)
    assert abs(m.log_alpha.mean().item()) < 0.01
    assert l0.HardConcrete(3, init_log_alpha=10.0).log_alpha.mean().item() == pytest.approx(10.0, abs=0.05)


def test_bad_init_is_rejected():
    with pytest.raises(ValueError, match="droprate_init=1.0; allowed: 0 < droprate_init < 1"):
        l0.HardConcrete(3, droprate_init=1.0)
    with pytest.raises(ValueError, match="n=0"):
        l0.HardConcrete(0)


def test_prob_nonzero_matches_sampling():
    torch.manual_seed(0)
    m = l0.HardConcrete(4, init_log_alpha=0.0)
    with torch.no_grad():
        m.log_alpha.copy_(torch.tensor([-3.0, -0.5, 0.5, 3.0]))
        freq = torch.stack([(m.sample() > 0).float() for _ in range(20000)]).mean(0)
    assert torch.allclose(freq, m.prob_nonzero().detach(), atol=0.015)


def test_samples_hit_exact_zero_and_one():
    torch.manual_seed(1)
    m = l0.HardConcrete(5000, droprate_init=0.5)
    z = m.sample()
    assert (z == 0).any() and (z == 1).any() and ((z > 0) & (z < 1)).any()
    assert z.min() >= 0 and z.max() <= 1


def test_deterministic_zeroes_the_expected_number_of_smallest_units():
    m = l0.HardConcrete(6, init_log_alpha=0.0)
    with torch.no_grad():
        m.log_alpha.copy_(torch.tensor([-4.0, 4.0, -3.0, 2.0, 3.0, -5.0]))
    expected_zeros = 6 - round(m.expected_kept().item())
    m.eval()
    z = m()
    assert int((z == 0).sum()) == expected_zeros == 3
    assert set(torch.nonzero(z == 0).flatten().tolist()) == {0, 2, 5}
    kept = z[z > 0]
    assert torch.allclose(kept, torch.sigmoid(torch.tensor([4.0, 2.0, 3.0]) / l0.TEMPERATURE * 0.8))
    assert (kept < 1).all()


def _with(log_alpha, group):
    m = l0.HardConcrete(len(log_alpha), init_log_alpha=0.0, group=group)
    with torch.no_grad():
        m.log_alpha.copy_(torch.tensor(log_alpha))
    return m.eval()


def test_per_layer_and_global_rules_keep_different_units():
    # two layers of 4 units: layer 0 expects 3.43 kept (1 zero), layer 1 expects 3.63 (0 zeros); all 8
    # together expect 7.07 kept, so the global rule closes the smallest of all, layer 1's -1.0
    la = [0.2, 0.1, 0.3, 0.2, -1.0, 4.0, 4.0, 4.0]
    scale = torch.sigmoid(torch.tensor(la) / l0.TEMPERATURE * 0.8)
    per_layer, whole = _with(la, 4)(), _with(la, None)()
    assert torch.nonzero(per_layer == 0).flatten().tolist() == [1]
    assert torch.nonzero(whole == 0).flatten().tolist() == [4]
    assert torch.allclose(per_layer[[0, 2, 3, 4, 5, 6, 7]], scale[[0, 2, 3, 4, 5, 6, 7]])
    assert torch.allclose(whole[[0, 1, 2, 3, 5, 6, 7]], scale[[0, 1, 2, 3, 5, 6, 7]])
    assert per_layer[4].item() == pytest.approx(torch.sigmoid(torch.tensor(-1.0 / l0.TEMPERATURE * 0.8)).item())


def test_one_unit_groups_close_below_even_odds():
    # whole sublayers per layer (released code): closed iff P(z > 0) < 1/2; P = 0.45, 0.43, 0.83
    la = [-1.8, -1.9, 0.0]
    assert _with(la, 1)().tolist() == [0.0, 0.0, 0.5]  # kept scale sigmoid(0) = 0.5
    assert (_with(la, None)() == 0).tolist() == [False, True, False]  # 1.71 kept of 3: one zero


def test_bad_group_is_rejected():
    with pytest.raises(ValueError, match="group=3; allowed: None or a positive divisor of n=8"):
        l0.HardConcrete(8, group=3)
    with pytest.raises(ValueError, match="group=0"):
        l0.HardConcrete(8, group=0)


def test_clamp_keeps_log_alpha_in_range():
    m = l0.HardConcrete(2, init_log_alpha=0.0)
    with torch.no_grad():
        m.log_alpha.copy_(torch.tensor([-50.0, 50.0]))
    m.clamp_()
    assert m.log_alpha.tolist() == pytest.approx([math.log(0.01), math.log(100.0)])


def test_lagrangian_penalty_and_gradient_ascent():
    lag = Lagrangian()
    with torch.no_grad():
        lag.lambda_1.fill_(0.5)
        lag.lambda_2.fill_(2.0)
    s = torch.tensor(0.2, requires_grad=True)
    r = lag(s, 0.3)
    assert r.item() == pytest.approx(0.5 * -0.1 + 2.0 * 0.01)
    r.backward()
    # gradients flipped: an optimizer step (descent on the flipped gradient) is ascent on R
    assert lag.lambda_1.grad.item() == pytest.approx(0.1)
    assert lag.lambda_2.grad.item() == pytest.approx(-0.01)
    assert s.grad.item() == pytest.approx(0.5 + 2 * 2.0 * -0.1)


def test_target_schedule_warms_up_linearly():
    assert target_schedule(0, target=0.3, warmup_steps=10) == 0.0
    assert target_schedule(5, target=0.3, warmup_steps=10) == pytest.approx(0.15)
    assert target_schedule(50, target=0.3, warmup_steps=10) == pytest.approx(0.3)
    assert target_schedule(3, target=0.3, warmup_steps=0) == pytest.approx(0.3)
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match="allowed: 0 <= target < 1"):
            target_schedule(0, target=bad, warmup_steps=1)
