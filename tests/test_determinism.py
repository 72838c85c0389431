"""Cold runs are reproducible: two cold smoke runs of a pruning notebook give the same CSV, models and tokenizers.

"Cold" means fresh teacher, student and output folders: tokenizers are trained, teachers trained, students
pruned and fine-tuned from nothing, each time. Only timing columns may differ (fig6's CSV has none).
"""

import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from nashlib.data import tokenizer

NOTEBOOK = "fig6_pruned_structure"  # trains two teachers' tokenizers and teachers, and a NASH-3 and a CoFi-T5 student
TIMING = re.compile(r"(^|_)(seconds|secs|time|times|latency|ms|s)$")  # columns allowed to differ between runs


def _cold_run(root: Path) -> Path:
    """One cold smoke run of NOTEBOOK with its own teacher, run and output folders under ``root``."""
    env = {**os.environ, "NASH_TEACHER_DIR": str(root / "teachers"), "NASH_RUN_DIR": str(root / "runs")}
    out = root / "out"
    done = subprocess.run([sys.executable, "-m", "nashlib.runner", "run", "--profile", "smoke", "--only", NOTEBOOK,
                           "--out", str(out)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The CSV without its timing columns: (the timing columns dropped, rows)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if not TIMING.search(name)]
    return [n for n in rows[0] if TIMING.search(n)], [[r[i] for i in keep] for r in rows]


def _artifacts(root: Path) -> dict[str, Path]:
    """Every model and tokenizer file of the run's teachers and students, by path relative to ``root``."""
    names = ("*.safetensors", "tokenizer.json", "tokenizer_config.json", "config.json")
    found = {str(p.relative_to(root)): p for pattern in names for folder in ("teachers", "runs")
             for p in (root / folder).rglob(pattern) if p.parent.name in ("model", "tokenizer")}
    assert any(k.endswith(".safetensors") for k in found) and any(k.endswith("tokenizer.json") for k in found)
    return found


def test_tokenizer_training_is_deterministic():
    """The cause of the cold-run differences: tokenizers' UnigramTrainer gave a new vocabulary per call."""
    texts = [f"review {i}: a {'good' if i % 3 else 'dull'} film\nwith {i % 7} stars and some words" for i in range(300)]
    made = [tokenizer.train_tokenizer(texts, 64).backend_tokenizer.to_str() for _ in range(3)]
    assert made[0] == made[1] == made[2]


def test_two_cold_smoke_runs_of_a_pruning_notebook_are_identical(tmp_path):
    """Slow on purpose (about 95 s on 2 idle cores; 45 s per cold run): it is the only check that the whole
    chain (data, tokenizer, teacher, pruning, compaction, fine-tuning, scoring, CSV) is reproducible cold."""
    t0 = time.perf_counter()
    outs = [_cold_run(tmp_path / f"run{i}") for i in (1, 2)]
    print(f"two cold runs of {NOTEBOOK} (smoke): {time.perf_counter() - t0:.0f} s")
    (dropped, first), (_, second) = (_csv_rows(out / f"{NOTEBOOK}.csv") for out in outs)
    assert dropped == [] and len(first) > 10  # fig6's CSV has no timing column: every column must agree
    assert first == second
    one, two = (_artifacts(tmp_path / f"run{i}") for i in (1, 2))
    assert sorted(one) == sorted(two)  # the same folders (keys of the same configurations) and files
    for name, path in one.items():
        other = two[name]
        if path.suffix == ".safetensors":  # tensors equal (and, in practice, the bytes too)
            a, b = load_file(path), load_file(other)
            assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), name
        else:
            assert path.read_bytes() == other.read_bytes(), name
