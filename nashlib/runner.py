"""Headless notebook runner: jupytext ``.py`` -> ``.ipynb`` -> papermill, with a summary table.

    python -m nashlib.runner list
    python -m nashlib.runner run --profile cpu [--only fig3_layer_time_vs_seqlen,...] [--out DIR]
                                 [--set repeats=3 --set student.steps=100] [--settings my.yaml]
    python -m nashlib.runner plan --profile paper [--only table1_nash_vs_baselines] [--measure]  # the bill
    python -m nashlib.runner prepare --profile smoke --dest build/nbval   # for nbval
    python -m nashlib.runner allocator-env   # KEY=VALUE settings to add (the Makefile's nbval kernels)

``run`` converts every ``notebooks/*.py`` (the source of truth) to its paired ``.ipynb``, executes it
with papermill (kernel ``python3``, working directory ``notebooks/``) with the parameters
``PROFILE``, ``OUT_DIR`` and ``OVERRIDES`` injected (``--settings`` file first, then each ``--set``; the same
one override channel a notebook's parameters cell has, see ``nashlib.settings``), and keeps the executed copy under
``build/notebooks/<profile>/``. Where the profile lists a notebook's own tasks (``Profile.notebook_tasks``: the paper
profile's Tables 3, 4, 10 and Figures 6, 8 prune the tasks of the paper's own artefact), they go in as the
``pruning_tasks`` override, unless the user overrides ``pruning_tasks`` for every notebook.
On Linux, kernels start with the glibc allocator settings ``env.ALLOCATOR_SETTINGS`` (a variable the
user already set keeps the user's value); each figure's run info records them.
A profile with ``writes_figures`` (``cpu``) writes its figures to the committed ``figures/``; every other
profile writes to ``build/figures/<profile>/``. After the run, ``REPORT.md`` in that folder gathers every notebook's
findings and verdicts (``nashlib.results.report``). A failing notebook is reported with the cell that raised, the others
still run, and the exit status is non-zero.

A warm re-run skips what is current, as ``make`` does: after a notebook succeeds, ``build/stamps/<profile>/`` records
a digest of what determines its outputs (the contents of the notebook and of every ``nashlib`` module it imports,
the profile's values with the overrides, the figure folder); a later ``run`` skips a notebook whose digest is
unchanged and whose run-info JSON is still in the figure folder. ``--force`` (``make figures FORCE=1``) runs it
anyway. The stamps live in ``build/``, so a fresh clone runs everything.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nashlib import settings
from nashlib.settings import notebook_overrides
from nashlib.env import REPO_ROOT, allocator_env, atomic_write_text, kernel_env
from nashlib.results.report import dependencies, record_run, write_report

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BUILD_DIR = REPO_ROOT / "build"

__all__ = ["available", "select", "default_out_dir", "convert", "kernel_environment", "run", "prepare", "main"]


def available() -> list[str]:
    """Names (file stems) of the notebooks, in the order they run."""
    return sorted(p.stem for p in NOTEBOOK_DIR.glob("*.py") if not p.name.startswith("_"))


# Notebooks that a plain `make figures` in a profile leaves out, to keep it within the profile's budget; `make
# figures FULL=1` (``run --full``) runs them too, and naming one in ONLY always runs it. Chosen from the
# measured per-notebook times (README): in cpu the roofline and decoding study (about 20 minutes), the released-code
# variants (about 16), Table 10 (four dense models and ten students), Table 11 (ten students and five small dense
# models on SST-2), Table 2 (offline its speed half alone: T5-base shapes at two output lengths), Table 6
# (BART-base shapes), Figure 2's quality sweeps (four curves of 5 to 7 targets at 5 seeds: about 120 students),
# Figure 7's multi-task mixtures (a mixture teacher, five small dense models and five NASH-3 students), Table 5
# (about 4.5: deeper shapes, speed only; moved out when the grouped-path columns of Figure 2 and Table 1's speed
# notebook took the cold run past 2 hours) and Table 4 (about 14: moved out when the teachers notebook began
# training its own teachers, 129 minutes in all at a83adf9) are the parts no other notebook needs.
FULL_ONLY: dict[str, tuple[str, ...]] = {
    "cpu": ("fast_generation", "fig2_quality_sweeps", "fig7_multitask", "table4_encoder_pruning",
            "table10_shallow_decoders", "table11_nlu", "table2_instruction_tuning", "table5_deeper_models",
            "table6_bart_base", "variants_paper_vs_released"),
}


def select(only: str | list[str] | None, profile: str | None = None, full: bool = True) -> list[str]:
    """The notebooks to run: ``only`` (all when empty), less the profile's :data:`FULL_ONLY` unless ``full``."""
    names = available()
    if not only:
        skipped = () if full or profile is None else FULL_ONLY.get(profile, ())
        return [n for n in names if n not in skipped]
    wanted = [w.strip().removesuffix(".py").removesuffix(".ipynb") for w in
              (only.split(",") if isinstance(only, str) else only) if w.strip()]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ValueError(f"unknown notebook(s) {unknown}; allowed: {', '.join(names)}")
    return wanted


def default_out_dir(profile: str) -> Path:
    """``figures/`` for the profile that writes the committed figures, else ``build/figures/<profile>``."""
    return REPO_ROOT / "figures" if settings.get(profile).writes_figures else BUILD_DIR / "figures" / profile


def convert(name: str, dest: Path) -> Path:
    """Write the ``.ipynb`` for ``notebooks/<name>.py`` to ``dest`` (a folder); return its path."""
    import jupytext

    nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    return atomic_write_text(dest / f"{name}.ipynb", jupytext.writes(nb, fmt="ipynb"))


@dataclass
class Outcome:
    name: str
    ok: bool
    seconds: float
    error: str = ""
    skipped: bool = False  # current (its stamp matched): not run


def stamp_key(name: str, profile: str, out_dir: Path, overrides: dict | None) -> str:
    """The digest of what determines notebook ``name``'s outputs (see the module docstring)."""
    h = hashlib.sha256()
    for rel in dependencies(name):
        h.update(rel.encode() + b"\0" + hashlib.sha256((REPO_ROOT / rel).read_bytes()).digest())
    h.update(settings.digest(settings.get(profile, overrides)).encode())
    h.update(json.dumps([str(Path(out_dir).resolve()), overrides or {}], sort_keys=True, default=repr).encode())
    return h.hexdigest()


def _stamp(name: str, profile: str) -> Path:
    return BUILD_DIR / "stamps" / profile / f"{name}.json"


def is_current(name: str, profile: str, out_dir: Path, overrides: dict | None) -> bool:
    """Whether ``name`` ran here with the same inputs (its stamp) and its run info is still in ``out_dir``."""
    stamp = _stamp(name, profile)
    if not stamp.is_file() or not (Path(out_dir) / f"{name}.json").is_file():
        return False
    try:
        return json.loads(stamp.read_text()).get("key") == stamp_key(name, profile, out_dir, overrides)
    except (OSError, json.JSONDecodeError):
        return False


def _parameters(profile: str, out_dir: Path, overrides: dict | None) -> dict:
    params = {"PROFILE": profile, "OUT_DIR": str(out_dir)}
    if overrides:
        params["OVERRIDES"] = overrides
    return params


@contextlib.contextmanager
def kernel_environment(kernel_isa: str = ""):
    """``os.environ`` with the allocator settings and the profile's pinned CPU kernels (``Profile.kernel_isa``)
    added, for the kernels started inside; restored on exit."""
    saved = dict(os.environ)
    os.environ.update(kernel_env(kernel_isa, allocator_env()))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run(profile: str, only=None, out_dir: str | os.PathLike | None = None, overrides: dict | None = None,
        progress: bool = True, full: bool = False, force: bool = False) -> list[Outcome]:
    """Execute the selected notebooks in ``profile`` (with ``full``, :data:`FULL_ONLY` too); one :class:`Outcome`
    each. A notebook that is current (:func:`is_current`) is skipped unless ``force``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    from tqdm import tqdm

    p = settings.get(profile, overrides)  # fail fast on a bad profile or override
    names = select(only, profile, full)
    left_out = [n for n in FULL_ONLY.get(profile, ()) if n not in names] if not only else []
    if left_out and progress:
        print(f"left out (run them with FULL=1, or by name with ONLY=...): {', '.join(left_out)}", file=sys.stderr)
    out = Path(out_dir).resolve() if out_dir else default_out_dir(profile)
    executed = BUILD_DIR / "notebooks" / profile
    executed.mkdir(parents=True, exist_ok=True)
    outcomes = []
    bar = tqdm(names, desc=f"notebooks ({profile})", unit="nb", disable=not progress)
    with kernel_environment(p.kernel_isa):  # kernels inherit os.environ; glibc and torch read it at their start
        for name in bar:
            bar.set_postfix_str(name)
            mine = notebook_overrides(p, name, overrides)  # the notebook's own tasks, where the profile has them
            if not force and is_current(name, profile, out, mine):
                outcomes.append(Outcome(name, True, 0.0, skipped=True))
                continue
            key = stamp_key(name, profile, out, mine)  # before the run: what it ran with
            src = convert(name, NOTEBOOK_DIR)  # the paired, unexecuted notebook beside the .py
            start = time.perf_counter()
            try:
                pm.execute_notebook(str(src), str(executed / f"{name}.ipynb"),
                                    parameters=_parameters(profile, out, mine), kernel_name="python3",
                                    cwd=str(NOTEBOOK_DIR), progress_bar=False, log_output=False)
                outcomes.append(Outcome(name, True, time.perf_counter() - start))
            except PapermillExecutionError as err:
                source = "\n".join("    " + line for line in str(err.source).splitlines()[:12])
                msg = (f"cell {err.cell_index} (execution count {err.exec_count}) raised {err.ename}: "
                       f"{err.evalue}\n{source}")
                outcomes.append(Outcome(name, False, time.perf_counter() - start, msg))
            except Exception as err:  # kernel died, notebook unreadable, ...
                outcomes.append(Outcome(name, False, time.perf_counter() - start, f"{type(err).__name__}: {err}"))
            record_run(out, name, outcomes[-1].ok, outcomes[-1].error)  # REPORT.md marks a failed one stale
            stamp = _stamp(name, profile)
            if outcomes[-1].ok:
                atomic_write_text(stamp, json.dumps({"key": key, "seconds": round(outcomes[-1].seconds, 1)}))
            elif stamp.exists():
                stamp.unlink()
    if out.is_dir():
        write_report(out)
    spent = sum(o.seconds for o in outcomes)
    if not only and spent > 60 * p.budget_minutes:
        print(f"warning: profile {profile} took {spent / 60:.1f} min, over its budget of {p.budget_minutes} min "
              "(settings.Profile.budget_minutes)", file=sys.stderr)
    return outcomes


def prepare(profile: str, dest: str | os.PathLike, only=None, out_dir: str | os.PathLike | None = None) -> list[Path]:
    """Write notebooks with ``profile``'s parameters injected but not executed (for nbval)."""
    import papermill as pm

    p = settings.get(profile)
    if p.writes_figures:
        raise ValueError(f"prepare is for test runs; profile {profile!r} would write into the committed figures/")
    dest = Path(dest).resolve()
    out = Path(out_dir).resolve() if out_dir else BUILD_DIR / "figures" / f"{profile}-nbval"
    paths = []
    staging = BUILD_DIR / "notebooks" / "unexecuted"
    for name in select(only):
        src = convert(name, staging)
        target = dest / f"{name}.ipynb"
        dest.mkdir(parents=True, exist_ok=True)
        params = _parameters(profile, out, notebook_overrides(p, name, None))
        pm.execute_notebook(str(src), str(target), parameters=params,
                            kernel_name="python3", prepare_only=True, progress_bar=False)
        paths.append(target)
    return paths


def _summary(outcomes: list[Outcome], profile: str) -> str:
    width = max([len(o.name) for o in outcomes] + [8])
    lines = [f"{'notebook':<{width}}  status  seconds", f"{'-' * width}  ------  -------"]
    for o in outcomes:
        status = "FAILED" if not o.ok else "skip" if o.skipped else "ok"
        lines.append(f"{o.name:<{width}}  {status:<6}  {o.seconds:7.1f}" + ("  (current; --force runs it)"
                                                                          if o.skipped else ""))
    total = sum(o.seconds for o in outcomes)
    lines.append(f"{'total':<{width}}  {sum(o.ok for o in outcomes)}/{len(outcomes)} ok {total:7.1f}  "
                 f"(profile {profile})")
    return "\n".join(lines)


def _overrides(args) -> dict:
    """The ``--settings`` file's mapping, then each ``--set KEY=VALUE`` on top (dotted keys)."""
    out = settings.load_settings_file(args.settings) if args.settings else {}
    for text in args.assignments:
        key, value = settings.parse_assignment(text)
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nashlib.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the notebooks")
    sub.add_parser("allocator-env", help="print the allocator settings a kernel would get, as KEY=VALUE")
    r = sub.add_parser("run", help="execute notebooks with papermill")
    r.add_argument("--profile", default="cpu", help=f"one of: {', '.join(settings.names())} (default cpu)")
    r.add_argument("--only", default="", help="comma-separated notebook names (default: all)")
    r.add_argument("--out", default=None, help="figure folder (default: figures/ for cpu, else build/figures/P)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="assignments",
                   help="override one setting (YAML value), e.g. repeats=3, student.steps=100, "
                        "teachers.sst2.steps=500, teacher_init=path/to/model; repeatable")
    r.add_argument("--settings", default=None, metavar="FILE", help="overrides from a YAML or JSON mapping")
    r.add_argument("--full", action="store_true", help="also the notebooks the profile leaves out of a plain run "
                                                      "(FULL_ONLY)")
    r.add_argument("--force", action="store_true", help="run the notebooks that are current too (see build/stamps)")
    pl = sub.add_parser("plan", help="every model a profile's notebooks train, and the hours (nashlib.plan)")
    pl.add_argument("--profile", default="cpu")
    pl.add_argument("--only", default="", help="comma-separated notebook names (default: all)")
    pl.add_argument("--measure", action="store_true", help="time a training and a pruning step of each shape "
                                                           "here, and estimate the hours")
    p = sub.add_parser("prepare", help="inject parameters without executing (for nbval)")
    p.add_argument("--profile", default="smoke")
    p.add_argument("--dest", required=True)
    p.add_argument("--only", default="")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            print("\n".join(available()))
            return 0
        if args.command == "allocator-env":  # only what is added: values the user set are left alone
            print(" ".join(f"{k}={v}" for k, v in allocator_env().items() if k not in os.environ))
            return 0
        if args.command == "plan":
            from nashlib import plan

            only = select(args.only) if args.only else ()
            settings.get(args.profile)  # a bad profile fails before anything is measured
            print(plan.render(args.profile, only, plan.measure(args.profile, only) if args.measure else None))
            return 0
        if args.command == "prepare":
            for path in prepare(args.profile, args.dest, args.only or None):
                print(path)
            return 0
        outcomes = run(args.profile, args.only or None, args.out, overrides=_overrides(args), full=args.full,
                       force=args.force)
    except (ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(_summary(outcomes, args.profile))
    for o in outcomes:
        if not o.ok:
            print(f"\n{o.name} FAILED: {o.error}", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
