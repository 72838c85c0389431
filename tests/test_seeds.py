"""Figure 8's repeated-seed helpers on hand-made runs."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from nashlib.experiments import seeds
from nashlib.experiments.summary import ModelRow
from nashlib.results import verdicts as V


def _run(method, seed, target, reached, quality):
    row = ModelRow(task="sst2", title="GLUE SST-2", metric="accuracy", model=method, quality=quality, params_M=1.0,
                   params_total_M=2.0, target_sparsity=target, encoder_sparsity=0.3, decoder_sparsity=0.5,
                   model_sparsity=reached, encoder_layers=2, decoder_layers=4, decoder_layers_nonempty=4,
                   eval_rows=16)
    return seeds.SeedRun(row=row, seed=seed, scope="model", target=target, reached=reached, expected=target,
                         teacher_quality=80.0, teacher_params_M=3.0, prune_s=1.0, folder=f"{method}-{seed}")


RUNS = [_run("cofi", 0, 0.9, 0.95, 60.0), _run("cofi", 1, 0.9, 0.80, 70.0), _run("cofi", 2, 0.9, 0.91, 50.0),
        _run("nash", 0, 0.3, 0.30, 75.0), _run("nash", 1, 0.3, 0.31, 76.0), _run("nash", 2, 0.3, 0.29, 75.5)]


def test_outcomes_use_the_tolerance_both_ways():
    assert list(seeds.outcomes([0.05, -0.05, 0.01, -0.02], 0.02)) == ["over-pruned", "under-pruned", "reached",
                                                                       "reached"]


def test_frame_has_the_miss_and_outcome_of_every_run():
    data = seeds.frame(RUNS, tolerance=0.02)
    assert list(data.method) == ["cofi"] * 3 + ["nash"] * 3
    assert data.miss.tolist() == pytest.approx([0.05, -0.10, 0.01, 0.0, 0.01, -0.01])
    assert data.outcome.tolist()[:3] == ["over-pruned", "under-pruned", "reached"]
    assert {"target", "reached", "expected", "quality", "model_sparsity", "folder"} <= set(data.columns)
    assert "model" not in data and "target_sparsity" not in data  # method and target name them


def test_spread_summarises_per_task_and_method():
    s = seeds.spread(seeds.frame(RUNS, tolerance=0.02), tolerance=0.02).set_index("method")
    assert s.runs.tolist() == [3, 3]
    assert s.abs_miss_mean["cofi"] == pytest.approx((0.05 + 0.10 + 0.01) / 3)
    assert s.over_pruned["cofi"] == pytest.approx(1 / 3) and s.under_pruned["cofi"] == pytest.approx(1 / 3)
    assert s.quality_std["cofi"] == pytest.approx(np.std([60, 70, 50], ddof=1))


def test_spread_of_the_runs_goes_through_the_brown_forsythe_test():
    data = seeds.frame(RUNS, tolerance=0.02)
    c, n = (data[data.method == m].quality.to_numpy() for m in ("cofi", "nash"))
    v = V.spread_larger(c, n, claim="cofi varies more")
    assert v.estimate == pytest.approx(np.std(c, ddof=1) / np.std(n, ddof=1)) and v.n == 3


def test_spread_panels_draw():
    data = seeds.frame(RUNS, tolerance=0.02)
    fig, axes = seeds.plotting.subplots(1, 2)
    seeds.spread_panels(*axes[0], data, ["cofi", "nash"], tolerance=0.02)
    assert [t.get_text() for t in axes[0, 1].get_legend().get_texts()] == ["teacher"]
    seeds.plotting.plt.close(fig)
