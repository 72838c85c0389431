"""Ablations (nashlib.experiments.ablations): strategies -> checked students -> rows, the paper beside ours, panels."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from nashlib.experiments import ablations, summary
from nashlib.experiments.summary import ModelRow
from nashlib.pruning.prune import PruneConfig
from nashlib.results import plotting


def _row(label, quality=50.0, encoder=0.3, layers=2):
    return ModelRow(task="sst2", title="GLUE SST-2", metric="accuracy", model=label, quality=quality, params_M=1.0,
                    params_total_M=2.0, target_sparsity=0.3, encoder_sparsity=encoder, decoder_sparsity=0.5,
                    model_sparsity=0.4, encoder_layers=4, decoder_layers=layers, decoder_layers_nonempty=layers,
                    eval_rows=10)


def _student(cfg, *, layers=(0, 3), kept=None, encoder=0.25, name="s"):
    report = SimpleNamespace(decoder_map=list(layers), decoder_layers_kept=kept, encoder_actual=encoder)
    model = SimpleNamespace(config=SimpleNamespace(num_decoder_layers=len(layers)))
    return SimpleNamespace(config=cfg, report=report, model=model, folder=Path(name))


def _teacher(task="sst2", quality=0.6):
    return SimpleNamespace(config=SimpleNamespace(task=task), scores=SimpleNamespace(main=quality),
                           model=SimpleNamespace(config=SimpleNamespace(num_layers=4, num_decoder_layers=4)))


def test_expected_depth_and_reached_labels():
    assert ablations.expected_depth(PruneConfig(decoder_layers=2)) == 2
    assert ablations.expected_depth(PruneConfig(decoder_layers=2, selection="l0")) is None
    s = _student(PruneConfig(), layers=(0, 1, 3), encoder=0.287)
    assert ablations.reached_label("l0", s, "layers") == "l0 (3 layers)"
    assert ablations.reached_label("L0 0.3", s, "sparsity") == "L0 0.3 (reached 0.29)"
    assert ablations.reached_label("none", s, None) == "none"
    with pytest.raises(ValueError, match="allowed"):
        ablations.reached_label("x", s, "depth")


def test_train_arms_reuses_equal_keys_and_checks_each_trained_student(monkeypatch):
    checked, trained = [], []
    monkeypatch.setattr(summary, "check_student", lambda s, t, decoder_layers=None: checked.append(decoder_layers) or s)
    monkeypatch.setattr(summary, "student_row", lambda label, s, t: _row(label))
    cfgs = {"a": PruneConfig(decoder_layers=2), "b": PruneConfig(decoder_layers=2, selection="uniform-paper"),
            "c": PruneConfig(decoder_layers=2), "l0": PruneConfig(decoder_layers=2, selection="l0")}

    def train(t, cfg, recipe):
        trained.append(cfg)
        return _student(cfg, name=f"s{len(trained)}")

    ab = ablations.train_arms(_teacher(), cfgs, recipe=None, train=train, shown="layers")
    assert [a.strategy for a in ab.arms] == ["a", "b", "c", "l0"]
    assert [a.reused_from for a in ab.arms] == ["", "", "a", ""]  # default key: the configuration
    assert ab.arm("c").student is ab.arm("a").student and len(trained) == 3
    assert checked == [2, 2, None]  # a learned selection guarantees no depth
    assert ab.arm("a").row.model == "a (2 layers)"
    ab = ablations.train_arms(_teacher(), cfgs, recipe=None, train=train, same=lambda s, cfg: s == "l0")
    assert [a.reused_from for a in ab.arms] == ["", "a", "a", ""]
    assert ab.reused() == ["GLUE SST-2: 'b' builds the same model as 'a'; its student is reused",
                           "GLUE SST-2: 'c' builds the same model as 'a'; its student is reused"]
    with pytest.raises(KeyError, match="no arm"):
        ab.arm("high")


def test_frame_adds_the_ablation_columns():
    t = _teacher()
    arms = (ablations.Arm("uniform", PruneConfig(), _student(PruneConfig()), _row("uniform (2 layers)"), ""),
            ablations.Arm("l0", PruneConfig(selection="l0"), _student(PruneConfig(), layers=(0, 1, 3), kept=[0, 1, 3]),
                          _row("l0 (3 layers)", layers=3), ""))
    data = ablations.frame([ablations.Ablation(t, arms)])
    assert list(data.strategy) == ["uniform", "l0"] and list(data.model) == ["uniform (2 layers)", "l0 (3 layers)"]
    assert data.layers_kept.tolist() == [[0, 3], [0, 1, 3]]
    assert (data.teacher_quality == 60.0).all() and not data.generation.any()
    assert (data.teacher_decoder_layers == 4).all() and data.encoder_sparsity.dtype == float


def test_paper_frame_and_beside_paper():
    table = {"none": ((70.0, 2.0), (40.0, 3.0)), "L0 0.3": ((71.0, 2.2), (41.0, 3.1))}
    paper = ablations.paper_frame(table, ("RTE", "SAMSum"), values=("quality", "speedup"))
    assert len(paper) == 4 and paper.set_index(["strategy", "dataset"]).speedup[("L0 0.3", "SAMSum")] == 3.1
    assert ablations.paper_frame({"u": (1.0, 2.0)}, ("A", "B")).quality.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="datasets"):
        ablations.paper_frame({"u": (1.0,)}, ("A", "B"))
    with pytest.raises(ValueError, match="values"):
        ablations.paper_frame({"u": ((1.0, 2.0),)}, ("A",))
    ours = pd.DataFrame(dict(title=["T"] * 3, strategy=["none", "L0 0.3", "extra"], quality=[50.0, 52.0, 1.0],
                             encoder_sparsity=[0.0, 0.29, 0.1]))
    side = ablations.beside_paper(ours, paper, strategies=["none", "uniform", "L0 0.3"],
                                  ours=("encoder_sparsity", "quality"), theirs=("quality", "speedup"), source="ours")
    assert list(side.index) == ["none", "uniform", "L0 0.3"]  # "extra" is not asked for
    assert side[("ours", "T", "quality")].tolist()[::2] == [50.0, 52.0]
    assert side[("paper", "SAMSum", "speedup")]["L0 0.3"] == 3.1
    assert side.loc["uniform"].isna().all()


def test_panels_draw_from_hand_made_frames():
    data = pd.DataFrame(dict(title=["A", "A", "B", "B"], metric="accuracy", strategy=["u", "l", "u", "l"],
                             quality=[50.0, 40.0, 30.0, 35.0], teacher_quality=[55.0, 55.0, 33.0, 33.0],
                             missed=[False, True, False, False], speedup=[2.0, 1.5, 2.1, 1.4],
                             speedup_q25=[1.9, 1.4, 2.0, 1.3], speedup_q75=[2.1, 1.6, 2.2, 1.5], sources=4,
                             max_new_tokens=8, beams=1))
    colors, markers = {"u": "C0", "l": "C1"}, {"u": "o", "l": "s"}
    fig, axes = plotting.subplots(1, 2)
    ablations.quality_bars(axes[0][0], data, ["u", "l"], colors, missed="missed")
    bars = axes[0][0].patches
    assert len(bars) == 4 and [b.get_hatch() for b in bars] == [None, None, "///", None]  # by strategy, then task
    xs, ys, names = ablations.quality_speed_panel(axes[0][1], data[data.title == "A"], ["u", "l"], colors, markers)
    assert names == ["teacher", "u", "l"] and xs == [1.0, 2.0, 1.5] and np.allclose(ys, [55.0, 50.0, 40.0])
    plotting.plt.close(fig)
