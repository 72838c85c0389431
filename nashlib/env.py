"""The run's environment: seeding, thread count, run info, and atomic file writes."""

from __future__ import annotations

import contextlib
import os
import platform
import random
import subprocess
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

__all__ = ["REPO_ROOT", "seed_everything", "set_threads", "threads", "run_info", "atomic_write_bytes",
           "atomic_write_text", "ALLOCATOR_VARS", "ALLOCATOR_SETTINGS", "allocator_env", "allocator_settings"]

REPO_ROOT = Path(__file__).resolve().parent.parent

# glibc allocator settings that keep freed buffers instead of returning them to the kernel.
ALLOCATOR_VARS = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX")

# The values notebook kernels start with on Linux (the one place they are written down). Beam search
# frees and re-allocates cache copies of hundreds of MB every step; by default glibc serves each one
# with a fresh mmap and returns it to the kernel on free, so every step pays page faults. These keep
# big blocks on the heap (no mmap), never trim the heap below 4 GiB, and grow it 1 GiB at a time.
# glibc reads them once, at process start-up: setting them in a running process changes nothing.
ALLOCATOR_SETTINGS = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "4294967296",
                      "MALLOC_TOP_PAD_": "1073741824"}


def allocator_env(environ: dict | None = None, *, system: str | None = None) -> dict[str, str]:
    """``environ`` (default ``os.environ``) plus :data:`ALLOCATOR_SETTINGS`, for a child process.

    Only on Linux (glibc), and a variable the user already set keeps the user's value.
    """
    out = dict(os.environ if environ is None else environ)
    if (system or platform.system()) == "Linux":
        for key, value in ALLOCATOR_SETTINGS.items():
            out.setdefault(key, value)
    return out


# Variables that choose which CPU kernels torch (ATen), MKL and oneDNN run; recorded in run info when set.
KERNEL_VARS = ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")
# The kernels a profile may pin (Profile.kernel_isa): the instruction set the kernels dispatch to decides the bits
# a CPU run trains (README: the cpu teacher trained on an AVX-512 machine with these set scores 0.8167788883780369,
# the very number the AVX2-only machine gave; unpinned, 0.8172285542017939). Read once, at process start-up.
KERNEL_SETTINGS = {"avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                            "ONEDNN_MAX_CPU_ISA": "AVX2"}}


def kernel_env(isa: str, environ: dict | None = None, *, machine: str | None = None) -> dict[str, str]:
    """``environ`` (default ``os.environ``) plus :data:`KERNEL_SETTINGS` of ``isa`` ("" adds none), for a child
    process; only on x86-64 (the settings name x86 instruction sets), and a variable the user set keeps its value."""
    out = dict(os.environ if environ is None else environ)
    if isa and isa not in KERNEL_SETTINGS:
        raise ValueError(f"kernel isa={isa!r}; allowed: '' (the CPU's own) or {', '.join(map(repr, KERNEL_SETTINGS))}")
    if isa and (machine or platform.machine()).lower() in ("x86_64", "amd64"):
        for key, value in KERNEL_SETTINGS[isa].items():
            out.setdefault(key, value)
    return out


def allocator_settings() -> dict:
    """The allocator variables this process started with, and whether :data:`ALLOCATOR_SETTINGS` were active.

    On Linux ``/proc/self/environ`` holds the environment at start-up (what glibc read), which later
    changes to ``os.environ`` do not touch; elsewhere the settings have no effect and are never active.
    """
    try:
        raw = Path("/proc/self/environ").read_bytes()
        start = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
    except OSError:
        start = {}
    values = {k: start[k] for k in ALLOCATOR_VARS if k in start}
    active = platform.system() == "Linux" and all(values.get(k) == v for k, v in ALLOCATOR_SETTINGS.items())
    return {"active": active, "values": values}


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every GPU) together."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed={seed!r} has type {type(seed).__name__}; expected int")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_threads(threads: int) -> int:
    """Set torch's intra-op threads (0 keeps torch's default); return the count in force."""
    if threads > 0:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


@contextlib.contextmanager
def threads(count: int):
    """Run the block with ``count`` torch intra-op threads (0: leave them), then restore the previous count.

    Training with a fixed count makes a run's float sums, and so its weights, the same on every re-run.
    """
    before = torch.get_num_threads()
    set_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        # figures/ is left out: a run rewrites the committed figures while it runs
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!figures"],
                               cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"




def run_info(**extra) -> dict:
    """What a reader needs to judge a number: versions, hardware, threads, commit, time."""
    info = {
        "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in ("nashlib", "torch", "transformers", "numpy", "pandas",
                                              "matplotlib", "seaborn")},
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        # the instruction set ATen's kernels dispatch to (AVX2, AVX512, ...; ATEN_CPU_CAPABILITY forces one): CPUs
        # sold under one name differ here, and the kernels it selects decide the trained bits (README)
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "kernel_env": {k: os.environ[k] for k in KERNEL_VARS if k in os.environ},
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "allocator_env": {k: os.environ[k] for k in ALLOCATOR_VARS if k in os.environ},
        "allocator_active": allocator_settings()["active"],  # ALLOCATOR_SETTINGS read by glibc at start-up
    }
    info.update(extra)
    return info


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
