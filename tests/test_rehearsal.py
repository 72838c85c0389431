"""The paper profile's code path, end to end in CI: every notebook in the ``rehearsal`` profile (the paper profile at
tiny sizes, nashlib.settings) on hub-layout stand-ins (nashlib.standins) with the hub offline.

The teachers are the paper's: ``init="t5-base"`` on every task of its tables (Table 1's four generation tasks, the
ten GLUE / SuperGLUE tasks, Dolly), and the small dense baseline is ``t5-small`` (``lineup.small_config``);
``from_pretrained`` resolves both names from the stand-in cache exactly as it would from the hub's, because the
kernels start with ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE=1`` set. Nothing in the code path knows they are stand-ins.
The datasets on the hub only (Table 2's Dolly, Self-Instruct and Vicuna, CNN/DailyMail, QNLI's training split) are
read by hub name from a ``datasets`` cache (``HF_DATASETS_CACHE``) holding their stand-ins, as after a first online
load; each notebook prunes its own paper artefact's tasks (``Profile.notebook_tasks``). The
teachers learn nothing in six steps on random weights (the rule is waived): this proves the path, not the quality.
"""

import json

import pandas as pd
import pytest

from nashlib import runner, settings, standins
from nashlib.experiments import instruct


def test_rehearsal_differs_from_paper_only_in_sizes_device_and_the_waived_rule():
    paper, rehearsal = settings.get("paper"), settings.get("rehearsal")
    assert [(t.task, t.init, t.lr, t.beams) for t in rehearsal.teachers] == \
        [(t.task, t.init, t.lr, t.beams) for t in paper.teachers]  # Dolly too: its data from a datasets cache
    same = ("mask_lr", "reg_lr", "lr", "finetune_lr", "high_sparsity", "select")
    assert all(getattr(rehearsal.student, k) == getattr(paper.student, k) for k in same)
    assert (rehearsal.beams, rehearsal.pruning_tasks, rehearsal.workers) == (paper.beams, paper.pruning_tasks,
                                                                             paper.workers)
    assert rehearsal.device == "cpu" and rehearsal.waive_teacher_rule and not rehearsal.writes_figures


def test_every_notebook_runs_the_paper_path_on_hub_layout_stand_ins(tmp_path, monkeypatch):
    cache = standins.build_cache(tmp_path / "hf")  # t5-base, t5-small, Table 10's t5-efficient-base-dl{2,4,6,8}, ...
    data = standins.build_datasets_cache(tmp_path / "datasets")  # Dolly, Self-Instruct, Vicuna, CNN/DM, QNLI train
    for key, value in {"HF_HUB_CACHE": cache, "HF_DATASETS_CACHE": data, "HF_HUB_OFFLINE": "1",
                       "NASH_RUN_DIR": tmp_path / "runs",
                       "NASH_TEACHER_DIR": tmp_path / "teachers"}.items():
        monkeypatch.setenv(key, str(value))  # read by the kernels, which start after this
    outcomes = runner.run("rehearsal", out_dir=tmp_path / "figures", progress=False)
    failed = {o.name: o.error for o in outcomes if not o.ok}
    assert not failed, failed
    assert {o.name for o in outcomes} == set(runner.available())
    inits = {json.loads((p / "info.json").read_text())["config"]["init"]
             for p in (tmp_path / "teachers").iterdir() if (p / "info.json").exists()}
    shallow = {f"google/t5-efficient-base-dl{d}" for d in (2, 4, 6, 8)}  # Table 10's baselines
    assert inits == {"t5-base", "t5-small"} | shallow  # teachers, small dense and shallow baselines, by hub name
    report = (tmp_path / "figures" / "REPORT.md").read_text()
    assert "rehearsal" in report
    table2 = pd.read_csv(tmp_path / "figures" / "table2_instruction_tuning.csv")
    trained = table2[table2["table"] == "trained"]  # the quality half: every model on every set, row by row
    assert set(trained.dataset) == {"Dolly", "Self-Instruct", "Vicuna"} and set(trained.model) == set(instruct.LABELS)
    assert (trained.rows == settings.get("rehearsal").teacher("dolly").eval_examples).all()
    assert trained.rouge_l.between(0, 100).all() and trained.speedup.gt(0).all()
