import pytest

import torch

from nashlib import settings as profiles
from nashlib.settings import StudentRecipe, TeacherConfig


def test_every_profile_is_valid_and_named():
    for name in profiles.names():
        p = profiles.get(name)
        assert p.name == name
        assert p.repeats >= 1 and p.batch >= 1
    assert profiles.names() == ["smoke", "cpu", "laptop", "paper", "rehearsal"]


def test_defaults_match_the_paper_protocol():
    paper = profiles.get("paper")
    assert (paper.batch, paper.beams, paper.device) == (32, 4, "cuda")
    cpu = profiles.get("cpu")
    assert cpu.teacher_shape == "t5-base" and cpu.small_shape == "t5-small"
    assert set(cpu.decoder_depths) >= {12, 4, 3, 2} and cpu.encoder_sparsity == 0.3


def test_unknown_profile_names_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown profile 'fast'; allowed: smoke, cpu, laptop, paper"):
        profiles.get("fast")


def test_profile_name_of_wrong_type():
    with pytest.raises(TypeError, match="PROFILE=3 has type int; expected str"):
        profiles.get(3)


def test_unknown_override_lists_fields():
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['repeat'\] for profile 'smoke'; allowed: .*repeats"):
        profiles.get("smoke", repeat=3)
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['student.stepz'\].*student.steps"):
        profiles.get("smoke", {"student": {"stepz": 3}})
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['teachers.rte.steps'\].*teachers.sst2.steps"):
        profiles.get("smoke", {"teachers.rte.steps": 3})


@pytest.mark.parametrize("field,value,expected", [
    ("repeats", "3", "repeats='3' has type str; expected int"),
    ("repeats", True, "repeats=True has type bool; expected int"),
    ("encoder_sparsity", "0.3", "expected float"),
    ("seq_lens", [1, "8"], "expected a list of int"),
])
def test_wrongly_typed_override_is_a_type_error(field, value, expected):
    with pytest.raises(TypeError, match=expected):
        profiles.get("smoke", **{field: value})


@pytest.mark.parametrize("field,value", [("repeats", 0), ("repeats", -2), ("warmup", -1), ("batch", 0),
                                         ("encoder_sparsity", 1.0), ("device", "tpu"), ("decoder_depths", [])])
def test_out_of_range_values_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        profiles.get("smoke", **{field: value})


def test_lists_become_tuples_and_ints_are_floats():
    p = profiles.get("smoke", seq_lens=[1, 2], encoder_sparsity=0)
    assert p.seq_lens == (1, 2) and p.encoder_sparsity == 0
    hash(p)  # frozen and hashable


def test_check_parameter_returns_value():
    assert profiles.check_parameter("SEED", 4, int) == 4
    with pytest.raises(TypeError, match="SEED='abc' has type str; expected int"):
        profiles.check_parameter("SEED", "abc", int)


def test_one_channel_reaches_timing_student_and_teachers():
    p = profiles.get("smoke", {"repeats": 3, "student.steps": 9, "student": {"seeds": [4, 5]},
                               "teachers": {"sst2": {"steps": 11}}})
    assert p.repeats == 3 and p.student.steps == 9 and p.student.seeds == (4, 5)
    assert p.teacher("sst2").steps == 11 and p.teacher("sst2_frequent").steps == profiles.get("smoke").teacher(
        "sst2_frequent").steps
    hash(p)


def test_teacher_init_is_a_field_every_teacher_follows():
    p = profiles.get("cpu", {"teacher_init": "/models/my-t5"})
    assert {t.init for t in p.teachers} == {"/models/my-t5"}
    assert p.scale() == "/models/my-t5 fine-tuned here"
    assert profiles.get("cpu").scale() == "small T5s trained from scratch here"
    assert profiles.get("paper").scale() == "t5-base fine-tuned here"


def test_behaviours_are_fields_not_names():
    assert [n for n in profiles.names() if profiles.get(n).writes_figures] == ["cpu"]
    assert [n for n in profiles.names() if profiles.get(n).waive_teacher_rule] == ["smoke", "rehearsal"]
    assert profiles.get("paper").device == "cuda"
    assert profiles.get("smoke", waive_teacher_rule=False).waive_teacher_rule is False


def test_unknown_task_and_bad_nested_values_name_the_field():
    with pytest.raises(ValueError, match="profile 'cpu' has no teacher for task 'rte'; its tasks: sst2, sst2_frequent"):
        profiles.get("cpu").teacher("rte")
    with pytest.raises(ValueError, match="StudentRecipe: steps=0; allowed: an integer >= 1"):
        profiles.get("smoke", {"student.steps": 0})
    with pytest.raises(TypeError, match="TeacherConfig: lr='fast' has type str; expected float"):
        profiles.get("smoke", {"teachers.sst2.lr": "fast"})
    with pytest.raises(ValueError, match="teacher_margin=1.5; allowed: 0 <= margin < 1"):
        profiles.get("smoke", teacher_margin=1.5)


def test_every_profile_has_teachers_of_known_tasks_and_a_student():
    for name in profiles.names():
        p = profiles.get(name)
        assert p.teachers and isinstance(p.student, StudentRecipe)
        assert all(isinstance(t, TeacherConfig) for t in p.teachers)
    assert all(t.decoder_layers == 12 for t in profiles.get("cpu").teachers)  # t5-base's depth: NASH-2/3/4 as in the paper


@pytest.mark.parametrize("text,expected", [("repeats=3", ("repeats", 3)), ("student.seeds=[1, 2]", ("student.seeds", [1, 2])),
                                           ("teacher_init=/x/y", ("teacher_init", "/x/y")),
                                           ("student.lr=1e-4", ("student.lr", 1e-4))])
def test_parse_assignment_reads_yaml_values(text, expected):
    assert profiles.parse_assignment(text) == expected


def test_parse_assignment_and_settings_file_errors(tmp_path):
    with pytest.raises(ValueError, match="--set 'repeats'; allowed: KEY=VALUE"):
        profiles.parse_assignment("repeats")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="holds a list; allowed: a mapping"):
        profiles.load_settings_file(tmp_path / "list.yaml")
    with pytest.raises(ValueError, match="cannot be read"):
        profiles.load_settings_file(tmp_path / "missing.yaml")
    (tmp_path / "ok.json").write_text('{"repeats": 3, "student": {"steps": 5}}')
    assert profiles.get("smoke", profiles.load_settings_file(tmp_path / "ok.json")).student.steps == 5


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_gpu_profile_fails_clearly_without_gpu():
    with pytest.raises(RuntimeError, match="profile 'paper' runs on a CUDA GPU"):
        profiles.start("paper", seed=0, out_dir="x")


def test_start_sets_threads_and_applies_overrides():
    p, run = profiles.start("smoke", seed=1, out_dir="x", overrides={"repeats": 4})
    assert p == profiles.get("smoke", repeats=4)
    assert run["threads"] == torch.get_num_threads() == 2


@pytest.mark.parametrize("kwargs,match", [
    (dict(seed="1", out_dir="x"), "SEED='1' has type str; expected int"),
    (dict(seed=1, out_dir=3), "OUT_DIR=3 has type int; expected str"),
    (dict(seed=1, out_dir="x", overrides="repeats=3"), "OVERRIDES='repeats=3' has type str; expected dict"),
    (dict(seed=1, out_dir="x", overrides={"repeats": "3"}), "repeats='3' has type str; expected int"),
])
def test_start_rejects_wrongly_typed_parameters(kwargs, match):
    with pytest.raises(TypeError, match=match):
        profiles.start("smoke", **kwargs)


def test_student_select_options_are_prunes():
    from nashlib import settings
    from nashlib.pruning import prune

    assert set(settings.SELECTS) == set(prune.SELECTS)
    with pytest.raises(ValueError, match="select='best'; allowed"):
        settings.get("cpu", {"student.select": "best"})


def test_data_source_is_local_offline_profiles_and_auto_online_ones():
    assert {t.source for p in ("smoke", "cpu") for t in profiles.get(p).teachers} == {"local"}
    assert {t.source for p in ("laptop", "paper", "rehearsal") for t in profiles.get(p).teachers} == {"auto"}
    with pytest.raises(ValueError, match="source='web'; allowed: 'auto', 'local', 'hub'"):
        profiles.get("cpu", {"teachers.sst2.source": "web"})


def test_added_fields_leave_the_digest_alone_until_set():
    cpu = profiles.get("cpu")
    values = profiles._digest_values(cpu)
    assert "source" not in values["teachers"][0] and "finetune_eval_every" not in values["student"]
    assert "steps" in values["student"]  # an ordinary field is always in
    for change in ({"teachers.sst2.source": "auto"}, {"student.finetune_eval_every": 25,
                                                     "student.finetune_patience": 2}):
        assert profiles.digest(profiles.get("cpu", change)) != profiles.digest(cpu), change


@pytest.mark.parametrize("every,patience", [(5, 0), (0, 2), (999, 1)])
def test_student_stopping_fields_come_together(every, patience):
    with pytest.raises(ValueError, match="finetune_eval_every=.*allowed: both 0"):
        profiles.get("cpu", {"student.finetune_eval_every": every, "student.finetune_patience": patience})


def test_paper_profile_follows_tables_8_and_9_per_task():
    p = profiles.get("paper")
    samsum, xsum, rte, cb = (p.recipe(t) for t in ("samsum", "xsum", "rte", "cb"))
    assert (samsum.steps, samsum.warmup_steps, samsum.finetune_steps, samsum.batch) == (73_660, 58_928, 73_660, 4)
    assert samsum.steps == 20 * -(-14_732 // 4) and xsum.steps == 3 * -(-204_045 // 4)  # 20 / 3 epochs at batch 4
    assert xsum.warmup_steps == 2 * -(-204_045 // 4) and xsum.finetune_eval_every == 1000
    assert (rte.batch, rte.steps, rte.warmup_steps, rte.finetune_eval_every) == (32, 100 * 78, 80 * 78, 50)
    assert (cb.steps, cb.warmup_steps, cb.finetune_steps, cb.finetune_eval_every) == (150 * 8, 120 * 8, 20 * 8, 20)
    assert {r.lr for r in (samsum, xsum, rte, cb)} == {3e-5} and {r.reg_lr for r in (samsum, rte)} == {0.01}
    assert samsum.paired_seeds == p.student.paired_seeds and samsum.seeds == p.student.seeds  # seeds stay the profile's
    for name in ("smoke", "cpu", "rehearsal"):  # one recipe for every task there
        q = profiles.get(name)
        assert all(q.recipe(t.task) == q.student for t in q.teachers)
    off = profiles.get("paper", per_task_recipes=False)
    assert off.recipe("samsum") == off.student
    with pytest.raises(ValueError, match="task 'sst2_frequent' has no row in the paper's Tables 8 / 9"):
        profiles.paper_student("sst2_frequent", p.student)
    assert "at most 73660 fine-tuning steps (validation every 1000, the best kept" in samsum.describe()


def test_paper_profile_has_a_teacher_for_every_task_of_its_tables():
    p = profiles.get("paper")
    table1, table3, table4 = ("tweetqa", "xsum", "samsum", "cnn_dailymail"), ("rte", "boolq", "cb", "samsum", "tweetqa"), \
        ("rte", "samsum", "tweetqa")
    table11 = ("qnli", "sst2", "cola", "mrpc", "rte", "stsb", "boolq", "wic", "copa", "cb")
    assert {t.task for t in p.teachers} == set(table1 + table3 + table4 + table11 + ("dolly",)) == set(profiles.PAPER_TASKS)
    assert set(p.pruning_tasks) == set(table1)  # Table 11 takes the NLU teachers itself; Tables 3 / 4: an override
    samsum, tweetqa, cnn, cb, qnli, dolly = (p.teacher(t) for t in ("samsum", "tweetqa", "cnn_dailymail", "cb", "qnli",
                                                                     "dolly"))
    assert samsum.steps == 20 * -(-14_732 // 4) and cnn.steps == 3 * -(-287_113 // 4)  # Table 8's fine-tuning epochs
    assert tweetqa.steps == 20 * -(-10_692 // 4) and qnli.steps == 20 * -(-104_743 // 32)  # Table 9: 20 at batch 32
    assert (cb.batch, cb.steps, cb.max_source_len, cb.max_target_len, cb.beams) == (32, 20 * 8, 128, 5, 1)
    assert (cnn.batch, cnn.max_source_len, cnn.max_target_len, cnn.beams, cnn.lr) == (4, 512, 128, 4, 3e-5)
    assert dolly.max_target_len == 256 and {t.init for t in p.teachers} == {"t5-base"}
    assert {t.source for t in p.teachers} == {"auto"} and {t.warmup_steps for t in p.teachers} == {0}
    assert profiles.paper_teacher("rte", 277, lr=1e-4).lr == 1e-4
    with pytest.raises(ValueError, match="task 'sst2_frequent' has no row in the paper's Tables 8 / 9"):
        profiles.paper_teacher("sst2_frequent", 100)


def test_notebook_tasks_name_tasks_with_teachers_once_per_notebook():
    paper = profiles.get("paper")
    assert paper.tasks_for("table4_encoder_pruning") == ("rte", "samsum", "tweetqa")
    assert paper.tasks_for("table1_nash_vs_baselines") == paper.pruning_tasks
    assert profiles.get("rehearsal").notebook_tasks == paper.notebook_tasks  # only sizes differ
    cpu = profiles.get("cpu")
    assert dict(cpu.notebook_tasks) == {"fig7_multitask": ("sst2_frequent", "sst2")}  # only Figure 7 mixes tasks
    assert cpu.tasks_for("table3_layer_selection") == ("sst2_frequent",)
    listed = profiles.get("paper", notebook_tasks=[["table3_layer_selection", ["rte"]]])
    assert listed.notebook_tasks == (("table3_layer_selection", ("rte",)),)  # lists read as tuples
    with pytest.raises(ValueError, match="notebook_tasks of 'fig6_pruned_structure' names \\['sst2_frequent'\\], which have "
                                         "no teacher"):
        profiles.get("paper", notebook_tasks=[("fig6_pruned_structure", ("sst2_frequent",))])
    for bad in ([("fig6_pruned_structure", ())], [("fig6_pruned_structure",)], [(3, ("rte",))]):
        with pytest.raises(ValueError, match="notebook_tasks entry .*allowed: \\(notebook name, non-empty list"):
            profiles.get("paper", notebook_tasks=bad)
    with pytest.raises(ValueError, match="names a notebook twice"):
        profiles.get("paper", notebook_tasks=[("fig6_pruned_structure", ("rte",)), ("fig6_pruned_structure", ("cb",))])


def test_cpu_profile_pins_avx2_kernels_and_start_warns_without_them(monkeypatch):
    assert profiles.get("cpu").kernel_isa == "avx2" and profiles.get("smoke").kernel_isa == ""
    with pytest.raises(ValueError, match="kernel_isa='sse'; allowed: '' .*'avx2'"):
        profiles.get("cpu", kernel_isa="sse")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    with pytest.warns(RuntimeWarning, match="pins the CPU kernels to AVX2, and this process runs AVX512.*"
                                            "ATEN_CPU_CAPABILITY=avx2"):
        profiles.start("cpu", seed=0, out_dir=".")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        profiles.start("cpu", seed=0, out_dir=".")


def test_start_gives_a_notebook_its_own_tasks_when_run_by_hand():
    """settings.start(..., notebook=name) applies Profile.notebook_tasks as the runner does (a notebook opened
    in Jupyter prunes its table's tasks too); the user's pruning_tasks wins; an unknown name is refused."""
    threads = torch.get_num_threads()
    try:
        reh = profiles.get("rehearsal")
        own = dict(reh.notebook_tasks)["table3_layer_selection"]
        p, _ = profiles.start("rehearsal", seed=0, out_dir="unused", notebook="table3_layer_selection")
        assert p.pruning_tasks == own != reh.pruning_tasks
        p, _ = profiles.start("rehearsal", seed=0, out_dir="unused", notebook="table1_nash_vs_baselines")
        assert p.pruning_tasks == reh.pruning_tasks  # no entry: the profile's list
        p, _ = profiles.start("rehearsal", seed=0, out_dir="unused", overrides={"pruning_tasks": ["samsum"]},
                              notebook="table3_layer_selection")
        assert p.pruning_tasks == ("samsum",)
        with pytest.raises(ValueError, match="notebook='table99' is not a notebook of notebooks/"):
            profiles.start("rehearsal", seed=0, out_dir="unused", notebook="table99")
    finally:
        torch.set_num_threads(threads)
