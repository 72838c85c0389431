import dataclasses
import json

import pytest

from nashlib.experiments.records import CurvePoint, Sample, Scores
from nashlib.experiments.students import StudentInfo
from nashlib.experiments.teachers import TeacherInfo
from nashlib.pruning.prune import PruneConfig, PruneReport
from nashlib.settings import TeacherConfig, get
from nashlib.training.finetune import FinetuneConfig
from nashlib.training.runs import Run, key


def _other(value):
    """A different value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if value else 0.25
    return {"nash": "cofi", "uniform": "low", "no": "fp16", "constant": "linear", "scratch": "t5-small",
            "sst2": "rte"}.get(value, value)


@pytest.mark.parametrize("cfg", [FinetuneConfig(steps=10, warmup_steps=2), TeacherConfig("sst2"),
                                 PruneConfig(method="nash", decoder_layers=3)])
def test_key_changes_with_any_field(cfg):
    assert key(cfg) == key(dataclasses.replace(cfg)) and len(key(cfg)) == 12
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if value is None:
            continue
        changed = dataclasses.replace(cfg, **{f.name: _other(value)})
        assert key(changed) != key(cfg), f.name
    assert key(cfg, 1) != key(cfg, 2) != key(cfg)  # every part enters


def test_a_folder_without_info_is_unfinished_and_finish_is_last(tmp_path):
    run = Run(tmp_path / "r").begin(FinetuneConfig())
    assert not run.finished and json.loads((run.folder / "config.json").read_text())["steps"] == 200
    (run.folder / "checkpoint").mkdir()
    (run.folder / "finetune-x" / "checkpoint.old").mkdir(parents=True)
    info = run.finish({"scores": Scores(0.5, {"accuracy": 0.5}), "curve": [CurvePoint(1, 2.0)]})
    assert run.finished and info == run.info() == {"scores": {"score": 0.5, "accuracy": 0.5},
                                                   "curve": [{"step": 1, "loss": 2.0}]}
    assert not list(run.folder.rglob("checkpoint*"))  # checkpoints go with a finished run


class _Saves:
    def __init__(self, fail=False):
        self.fail = fail

    def save_pretrained(self, folder):
        (folder / "weights.bin").write_text("w")
        if self.fail:
            raise OSError("disk full")


def test_save_is_atomic(tmp_path):
    run = Run(tmp_path).begin({})
    run.save("model", _Saves())
    with pytest.raises(OSError, match="disk full"):
        run.save("model", _Saves(), _Saves(fail=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model"]  # old copy kept, no leftovers
    with pytest.raises(OSError):
        run.save("other", _Saves(fail=True))
    assert not (tmp_path / "other").exists()


def test_records_round_trip_through_plain_json():
    report = PruneReport(method="nash", selection="l0", target_sparsity=0.3, scope="encoder", decoder_map=[0, 3],
                         encoder_map=[0, 1], encoder_expected=0.3, encoder_actual=0.31, decoder_expected=0.5,
                         decoder_actual=0.5, model_expected=0.4, model_actual=0.41, final={"loss": 1.0},
                         decoder_layers_kept=[0, 3], decoder_layers_target=2, decoder_layers_hit_target=True)
    recipe = get("smoke").student
    info = StudentInfo(prune=PruneConfig(), recipe=recipe, teacher="t", report=report, scores=Scores(0.7, {"f1": 0.6}),
                       parameters=10, teacher_parameters=20, prune_seconds=1.0, finetune_seconds=2.0,
                       eval_seconds=0.5, prune_curve=[], finetune_curve=[CurvePoint(1, 0.5)],
                       samples=[Sample("a", "b", "c")], predictions=["b"])
    text = json.dumps(info.to_json())
    back = StudentInfo.from_json(json.loads(text))
    assert back == info and back.recipe.seeds == recipe.seeds and isinstance(back.recipe.seeds, tuple)
    on_disk = json.loads(text)
    assert on_disk["scores"] == {"score": 0.7, "f1": 0.6} and on_disk["report"]["decoder_map"] == [0, 3]
    teacher = TeacherInfo(config=TeacherConfig("sst2"), scores=Scores(0.9, {}), train_seconds=1.0, eval_seconds=1.0,
                          parameters=5, vocab=300, train="t", validation="v", curve=[CurvePoint(1, 3.0)], samples=[],
                          predictions=[])
    assert TeacherInfo.from_json(json.loads(json.dumps(teacher.to_json()))) == teacher
