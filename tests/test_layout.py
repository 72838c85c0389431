"""The architecture stays readable: no import cycle, no long function, short notebook cells, one override channel."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "nashlib"
NOTEBOOKS = ROOT / "notebooks"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every nashlib module ``path`` imports, at module level or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "nashlib":
            for alias in node.names:  # `from nashlib.data import tasks` imports the module nashlib.data.tasks
                sub = f"{node.module}.{alias.name}"
                out.add(sub if (LIB.parent / (sub.replace(".", "/") + ".py")).exists() else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "nashlib"}
    return out


def test_no_import_cycle():
    graph = {_module(p): _imports(p) - {_module(p)} for p in LIB.rglob("*.py")}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join(path[path.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_no_function_over_60_lines():
    long = [f"{p.relative_to(ROOT)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p in LIB.rglob("*.py") for n in ast.walk(ast.parse(p.read_text()))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 60]
    assert not long, long


def _code_cells(path: Path) -> list[tuple[int, list[str]]]:
    cells, start, lines, markdown = [], 0, [], True
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# %%"):
            if not markdown:
                cells.append((start, lines))
            start, lines, markdown = i, [], "[markdown]" in line
        else:
            lines.append(line)
    if not markdown:
        cells.append((start, lines))
    return [(s, [ln for ln in c if ln.strip()]) for s, c in cells]


@pytest.mark.parametrize("notebook", sorted(p.stem for p in NOTEBOOKS.glob("*.py")))
def test_notebook_code_cells_are_short(notebook):
    long = [(start, len(cell)) for start, cell in _code_cells(NOTEBOOKS / f"{notebook}.py") if len(cell) > 25]
    assert not long, f"{notebook}: code cells over 25 lines (line, length): {long}"


@pytest.mark.parametrize("notebook", sorted(p.stem for p in NOTEBOOKS.glob("*.py")))
def test_one_override_channel_and_verdicts_from_the_library(notebook):
    src = (NOTEBOOKS / f"{notebook}.py").read_text()
    cell = src.split('# %% tags=["parameters"]\n', 1)[1].split("\n# %%", 1)[0]
    names = re.findall(r"^(\w+):", cell, flags=re.M)
    assert "OVERRIDES" in names and not [n for n in names if n != "OVERRIDES" and n.endswith("OVERRIDES")], names
    assert "TEACHER_INIT" not in names  # a profile field (teacher_init), so every notebook honours it
    handwritten = re.findall(r"""["'](?:holds|does not hold|partly holds)["']\s+if\b""", src)
    assert not handwritten, f"{notebook}: verdicts written by hand instead of nashlib.results.verdicts: {handwritten}"


def test_every_library_folder_is_a_package():
    """setuptools' find_packages ships only folders with an __init__.py: a namespace folder would be left out."""
    folders = {p.parent for p in LIB.rglob("*.py") if "__pycache__" not in p.parts}
    assert not [str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()]
