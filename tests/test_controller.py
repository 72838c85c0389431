"""The sparsity controller reaches its target under the cpu profile's own student recipe (not a test recipe)."""

import time
import warnings

import pytest

from nashlib import settings
from _tiny import random_batches as _batches
from nashlib import shapes as models
from nashlib.pruning.prune import PruneConfig, prune

SEEDS = range(10)


@pytest.fixture(scope="module")
def teacher():
    return models.build_t5("tiny", seed=0).eval()




def _cpu_config(seed: int, **changes) -> PruneConfig:
    R = settings.get("cpu").student
    fields = dict(method="nash", target_sparsity=0.3, decoder_layers=2, steps=R.steps, warmup_steps=R.warmup_steps,
                  lr=R.lr, mask_lr=R.mask_lr, reg_lr=R.reg_lr, seed=seed, checkpoint_every=0, select=R.select)
    return PruneConfig(**{**fields, **changes})


def test_cpu_recipe_warms_up_over_80_percent_with_the_papers_reg_lr():
    R = settings.get("cpu").student
    assert R.warmup_steps == round(0.8 * R.steps) and R.reg_lr == 0.01


# ~10 pruning runs of the cpu recipe on a tiny T5 (a minute or two on 2 cores): the issue asks for 10 of 10
# seeds under the cpu recipe itself, so the schedule cannot be shortened for the test.
def test_nash_reaches_its_encoder_target_for_every_seed(teacher, tmp_path):
    t0, reached = time.perf_counter(), {}
    for seed in SEEDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = prune(teacher, _batches(), _cpu_config(seed), tmp_path / str(seed), progress=False)
        rep = result.report
        reached[seed] = rep.reached
        assert rep.reached == pytest.approx(rep.encoder_actual)  # nash constrains the (whole) encoder
        assert rep.tolerance == 0.01 and rep.missed == (abs(rep.reached - 0.3) > 0.01)
    misses = {s: r for s, r in reached.items() if abs(r - 0.3) > 0.01}
    assert not misses, f"deterministic encoder sparsity off target 0.3 by more than 0.01: {misses}"
    print(f"{len(SEEDS)} seeds in {time.perf_counter() - t0:.1f} s: {reached}")


def test_trace_has_every_controller_quantity_per_step(teacher, tmp_path):
    cfg = _cpu_config(0, steps=8, warmup_steps=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prune(teacher, _batches(), cfg, tmp_path, progress=False)
    rows = result.history
    assert [r["step"] for r in rows] == list(range(1, 9))
    assert {"target", "expected_sparsity", "deterministic_sparsity", "lambda_1", "lambda_2", "kl", "hidden_enc",
            "hidden_dec", "reg", "loss"} <= set(rows[-1])
    assert [r["target"] for r in rows[:5]] == pytest.approx([0.0, 0.075, 0.15, 0.225, 0.3])  # step 0 .. warm-up
    assert rows[-1]["deterministic_sparsity"] == pytest.approx(result.report.reached)
    assert any(r["lambda_1"] != 0 for r in rows)


def test_a_missed_target_is_marked(teacher, tmp_path):
    cfg = _cpu_config(0, steps=4, warmup_steps=2, target_sparsity=0.6)  # far too few steps to get there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = prune(teacher, _batches(), cfg, tmp_path, progress=False).report
    assert rep.missed and abs(rep.reached - 0.6) > 0.01
