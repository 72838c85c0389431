"""REPORT.md: one row per paper finding, gathered from the run-info JSON that each notebook saved.

The runner calls :func:`write_report` after every run, so the page always reflects what the figures
folder holds; every number on it was written by a notebook, none is typed here.

A row is marked **stale**, with the reason, when what it shows may no longer be what the code gives:

- the notebook's *last run failed* (the runner records every run's outcome in ``last_run.json`` beside
  the figures; a failed run leaves the previous figure in place, so its verdict is an old one);
- the *code changed after the figure was made*: a file the figure depends on differs between the commit
  the figure records and ``HEAD`` (or the figure was made from uncommitted code, ``+dirty``). What a figure
  depends on is its notebook and every ``nashlib`` module the notebook imports, directly or through other
  modules (:func:`dependencies`: read from the sources' import statements, lazy imports inside functions
  included), so a change to the speed code does not mark a pruning figure stale. ``nashlib/settings.py``
  holds every profile, so a figure that recorded its profile's ``settings_digest`` (``settings.digest``) is
  compared by those values instead: adding a profile or changing another profile's recipe leaves it
  current. Without git the status says so.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nashlib.env import REPO_ROOT, atomic_write_text

__all__ = ["ReportRow", "collect", "render", "write_report", "record_run", "dependencies", "evidence", "LAST_RUN"]

LAST_RUN = "last_run.json"  # {notebook: {"ok", "time_utc", "error"}} written by the runner


@dataclass(frozen=True)
class ReportRow:
    finding: str
    claim: str
    paper: str
    ours: str
    verdict: str
    figure: str
    profile: str
    hardware: str
    commit: str
    time_utc: str
    stale: str = ""  # why the row may be out of date; "" when it is current
    evidence: str = ""  # every check: its estimate, 95 % interval and n (:func:`evidence`)


def record_run(out_dir: str | os.PathLike, name: str, ok: bool, error: str = "") -> None:
    """Note one notebook run's outcome in ``out_dir/last_run.json`` (read by :func:`collect`)."""
    path = Path(out_dir) / LAST_RUN
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[name] = {"ok": ok, "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "error": error.splitlines()[0][:300] if error else ""}
    atomic_write_text(path, json.dumps(runs, indent=1, sort_keys=True) + "\n")


def _git(*args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None


def _module_file(name: str) -> Path | None:
    """The source file of module ``nashlib.a.b`` (``nashlib/a/b.py`` or ``nashlib/a/b/__init__.py``), if any."""
    base = REPO_ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(path: Path) -> set[str]:
    """The ``nashlib`` modules a source file imports anywhere in it (``from nashlib.x import y``: ``nashlib.x``,
    and ``nashlib.x.y`` where that is a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.split(".")[0] == "nashlib"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "nashlib":
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names if _module_file(f"{node.module}.{a.name}")}
    return names


def dependencies(figure: str) -> list[str]:
    """The repository files the figure ``figure`` depends on: its notebook and the ``nashlib`` modules it
    imports, directly or transitively (with the packages' ``__init__.py`` on the way), as sorted paths."""
    notebook = REPO_ROOT / "notebooks" / f"{figure}.py"
    files, todo = set(), [notebook] if notebook.is_file() else []
    while todo:
        path = todo.pop()
        if path in files:
            continue
        files.add(path)
        for name in _imported(path):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # the packages on the way are imported too
                found = _module_file(".".join(parts[:i]))
                if found is not None and found not in files:
                    todo.append(found)
    return sorted(str(p.relative_to(REPO_ROOT)) for p in files)


def _settings_changed(info: dict) -> str | None:
    """For a figure that recorded its profile's ``settings_digest``: why those values changed since ("" when
    they did not); ``None`` for an older figure without one (its ``settings.py`` is compared as a file)."""
    recorded, profile = info.get("settings_digest"), info.get("profile")
    if not recorded or not profile:
        return None
    from nashlib import settings

    try:
        now = settings.digest(settings.get(profile))
    except ValueError:
        return f"profile {profile!r} no longer exists"
    return "" if now == recorded else f"the {profile} profile's settings changed since the figure was made"


def _code_changed(figure: str, commit: str, info: dict | None = None) -> str:
    """Why the figure is older than the code that makes it, or "" when it is not (see the module docstring)."""
    base, dirty = commit.removesuffix("+dirty"), commit.endswith("+dirty")
    paths = dependencies(figure) or ["nashlib"]
    by_value = _settings_changed(info or {})
    if by_value:
        return by_value
    if by_value is not None:  # the profile's values are compared, not the file that holds every profile
        paths = [p for p in paths if p != "nashlib/settings.py"]
    changed = _git("diff", "--name-only", base, "HEAD", "--", *paths)
    if changed is None:
        return ""
    if changed.returncode != 0:
        return f"unknown (git cannot compare the figure's commit {base[:7]} with HEAD)"
    files = changed.stdout.split()
    if files:
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        return f"code changed since: figure from {base[:7]}; changed since then: {shown}"
    return f"made from uncommitted changes to {base[:7]}" if dirty else ""


def _stale(figure: str, commit: str, time_utc: str, runs: dict, info: dict) -> str:
    last = runs.get(figure)
    if last and not last["ok"] and last["time_utc"] >= time_utc:
        return f"last run failed ({last['time_utc']}): {last['error']}"
    return _code_changed(figure, commit, info)


def collect(out_dir: str | os.PathLike) -> list[ReportRow]:
    """Every finding recorded in ``out_dir/*.json``, with the figure, profile and hardware it came from."""
    out = Path(out_dir)
    runs = json.loads((out / LAST_RUN).read_text()) if (out / LAST_RUN).exists() else {}
    rows = []
    for path in sorted(out.glob("*.json")):
        if path.name == LAST_RUN:
            continue
        try:
            info = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}: not a readable run-info JSON ({err})") from err
        if not isinstance(info, dict):
            continue
        isa = f" ({info['cpu_capability']})" if info.get("cpu_capability") else ""  # not in figures made before it
        hardware = info.get("gpu") or f"{info.get('cpu', '?')}{isa}, {info.get('torch_threads', '?')} threads"
        figure, commit, when = info.get("figure", path.stem), info.get("git_commit", "?"), info.get("time_utc", "?")
        stale = _stale(figure, commit, when, runs, info) if info.get("findings") else ""
        for f in info.get("findings", []):
            rows.append(ReportRow(finding=f.get("finding", "?"), claim=f.get("claim", ""), paper=f.get("paper", ""),
                                  ours=f.get("ours", ""), verdict=f.get("verdict", "?"), figure=figure,
                                  profile=info.get("profile", "?"), hardware=hardware, commit=commit,
                                  time_utc=when, stale=stale, evidence=evidence(f.get("checks", []))))
    return rows


def _leaves(checks: list[dict]) -> list[dict]:
    """The checks that carry numbers: a combined check (``parts``) is replaced by its parts, recursively."""
    return [leaf for c in checks for leaf in (_leaves(c["parts"]) if c.get("parts") else [c])]


def evidence(checks: list[dict]) -> str:
    """One entry per check of a finding (``Verdict.asdict``; combined checks by their parts): estimate, 95 %
    interval and n, or "point value"."""
    parts = []
    for c in _leaves(checks):
        est = c.get("estimate")
        text = "no estimate" if est is None else f"{est:.3g}"
        if c.get("interval"):
            lo, hi = c["interval"]
            rows = f" x {c['rows']} rows" if c.get("rows") else ""
            text += f" [{lo:.3g}, {hi:.3g}], n={c.get('n', 1)}{rows}"
        elif est is not None:
            text += " (point value, n=1)" if c.get("n", 1) == 1 else f" (n={c['n']}, no interval)"
        parts.append(f"{c.get('claim', '?')}: {text} ({c.get('outcome', '?')})")
    return "; ".join(parts)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_HEADER = [
    "# What reproduced",
    "",
    "Generated by `python -m nashlib.runner run` from the run-info JSON beside each figure; do not edit by hand. "
    "Verdicts are computed by the notebooks from their own numbers, with the rules stated in each notebook "
    "(`nashlib.results.verdicts`). A verdict marked *stale* may no longer be what the code gives: the reason "
    "is in the status column.",
    "",
    "Scale, said plainly: rows of the `cpu` profile time real T5 shapes (random weights) on 2 CPU threads, "
    "and their quality numbers come from small T5s trained from scratch on this machine on the tasks each "
    "row names, not from pretrained T5-base on the paper's datasets. The paper's own tasks and scale need "
    "the `laptop` (hub t5-small, CPU) or `paper` (hub t5-base, GPU) profile.",
    "",
    "The evidence column lists every check behind a verdict: its estimate with the 95 % interval and n (seeds, "
    "times evaluation rows where rows were resampled too), or *point value* where the check compares single "
    "numbers (a count, a design value).",
    "",
    "| finding | claim | paper | ours | verdict | evidence (estimate [95 % interval], n) | status | figure | "
    "profile | hardware |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def render(rows: list[ReportRow]) -> str:
    lines = list(_HEADER)
    for r in rows:
        status = f"stale: {r.stale}" if r.stale else "current"
        lines.append("| " + " | ".join(_cell(x) for x in (
            r.finding, r.claim, r.paper, r.ours, f"**{r.verdict}**", r.evidence, status,
            f"[{r.figure}]({r.figure}.png)", r.profile, r.hardware)) + " |")
    if not rows:
        lines.append("| (no findings recorded yet) | | | | | | | | | |")
    commits = sorted({r.commit for r in rows})
    if commits:
        lines += ["", f"Code: commit(s) {', '.join(commits)}."]
    return "\n".join(lines) + "\n"


def write_report(out_dir: str | os.PathLike) -> Path:
    return atomic_write_text(Path(out_dir) / "REPORT.md", render(collect(out_dir)))
