"""nashlib.plan: the jobs a profile trains, checked against what a notebook really trains, and the estimate."""

import dataclasses

import pytest

from nashlib import plan, runner, settings


def test_a_model_two_notebooks_share_is_planned_once_under_the_first():
    js = plan.jobs("cpu")
    assert len({j.key for j in js}) == len(js)
    nash3 = [j for j in js if j.name == "NASH-3, seed 0" and j.task == "sst2_frequent"]
    assert [j.notebook for j in nash3] == ["fig6_pruned_structure"]  # Table 1, Figure 8 and variants load it
    R = settings.get("cpu").student
    fig8 = [j for j in plan.jobs("cpu", ["fig8_cofi_instability"]) if j.kind == "student"]
    assert len(fig8) == 2 * len(R.seeds)  # alone, Figure 8 trains both methods at every seed
    assert all(j.steps == R.steps + R.finetune_steps for j in fig8)
    assert {j.task for j in js if j.kind == "student" and j.notebook not in ("table11_nlu", "fig7_multitask")} == set(
        settings.get("cpu").pruning_tasks)
    fig7 = [j for j in js if j.notebook == "fig7_multitask"]  # its one-task mixture is Table 1's task: shared
    assert {(j.kind, j.task) for j in fig7 if j.kind == "teacher"} == {("teacher", "sst2_frequent+sst2")}
    assert sum(j.kind == "student" and j.task == "sst2_frequent+sst2" for j in fig7) == len(R.paired_seeds)
    assert {j.task for j in js if j.notebook == "table11_nlu"} == {"sst2"}  # Table 11: the NLU teachers' tasks


def test_the_paper_plan_prunes_each_tables_own_tasks():
    js, paper = plan.jobs("paper"), settings.get("paper")
    students = {}
    for j in js:
        if j.kind == "student":
            students.setdefault(j.notebook, set()).add(j.task)
    assert students["table3_layer_selection"] == {"rte", "boolq", "cb", "samsum", "tweetqa"}
    assert students["table4_encoder_pruning"] == {"rte", "samsum", "tweetqa"}  # SAMSum's and TweetQA's shared
    assert students["table1_nash_vs_baselines"] == {"samsum", "tweetqa", "xsum", "cnn_dailymail"}
    assert students["table11_nlu"] == {t.task for t in paper.teachers} - set(paper.pruning_tasks) - {"dolly"}
    assert {j.task for j in js if j.kind == "teacher" and "+" not in j.task} == set(settings.PAPER_TASKS)
    mixed = [j.task for j in js if j.kind == "teacher" and "+" in j.task]  # Figure 7: 2 to 7 tasks mixed
    assert [len(m.split("+")) for m in mixed] == [2, 3, 4, 5, 6, 7] and mixed[-1].startswith("samsum+tweetqa+")


@pytest.mark.parametrize("name, dense", [("table4_encoder_pruning", ("teacher",)),
                                         ("table11_nlu", ("teacher", "small dense"))])
def test_plan_counts_the_models_a_notebook_really_trains(name, dense, tmp_path, monkeypatch):
    """Table 11 trains on the NLU teachers (not the pruning tasks), with Table 1's first-seed structures."""
    monkeypatch.setenv("NASH_RUN_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("NASH_TEACHER_DIR", str(tmp_path / "teachers"))
    [outcome] = runner.run("smoke", only=name, out_dir=tmp_path / "figures", progress=False)
    assert outcome.ok, outcome.error
    trained = [p for p in (tmp_path / "runs").glob("*/*") if (p / "info.json").exists()]
    planned = plan.jobs("smoke", [name])
    assert len(trained) == len([j for j in planned if j.kind == "student"]) > 0
    teachers = [p for p in (tmp_path / "teachers").glob("*") if (p / "info.json").exists()]
    assert len(teachers) == len([j for j in planned if j.kind in dense])


def test_hours_are_steps_times_the_measured_step():
    p = settings.get("smoke")
    times = {dataclasses.replace(j.teacher, seed=0): plan.StepTimes("cpu", 36.0, 72.0) for j in plan.jobs(p)}
    text = plan.render(p, times=times)
    dense = sum(j.steps for j in plan.jobs(p) if j.kind != "student")  # teachers, small and shallow dense models
    hours = dense * 36 / 3600 + sum(j.steps for j in plan.jobs(p) if j.kind == "student") * 72 / 3600
    assert f"about {hours:.1f} hours" in text
    assert "every teacher assumed usable" in text


def test_measured_steps_run_the_profiles_shapes_on_its_device():
    p = settings.get("smoke", {"student.batch": 4})
    st = plan.measure_steps(p, p.teachers[0], repeats=1)
    assert st.device == "cpu" and st.train_s > 0 and st.prune_s > 0  # no timing claim: tests are not benchmarks


def test_plan_command_rejects_a_bad_profile_or_notebook(capsys):
    assert runner.main(["plan", "--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err
    assert runner.main(["plan", "--profile", "smoke", "--only", "fig99"]) == 2
    assert "unknown notebook(s) ['fig99']" in capsys.readouterr().err
    assert runner.main(["plan", "--profile", "smoke", "--only", "table3_layer_selection"]) == 0
    assert "table3_layer_selection" in capsys.readouterr().out

