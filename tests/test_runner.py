import ast
import json
import os
import platform

import pytest
import yaml

from nashlib import env, settings
from nashlib import runner as notebooks

EXPECTED = {"fig2_decoder_depth_speed", "fig3_layer_time_vs_seqlen", "fig4_component_profile", "fast_generation"}


def test_every_paper_notebook_is_found():
    assert EXPECTED <= set(notebooks.available())


def test_unknown_notebook_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown notebook\\(s\\) \\['fig9'\\]; allowed: .*fig2_decoder_depth_speed"):
        notebooks.select("fig9")
    assert notebooks.select("fig3_layer_time_vs_seqlen.py,fig2_decoder_depth_speed") == [
        "fig3_layer_time_vs_seqlen", "fig2_decoder_depth_speed"]


def test_full_only_notebooks_run_with_full_or_by_name(monkeypatch):
    assert set(notebooks.FULL_ONLY) <= set(notebooks.settings.names())
    assert all(set(names) <= set(notebooks.available()) for names in notebooks.FULL_ONLY.values())
    monkeypatch.setattr(notebooks, "FULL_ONLY", {"smoke": ("fig3_layer_time_vs_seqlen",)})
    everything = notebooks.available()
    assert notebooks.select("", "smoke", full=False) == [n for n in everything if n != "fig3_layer_time_vs_seqlen"]
    assert notebooks.select("", "smoke", full=True) == everything
    assert notebooks.select("", "cpu", full=False) == everything  # another profile's list does not apply
    assert notebooks.select("fig3_layer_time_vs_seqlen", "smoke", full=False) == ["fig3_layer_time_vs_seqlen"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameters_cell_holds_only_typed_literals(name):
    src = (notebooks.NOTEBOOK_DIR / f"{name}.py").read_text()
    assert "kernelspec:" in src and "name: python3" in src
    cell = src.split('# %% tags=["parameters"]\n', 1)[1].split("\n# %%", 1)[0]
    tree = ast.parse(cell)
    names = []
    for stmt in tree.body:
        assert isinstance(stmt, ast.AnnAssign), f"{name}: parameters cell holds {ast.dump(stmt)[:60]}"
        ast.literal_eval(stmt.value)  # a plain literal, nothing derived
        names.append(stmt.target.id)
    assert names[:3] == ["PROFILE", "OUT_DIR", "SEED"]
    for line in cell.strip().splitlines():
        assert "#" in line, f"{name}: parameter without a comment: {line}"


def test_default_out_dir_keeps_tests_out_of_figures():
    assert notebooks.default_out_dir("cpu") == notebooks.REPO_ROOT / "figures"
    assert notebooks.default_out_dir("smoke") == notebooks.BUILD_DIR / "figures" / "smoke"


def test_cli_rejects_unknown_profile(capsys):
    assert notebooks.main(["run", "--profile", "turbo"]) == 2
    assert "unknown profile 'turbo'; allowed: smoke, cpu, laptop, paper" in capsys.readouterr().err


def test_prepare_injects_parameters(tmp_path):
    [path] = notebooks.prepare("smoke", tmp_path, only="fig3_layer_time_vs_seqlen", out_dir=tmp_path / "figs")
    nb = json.loads(path.read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and "PROFILE = \"smoke\"" in "".join(injected[0]["source"])
    with pytest.raises(ValueError, match="profile 'cpu' would write into the committed figures"):
        notebooks.prepare("cpu", tmp_path)


def test_a_notebook_gets_its_own_tasks_where_the_profile_lists_them(tmp_path):
    paper = settings.get("paper")
    assert notebooks.notebook_overrides(paper, "table3_layer_selection", None) == {
        "pruning_tasks": ["rte", "boolq", "cb", "samsum", "tweetqa"]}
    assert notebooks.notebook_overrides(paper, "table3_layer_selection", {"repeats": 3}) == {
        "repeats": 3, "pruning_tasks": ["rte", "boolq", "cb", "samsum", "tweetqa"]}
    assert notebooks.notebook_overrides(paper, "table1_nash_vs_baselines", {"repeats": 3}) == {"repeats": 3}
    mine = {"pruning_tasks": ["samsum"]}  # the user's choice, for every notebook
    assert notebooks.notebook_overrides(paper, "table3_layer_selection", mine) == mine
    cpu = settings.get("cpu")  # one list (Figure 7's mixtures); every other notebook prunes pruning_tasks
    assert notebooks.notebook_overrides(cpu, "fig7_multitask", None) == {"pruning_tasks": ["sst2_frequent", "sst2"]}
    assert all(notebooks.notebook_overrides(cpu, n, None) is None for n in notebooks.available()
               if n != "fig7_multitask")
    [path] = notebooks.prepare("rehearsal", tmp_path, only="fig8_cofi_instability", out_dir=tmp_path / "figs")
    injected = [c for c in json.loads(path.read_text())["cells"]
                if "injected-parameters" in c["metadata"].get("tags", [])]
    assert 'OVERRIDES = {"pruning_tasks": ["rte", "samsum"]}' in "".join(injected[0]["source"])


def test_failing_notebook_is_reported_with_its_cell(tmp_path, monkeypatch):
    bad = tmp_path / "nb"
    bad.mkdir()
    (bad / "broken.py").write_text(
        '# %% [markdown]\n# A notebook that fails\n\n# %% tags=["parameters"]\nPROFILE: str = "cpu"  # p\n'
        'OUT_DIR: str = "."  # o\n\n# %%\nraise RuntimeError("boom in cell")\n')
    (bad / "fine.py").write_text('# %% tags=["parameters"]\nPROFILE: str = "cpu"  # p\nOUT_DIR: str = "."  # o\n\n# %%\nx = 1\n')
    monkeypatch.setattr(notebooks, "NOTEBOOK_DIR", bad)
    monkeypatch.setattr(notebooks, "BUILD_DIR", tmp_path / "build")
    outcomes = notebooks.run("smoke", progress=False)
    by_name = {o.name: o for o in outcomes}
    assert not by_name["broken"].ok and "RuntimeError: boom in cell" in by_name["broken"].error
    assert by_name["fine"].ok  # the other notebook still ran


def test_report_gathers_findings_from_run_info(tmp_path):
    from nashlib.results import report

    (tmp_path / "figA.json").write_text(json.dumps(dict(
        figure="figA", profile="cpu", cpu="Some CPU", torch_threads=2, git_commit="abc",
        findings=[dict(finding="Figure 3", claim="c|laim", paper="p", ours="o", verdict="partly holds", checks=[
            dict(claim="faster", outcome="holds", estimate=2.4312, interval=[2.1, 2.7], n=5, rows=872),
            dict(claim="both", outcome="does not hold", estimate=None, parts=[
                dict(claim="layers", outcome="does not hold", estimate=9, interval=None, n=1)])])])))
    (tmp_path / "figB.json").write_text(json.dumps(dict(figure="figB", profile="cpu", gpu="H100", findings=[])))
    path = report.write_report(tmp_path)
    text = path.read_text()
    assert ("| Figure 3 | c\\|laim | p | o | **partly holds** | faster: 2.43 [2.1, 2.7], n=5 x 872 rows (holds); "
            "layers: 9 (point value, n=1) (does not hold) |") in text
    assert "| [figA](figA.png) | cpu | Some CPU, 2 threads |" in text  # made before run info had the ISA
    assert "commit(s) abc" in text
    info = json.loads((tmp_path / "figA.json").read_text())
    (tmp_path / "figA.json").write_text(json.dumps({**info, "cpu_capability": "AVX512"}))
    assert "| [figA](figA.png) | cpu | Some CPU (AVX512), 2 threads |" in report.write_report(tmp_path).read_text()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not a readable run-info JSON"):
        report.collect(tmp_path)


def _figure(folder, name, commit, time_utc="2026-01-01T00:00:00+00:00"):
    (folder / f"{name}.json").write_text(json.dumps(dict(
        figure=name, profile="cpu", cpu="c", torch_threads=2, git_commit=commit, time_utc=time_utc,
        findings=[dict(finding="F", claim="c", paper="p", ours="o", verdict="holds")])))


def test_report_marks_rows_whose_code_changed_or_whose_last_run_failed(tmp_path):
    import subprocess

    from nashlib.results import report

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=notebooks.REPO_ROOT, capture_output=True,
                          text=True).stdout.strip()
    first = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=notebooks.REPO_ROOT,
                           capture_output=True, text=True).stdout.split()[-1]
    _figure(tmp_path, "fig3_layer_time_vs_seqlen", head)  # made from the newest code
    _figure(tmp_path, "fig4_component_profile", first)  # made before the library changed
    _figure(tmp_path, "fig2_decoder_depth_speed", head + "+dirty")  # made from uncommitted code
    _figure(tmp_path, "teachers", head)
    report.record_run(tmp_path, "teachers", False, "cell 3 raised RuntimeError: boom\nmore")
    by_figure = {r.figure: r.stale for r in report.collect(tmp_path)}
    assert by_figure["fig3_layer_time_vs_seqlen"] == ""
    assert by_figure["fig4_component_profile"].startswith(f"code changed since: figure from {first[:7]}")
    assert by_figure["fig2_decoder_depth_speed"].startswith("made from uncommitted changes")
    assert by_figure["teachers"].startswith("last run failed (") and by_figure["teachers"].endswith("boom")
    text = report.render(report.collect(tmp_path))
    assert "| current |" in text and "stale: last run failed" in text
    report.record_run(tmp_path, "teachers", True)  # a later good run clears it
    assert {r.figure: r.stale for r in report.collect(tmp_path)}["teachers"] == ""


def test_run_rejects_bad_overrides_before_starting_a_kernel():
    with pytest.raises(TypeError, match="repeats='3' has type str; expected int"):
        notebooks.run("smoke", only="fig3_layer_time_vs_seqlen", overrides={"repeats": "3"}, progress=False)


def test_allocator_env_adds_the_settings_on_linux_and_keeps_the_users_values():
    base = {"PATH": "/bin", "MALLOC_TOP_PAD_": "12345"}
    out = env.allocator_env(base, system="Linux")
    assert out == {"PATH": "/bin", "MALLOC_TOP_PAD_": "12345", "MALLOC_MMAP_MAX_": "0",
                   "MALLOC_TRIM_THRESHOLD_": "4294967296"}
    assert base == {"PATH": "/bin", "MALLOC_TOP_PAD_": "12345"}  # not changed in place
    assert env.allocator_env(base, system="Darwin") == base


def _one_notebook(tmp_path, monkeypatch, name: str, body: str) -> None:
    """A notebook folder holding only ``name`` (parameters cell, then ``body``), and a build folder, for run()."""
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    (nb_dir / f"{name}.py").write_text(
        f'# %% tags=["parameters"]\nPROFILE: str = "cpu"  # p\nOUT_DIR: str = "."  # o\n\n# %%\n{body}')
    monkeypatch.setattr(notebooks, "NOTEBOOK_DIR", nb_dir)
    monkeypatch.setattr(notebooks, "BUILD_DIR", tmp_path / "build")


@pytest.mark.skipif(platform.system() != "Linux", reason="glibc allocator settings apply on Linux only")
def test_kernels_start_with_the_allocator_settings(tmp_path, monkeypatch):
    _one_notebook(tmp_path, monkeypatch, "alloc", 'import json, pathlib\nfrom nashlib import env\n'
                  'pathlib.Path(OUT_DIR, "alloc.json").write_text(json.dumps(env.allocator_settings()))\n')
    for key in env.ALLOCATOR_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MALLOC_TOP_PAD_", "12345")  # set by the user: kept
    [outcome] = notebooks.run("smoke", out_dir=tmp_path, progress=False)
    assert outcome.ok, outcome.error
    seen = json.loads((tmp_path / "alloc.json").read_text())
    assert seen["values"] == {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "4294967296",
                              "MALLOC_TOP_PAD_": "12345"}
    assert seen["active"] is False  # the user's MALLOC_TOP_PAD_ is not the project's setting
    assert "MALLOC_MMAP_MAX_" not in os.environ and os.environ["MALLOC_TOP_PAD_"] == "12345"  # runner's env restored


def test_cli_prints_only_the_allocator_settings_it_adds(capsys, monkeypatch):
    for key in env.ALLOCATOR_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MALLOC_MMAP_MAX_", "7")
    assert notebooks.main(["allocator-env"]) == 0
    printed = capsys.readouterr().out.split()
    expected = ["MALLOC_TRIM_THRESHOLD_=4294967296", "MALLOC_TOP_PAD_=1073741824"]
    assert printed == (expected if platform.system() == "Linux" else [])


def test_cli_set_and_settings_file_reach_the_notebooks(tmp_path, monkeypatch, capsys):
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    (nb_dir / "echo.py").write_text(
        '# %% tags=["parameters"]\nPROFILE: str = "cpu"  # p\nOUT_DIR: str = "."  # o\nOVERRIDES: dict = {}  # x\n\n'
        '# %%\nimport json, pathlib\nfrom nashlib import settings\np = settings.get(PROFILE, OVERRIDES)\n'
        'pathlib.Path(OUT_DIR, "seen.json").write_text(json.dumps([p.repeats, p.student.steps, p.teacher("sst2").steps]))\n')
    monkeypatch.setattr(notebooks, "NOTEBOOK_DIR", nb_dir)
    monkeypatch.setattr(notebooks, "BUILD_DIR", tmp_path / "build")
    (tmp_path / "s.yaml").write_text("student:\n  steps: 7\nrepeats: 9\n")
    code = notebooks.main(["run", "--profile", "smoke", "--out", str(tmp_path), "--settings", str(tmp_path / "s.yaml"),
                           "--set", "repeats=4", "--set", "teachers.sst2.steps=13"])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "seen.json").read_text()) == [4, 7, 13]  # --set wins over the file


def test_cli_rejects_a_bad_setting_before_any_kernel(capsys):
    assert notebooks.main(["run", "--profile", "smoke", "--set", "student.stepz=3"]) == 2
    assert "unknown setting(s) ['student.stepz']" in capsys.readouterr().err
    assert notebooks.main(["run", "--profile", "smoke", "--set", "repeats"]) == 2
    assert "allowed: KEY=VALUE" in capsys.readouterr().err


def test_readme_papermill_override_example_works(tmp_path):
    """The README's papermill line (-y with YAML) must reach OVERRIDES as a dict."""
    import re
    import subprocess
    import sys

    readme = (notebooks.REPO_ROOT / "README.md").read_text()
    [yaml_arg] = re.findall(r"papermill \S+ \S+ -k python3 --cwd notebooks -p PROFILE smoke -y '([^']+)'", readme)
    src = tmp_path / "echo.py"
    src.write_text('# %% tags=["parameters"]\nPROFILE: str = "cpu"  # p\nOUT_DIR: str = "."  # o\nOVERRIDES: dict = {}  # x\n\n'
                   '# %%\nfrom nashlib import settings\nimport pathlib\n'
                   'pathlib.Path(OUT_DIR, "r.txt").write_text(str(settings.get(PROFILE, OVERRIDES).repeats))\n')
    import jupytext

    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    jupytext.write(nb, tmp_path / "echo.ipynb")
    done = subprocess.run([sys.executable, "-m", "papermill", str(tmp_path / "echo.ipynb"), str(tmp_path / "out.ipynb"),
                           "-k", "python3", "-p", "PROFILE", "smoke", "-p", "OUT_DIR", str(tmp_path), "-y", yaml_arg],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "r.txt").read_text() == str(yaml.safe_load(yaml_arg)["OVERRIDES"]["repeats"])


def test_stale_rule_reads_only_the_files_a_figure_depends_on(monkeypatch):
    import subprocess

    from nashlib.results import report

    calls, changed = [], [""]

    def fake_git(*args):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout=changed[0], stderr="")

    monkeypatch.setattr(report, "_git", fake_git)
    assert report._code_changed("fig3_layer_time_vs_seqlen", "abc1234") == ""  # nothing it reads changed
    paths = calls[-1][calls[-1].index("--") + 1:]
    assert calls[-1][:4] == ("diff", "--name-only", "abc1234", "HEAD")
    assert {"notebooks/fig3_layer_time_vs_seqlen.py", "nashlib/speed/components.py", "nashlib/settings.py",
            "nashlib/__init__.py", "nashlib/speed/__init__.py"} <= set(paths)
    assert "nashlib/experiments/students.py" not in paths and "nashlib/results/report.py" not in paths
    assert "nashlib/pruning/prune.py" in report.dependencies("table1_nash_vs_baselines")  # through imports
    changed[0] = "nashlib/speed/timing.py\nnashlib/settings.py\n"
    why = report._code_changed("fig3_layer_time_vs_seqlen", "abc1234+dirty")
    assert why == "code changed since: figure from abc1234; changed since then: nashlib/speed/timing.py, " \
                  "nashlib/settings.py"


def test_a_figure_with_a_settings_digest_is_stale_only_when_its_profiles_values_change(monkeypatch):
    import subprocess

    from nashlib import settings
    from nashlib.results import report

    calls = []

    def fake_git(*args):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="", stderr="")

    monkeypatch.setattr(report, "_git", fake_git)
    info = {"profile": "smoke", "settings_digest": settings.digest(settings.get("smoke"))}
    assert report._code_changed("fig3_layer_time_vs_seqlen", "abc1234", info) == ""
    assert "nashlib/settings.py" not in calls[-1]  # compared by value, not as the file of every profile
    assert settings.digest(settings.get("smoke", {"repeats": 3})) != info["settings_digest"]
    assert settings.digest(settings.get("smoke", {"student.steps": 7})) != info["settings_digest"]  # nested too
    changed = {**info, "settings_digest": settings.digest(settings.get("smoke", {"repeats": 3}))}
    assert report._code_changed("fig3_layer_time_vs_seqlen", "abc1234", changed) == \
        "the smoke profile's settings changed since the figure was made"
    report._code_changed("fig3_layer_time_vs_seqlen", "abc1234", {"profile": "smoke"})  # an older figure
    assert "nashlib/settings.py" in calls[-1]


def test_a_warm_rerun_skips_what_is_current_and_reruns_what_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(notebooks, "BUILD_DIR", tmp_path / "build")
    name, out = "fig3_layer_time_vs_seqlen", tmp_path / "figures"
    [first] = notebooks.run("smoke", only=name, out_dir=out, progress=False)
    assert first.ok and not first.skipped
    [again] = notebooks.run("smoke", only=name, out_dir=out, progress=False)
    assert again.ok and again.skipped and again.seconds == 0.0
    assert "(current; --force runs it)" in notebooks._summary([again], "smoke")
    [changed] = notebooks.run("smoke", only=name, out_dir=out, overrides={"repeats": 3}, progress=False)
    assert not changed.skipped  # other values: not current
    [forced] = notebooks.run("smoke", only=name, out_dir=out, overrides={"repeats": 3}, progress=False, force=True)
    assert not forced.skipped
    (out / f"{name}.json").unlink()  # its outputs gone: not current
    [gone] = notebooks.run("smoke", only=name, out_dir=out, overrides={"repeats": 3}, progress=False)
    assert not gone.skipped
    key = notebooks.stamp_key(name, "smoke", out, {"repeats": 3})
    assert key != notebooks.stamp_key(name, "smoke", out, None)
    assert key != notebooks.stamp_key("fig2_decoder_depth_speed", "smoke", out, {"repeats": 3})


def test_kernel_env_pins_x86_kernels_and_keeps_the_users_values():
    base = {"PATH": "/bin", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}
    out = env.kernel_env("avx2", base, machine="x86_64")
    assert out == {"PATH": "/bin", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ATEN_CPU_CAPABILITY": "avx2",
                   "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert env.kernel_env("", base, machine="x86_64") == base  # the CPU's own kernels
    assert env.kernel_env("avx2", base, machine="aarch64") == base  # x86 names mean nothing there
    with pytest.raises(ValueError, match="kernel isa='avx512'; allowed: '' .* 'avx2'"):
        env.kernel_env("avx512", base)


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64") or
                    __import__("torch").backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"),
                    reason="pinning AVX2 kernels needs an x86-64 CPU with AVX2")
def test_cpu_profile_kernels_run_avx2_kernels(tmp_path, monkeypatch):
    _one_notebook(tmp_path, monkeypatch, "isa", 'import pathlib, torch\n'
                  'pathlib.Path(OUT_DIR, "isa.txt").write_text(torch.backends.cpu.get_cpu_capability())\n')
    for key in env.KERNEL_VARS:
        monkeypatch.delenv(key, raising=False)
    [outcome] = notebooks.run("cpu", out_dir=tmp_path, progress=False)  # the profile pins AVX2
    assert outcome.ok, outcome.error
    assert (tmp_path / "isa.txt").read_text() == "AVX2" and "ATEN_CPU_CAPABILITY" not in os.environ
