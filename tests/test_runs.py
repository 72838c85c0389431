import copy
import dataclasses
import json
import multiprocessing

import pytest

from nashlib.experiments.records import CurvePoint, Sample, Scores
from nashlib.experiments.students import StudentInfo
from nashlib.experiments.teachers import TeacherInfo
from nashlib.pruning.prune import PruneConfig, PruneReport
from nashlib.settings import TeacherConfig, get
from nashlib.training.finetune import FinetuneConfig
from nashlib.training.runs import LIB, Identity, Run, RunMismatch, code_version, key


def _other(value):
    """A different value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if value else 0.25
    return f"{value}-other" if isinstance(value, str) else value


def _changed(cfg, name, value):
    """A copy of ``cfg`` with one field changed, past the configuration's own validation (the key sees fields)."""
    out = copy.copy(cfg)
    object.__setattr__(out, name, value)
    return out


@pytest.mark.parametrize("cfg", [FinetuneConfig(steps=10, warmup_steps=2), TeacherConfig("sst2"),
                                 PruneConfig(method="nash", decoder_layers=3)])
def test_key_changes_with_any_field(cfg):
    assert key(cfg) == key(dataclasses.replace(cfg)) and len(key(cfg)) == 12
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if value is None:
            continue
        changed = _changed(cfg, f.name, _other(value))
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
                         decoder_actual=0.5, model_expected=0.4, model_actual=0.41, reached=0.31, tolerance=0.01,
                         missed=False, final={"loss": 1.0},
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
                          parameters=5, vocab=300, train="t", validation="v", curve=[CurvePoint(1, 3.0)], dev="d",
                          dev_curve=[CurvePoint(1, 0.5)], best_step=1, samples=[], predictions=[])
    assert TeacherInfo.from_json(json.loads(json.dumps(teacher.to_json()))) == teacher


def test_begin_refuses_a_folder_of_another_identity(tmp_path):
    ident = Identity.of({"lr": 1.0}, model="aaaa", data=[[1, 2], [3]])
    run = Run(tmp_path / "r").begin({"lr": 1.0}, identity=ident)
    assert Run(run.folder).begin({"lr": 1.0}, identity=ident).folder == run.folder  # the same run: fine
    other = dataclasses.replace(ident, model="bbbb")
    with pytest.raises(RunMismatch, match=r"run folder .*/r belongs to another run .*model: \"aaaa\" != \"bbbb\""):
        Run(run.folder).begin({"lr": 1.0}, identity=other)
    assert ident.key() != other.key() and ident.key() == Identity.from_json(ident.to_json()).key()
    assert ident.code == code_version() and code_version().startswith("0.") and "+" in code_version()


# Run in each spawned process: `import nashlib` would load transformers (seconds of CPU per process), so the
# child imports nashlib.training.runs under a bare package instead.
_WRITER = """
import json, os, sys, time, types
pkg = types.ModuleType("nashlib")
pkg.__path__ = [LIB]
sys.modules["nashlib"] = pkg
from nashlib.training.runs import Run

class Saves:
    def save_pretrained(self, folder):
        (folder / "a.txt").write_text(str(os.getpid()))
        time.sleep(0.05)  # the writers overlap
        (folder / "b.txt").write_text(str(os.getpid()))

for _ in range(5):  # no outer lock: concurrent saves of one name
    Run(ROOT + "/shared").save("model", Saves())
run, trained = Run(ROOT + "/run"), False
with run.lock():  # the create-or-load
    if not run.finished:
        run.begin({}).save("model", Saves())
        time.sleep(0.3)
        trained = run.finish({"writer": os.getpid()}) is not None
with open(ROOT + f"/{os.getpid()}.json", "w") as fh:
    json.dump({"trained": trained, "info": run.info()}, fh)
"""


def test_two_processes_make_one_run_without_a_crash(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    script = _WRITER.replace("LIB", repr(str(LIB))).replace("ROOT", repr(str(tmp_path)))
    procs = [ctx.Process(target=exec, args=(script, {})) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    results = [json.loads((tmp_path / f"{p.pid}.json").read_text()) for p in procs]
    assert sorted(r["trained"] for r in results) == [False, True]  # the second one waited, then loaded
    assert results[0]["info"] == results[1]["info"]
    writer = str(results[0]["info"]["writer"])
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "info.json", "model"]
    assert [(run / "model" / f).read_text() for f in ("a.txt", "b.txt")] == [writer, writer]
    shared = tmp_path / "shared"
    assert sorted(p.name for p in shared.iterdir()) == ["model"]  # no temporary folder left behind
    a, b = ((shared / "model" / f).read_text() for f in ("a.txt", "b.txt"))
    assert a == b  # one writer's complete folder, never a mix


def test_the_kernels_are_part_of_a_runs_identity_and_folder(monkeypatch):
    from nashlib.experiments import teachers
    from nashlib.settings import TeacherConfig
    from nashlib.training import runs

    cfg = TeacherConfig("sst2")
    monkeypatch.setattr(runs, "kernels", lambda: "AVX2")
    monkeypatch.setattr(teachers, "kernels", lambda: "AVX2")
    a, folder_a = runs.Identity.of({"x": 1}), teachers.teacher_run(cfg, "/t").folder
    monkeypatch.setattr(runs, "kernels", lambda: "AVX512")
    monkeypatch.setattr(teachers, "kernels", lambda: "AVX512")
    b, folder_b = runs.Identity.of({"x": 1}), teachers.teacher_run(cfg, "/t").folder
    assert a.kernels == "AVX2" and a.key() != b.key() and folder_a != folder_b
    assert b.differences(a) == ['kernels: "AVX2" != "AVX512"']
