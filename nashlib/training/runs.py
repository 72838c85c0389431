"""Run folders: keys from a run's identity, locks, atomic saves, verified checkpoints, typed JSON records.

Every trained thing (a teacher, a pruning run, a fine-tuning run, a student) lives in a folder named by
:func:`key` of what made it. For a run to be reused or resumed only by the same run, the key should
cover its :class:`Identity`: the full configuration, the :func:`fingerprint` (content hash) of the
initial weights, of the teacher and of the data, and :func:`code_version` (``Identity.of(cfg, model=...,
teacher=..., data=...).key()``). :meth:`Run.begin` writes that identity into ``identity.json`` and refuses
a folder begun under another one (:class:`RunMismatch`: a mismatch is an error, never a silent fresh
start that would throw another run's work away).

A :class:`Run` folder is *finished* when its ``info.json`` exists: it is written last, after every model
has been saved (``save_pretrained`` into a unique temporary folder, then one rename), so a killed run
never passes for a finished one. :meth:`Run.lock` (a file lock on ``<folder>.lock``) held around the whole
create-or-load makes a second process wait and then load what the first one finished.

An unfinished folder holds the loop's ``checkpoint/`` (:func:`save_checkpoint`: unique temporary
folder, then one rename). It carries ``manifest.json`` (size and SHA-256 of every file) and the loop's
``identity.json``; :func:`load_progress` verifies both before resuming: a missing, truncated or changed
file is a :class:`CorruptCheckpoint` naming it, another run's checkpoint a :class:`RunMismatch` naming
what differs. No older checkpoint is kept (it would double the disk a run needs): the error says which
folder to delete to restart from step 0.

:class:`Record` is the base of the frozen dataclasses that say what an ``info.json`` holds: one pair,
``to_json`` / ``from_json``, turns them into plain dictionaries on disk and back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import tokenize
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nashlib.env import atomic_write_text

__all__ = ["key", "plain", "fingerprint", "code_version", "Identity", "Record", "Run", "save_checkpoint",
           "load_progress", "verify_checkpoint", "loop_identity", "RunMismatch", "CorruptCheckpoint", "INFO",
           "CHECKPOINT", "IDENTITY", "MANIFEST", "PROGRESS", "TRAINING_CODE", "kernels"]

INFO, CHECKPOINT, IDENTITY, MANIFEST, PROGRESS = "info.json", "checkpoint", "identity.json", "manifest.json", \
    "progress.json"
LIB = Path(__file__).resolve().parents[1]
# The sources whose behaviour decides what a run trains into (relative to nashlib/): the loop and fine-tuning,
# the pruning method, data encoding and tokenizers, architectures and shapes, and the teacher / student recipes.
TRAINING_CODE = ("training", "pruning", "data", "arch.py", "shapes.py", "experiments/teachers.py",
                 "experiments/students.py")


class RunMismatch(RuntimeError):
    """A run folder or checkpoint belongs to another run (its identity differs from this one's)."""


class CorruptCheckpoint(RuntimeError):
    """A checkpoint file is missing, truncated or changed since it was written."""


def plain(obj):
    """``obj`` as JSON-ready values: records and dataclasses as dicts, tuples as lists, paths as strings."""
    if isinstance(obj, Record):
        return obj.to_json()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _canonical(obj) -> str:
    return json.dumps(plain(obj), sort_keys=True, default=float)


def key(*parts) -> str:
    """The cache key of ``parts`` (configurations, numbers, an :class:`Identity`, fingerprints): 12 hex digits
    of the SHA-256 of their JSON.

    Every field enters: a run made under any other setting has another key, hence another folder. A run
    keyed by ``Identity.of(cfg, model=..., teacher=..., data=...)`` (or by ``key(cfg, fingerprint(teacher),
    fingerprint(data), code_version())``) also gets a new folder when weights, data or training code change.
    """
    return hashlib.sha256(_canonical(list(parts)).encode()).hexdigest()[:12]


def fingerprint(obj) -> str:
    """A content hash (16 hex digits of SHA-256) of a module's ``state_dict``, tensors, or nested data.

    A module hashes as its state dict: names in sorted order, each tensor's dtype, shape and bytes, so the
    same weights give the same fingerprint on any device, and one changed bit gives another. Dicts hash in
    sorted key order, lists in order, anything else as its JSON (token lists, text rows, configurations).
    """
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()[:16]


def _feed(h, obj) -> None:
    import torch

    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        h.update(f"tensor {t.dtype} {tuple(obj.shape)}\n".encode())
        h.update(memoryview(t.view(torch.uint8).numpy()))
    elif isinstance(obj, Mapping):
        h.update(f"dict {len(obj)}\n".encode())
        for k in sorted(obj, key=str):
            h.update(f"key {k}\n".encode())
            _feed(h, obj[k])
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, (list, tuple, Mapping, torch.Tensor,
                                                               torch.nn.Module)) for v in obj):
        h.update(f"list {len(obj)}\n".encode())
        for v in obj:
            _feed(h, v)
    else:
        h.update(f"json {_canonical(obj)}\n".encode())


def _code_text(path: Path) -> str:
    """The tokens of a Python source without comments, blank lines and docstrings (bare string statements):
    editing prose leaves the code version as it is."""
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING)
    with path.open("rb") as fh:
        toks = [t for t in tokenize.tokenize(fh.readline) if t.type not in skip]
    out, starts = [], (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for i, t in enumerate(toks):
        alone = (i == 0 or toks[i - 1].type in starts) and i + 1 < len(toks) and toks[i + 1].type == tokenize.NEWLINE
        if not (t.type == tokenize.STRING and alone):
            out.append(t.string)
    return " ".join(out)


@functools.cache
def kernels() -> str:
    """The CPU instruction set torch's kernels dispatch to (ATen's capability: "AVX2", "AVX512", ...). It decides
    the bits a CPU run trains (README), so it is part of every run's identity and of the teacher and student folder
    names: a cache made under other kernels is never reused."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


def code_version() -> str:
    """``<nashlib version>+<12 hex digits>``: the hash of the code tokens of :data:`TRAINING_CODE`. Cached.

    Source files rather than the git commit: a commit changes with every edit of a notebook, figure or
    README (each would orphan every cached teacher), says nothing about uncommitted edits, and an installed
    copy has no ``.git``. Comments and docstrings are left out, so only changes of code make new runs.
    """
    h = hashlib.sha256()
    for name in TRAINING_CODE:
        base = LIB / name
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            h.update(f"{path.relative_to(LIB).as_posix()}\n{_code_text(path)}\n".encode())
    try:
        version = importlib.metadata.version("nashlib")
    except importlib.metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"{version}+{h.hexdigest()[:12]}"


def _decode(typ, value):
    """``value`` (plain JSON) as an instance of the annotation ``typ``: records, dataclasses, lists, tuples."""
    if value is None:
        return None
    origin, args = typing.get_origin(typ), typing.get_args(typ)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return _decode(real[0], value) if len(real) == 1 else value
    if isinstance(typ, type) and issubclass(typ, Record):
        return typ.from_json(value)
    if isinstance(typ, type) and dataclasses.is_dataclass(typ):
        return _build(typ, value)
    if origin is list:
        return [_decode(args[0], v) for v in value]
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    if origin is dict:
        return {k: _decode(args[1], v) for k, v in value.items()}
    return value


def _build(cls, data: dict):
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data})


class Record:
    """Mixin of a frozen dataclass that is stored as JSON: ``to_json`` gives a plain dict, ``from_json`` reads it."""

    def to_json(self) -> dict:
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: dict):
        return _build(cls, data)


def _differences(a, b, path: str = "") -> list[str]:
    """Where two plain JSON values differ, as ``path: a != b`` lines (leaves only)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    return [] if a == b else [f"{path.lstrip('.') or 'value'}: {json.dumps(a)} != {json.dumps(b)}"]


@dataclass(frozen=True)
class Identity(Record):
    """What a run is: its configuration, the fingerprints of its initial model, teacher and data, the code.

    Two runs with equal identities compute the same thing, so one may reuse or resume the other; any
    other pair must not. ``key()`` names the folder, ``identity.json`` records it for checking and reading.
    """

    config: object  # plain JSON of the configuration(s)
    model: str | None = None  # fingerprint of the weights training starts from
    teacher: str | None = None  # fingerprint of the teacher's weights (distillation, pruning)
    data: str | None = None  # fingerprint of the training data
    code: str = ""  # code_version()
    kernels: str = ""  # kernels(): the CPU instruction set the run's kernels dispatch to

    @classmethod
    def of(cls, config, *, model=None, teacher=None, data=None) -> "Identity":
        """The identity of a run: objects are fingerprinted (strings are taken as fingerprints already)."""
        fp = lambda obj: obj if obj is None or isinstance(obj, str) else fingerprint(obj)  # noqa: E731
        return cls(json.loads(_canonical(config)), fp(model), fp(teacher), fp(data), code_version(), kernels())

    def key(self) -> str:
        return key(self)

    def differences(self, other: "Identity") -> list[str]:
        return _differences(json.loads(_canonical(other)), json.loads(_canonical(self)))


def _check_identity(path: Path, identity: Identity, what: str) -> None:
    """Raise :class:`RunMismatch` unless ``path`` (an ``identity.json``) holds ``identity``."""
    if not path.exists():
        raise RunMismatch(f"{path} is missing: {what} was written without an identity, so it cannot be told "
                          f"apart from another run's; delete {path.parent} to start afresh")
    saved = Identity.from_json(json.loads(path.read_text()))
    diff = identity.differences(saved)
    if diff:
        raise RunMismatch(f"{what} belongs to another run (saved in {path} != this run): " + "; ".join(diff[:8])
                          + f". Key the folder by Identity.key(), or delete {path.parent} to start afresh")


def _replace_dir(tmp: Path, final: Path) -> None:
    """Put the complete folder ``tmp`` at ``final``; an old ``final`` is moved aside (unique name), then removed."""
    aside = None
    if final.exists():
        aside = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".old"))
        os.replace(final, aside)  # onto an empty folder: allowed
    os.replace(tmp, final)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


@dataclass(frozen=True)
class Run:
    """A run folder. ``info.json`` written last marks it finished; ``checkpoint/`` lets an unfinished one resume."""

    folder: Path

    def __post_init__(self):
        object.__setattr__(self, "folder", Path(self.folder))

    @property
    def finished(self) -> bool:
        return (self.folder / INFO).exists()

    @contextlib.contextmanager
    def lock(self, timeout: float = -1):
        """Hold the file lock ``<folder>.lock`` (waiting up to ``timeout`` seconds, -1: for ever).

        Wrap the whole create-or-load in it: a second process waits until the first one has finished, then
        finds ``finished`` true and loads. Reentrant within a process (one lock object per path), released
        by the OS when a holder dies, so a killed run never blocks the next one.
        """
        from filelock import FileLock

        self.folder.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.folder}.lock", is_singleton=True).acquire(timeout=timeout):
            yield self

    def begin(self, config, identity: Identity | None = None) -> "Run":
        """Make the folder and write ``config.json`` (what the key was made of, for a reader); with ``identity``,
        write ``identity.json``, or check it against the one a previous call wrote (:class:`RunMismatch`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if identity is not None:
            if (self.folder / IDENTITY).exists():
                _check_identity(self.folder / IDENTITY, identity, f"run folder {self.folder}")
            else:
                atomic_write_text(self.folder / IDENTITY, json.dumps(identity.to_json(), indent=2, default=float))
        atomic_write_text(self.folder / "config.json", json.dumps(plain(config), indent=2, default=float))
        return self

    def save(self, name: str, *objects) -> Path:
        """``save_pretrained`` of each object into a fresh temporary folder, then one rename onto ``name``."""
        final = self.folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp"))
        try:
            for obj in objects:
                obj.save_pretrained(tmp)
            with self.lock():  # a concurrent writer of the same folder swaps after this one, never in between
                _replace_dir(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def finish(self, info: dict) -> dict:
        """Write ``info.json`` (last: its presence means finished), drop checkpoints and leftover temporary
        folders; return what a reader gets."""
        text = json.dumps(plain(info), indent=1, default=float)
        with self.lock():
            atomic_write_text(self.folder / INFO, text)
            leftovers = [*self.folder.rglob(f"{CHECKPOINT}*"), *self.folder.rglob(".*.tmp"),
                         *self.folder.rglob(".*.old")]
            for leftover in sorted(leftovers, reverse=True):
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
        return json.loads(text)

    def info(self) -> dict:
        return json.loads((self.folder / INFO).read_text())

    def load_model(self, name: str = "model"):
        """The saved ``name`` folder as a seq2seq model, in eval mode."""
        from transformers import AutoModelForSeq2SeqLM

        return AutoModelForSeq2SeqLM.from_pretrained(self.folder / name).eval()


@dataclass(frozen=True)
class FileSum(Record):
    size: int  # bytes
    sha256: str


@dataclass(frozen=True)
class Manifest(Record):
    """What a checkpoint held when it was written: its step and every file's size and checksum."""

    step: int
    files: dict[str, FileSum]


@dataclass(frozen=True)
class Progress(Record):
    step: int  # optimizer steps done
    history: list[dict]  # one row per step


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def loop_identity(folder: str | os.PathLike, modules, settings: dict) -> Identity:
    """The identity a checkpoint of the loop in ``folder`` must carry to be resumed: the loop's ``settings``,
    the run's ``identity.json`` (when :meth:`Run.begin` wrote one), the fingerprint of every module's initial
    state, the code version. Taken before training, so every call of the same run computes the same one."""
    begun = Path(folder) / IDENTITY
    run = json.loads(begun.read_text()) if begun.exists() else None
    return Identity.of({"loop": settings, "run": run}, model=list(modules))


def save_checkpoint(acc, folder: Path, step: int, history: list[dict], identity: Identity | None = None) -> None:
    """``accelerate``'s state, progress, ``identity`` and a manifest into ``folder/checkpoint``.

    Written into a uniquely named temporary folder, then swapped in under the run's lock: the old
    checkpoint is replaced only by a complete one, and two writers never collide on a name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{CHECKPOINT}.", suffix=".tmp"))
    try:
        acc.save_state(str(tmp), safe_serialization=False)  # T5 ties tensors
        atomic_write_text(tmp / PROGRESS, json.dumps(Progress(step, history).to_json()))
        if identity is not None:
            atomic_write_text(tmp / IDENTITY, json.dumps(identity.to_json(), indent=2, default=float))
        files = {name: FileSum((tmp / name).stat().st_size, _sha256(tmp / name)) for name in _files(tmp)}
        atomic_write_text(tmp / MANIFEST, json.dumps(Manifest(step, files).to_json(), indent=1))
        with Run(folder).lock():
            _replace_dir(tmp, folder / CHECKPOINT)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _corrupt(path: Path, problem: str) -> CorruptCheckpoint:
    ckpt = path if path.name == CHECKPOINT else path.parent
    return CorruptCheckpoint(f"{path}: {problem}. The checkpoint cannot be trusted; delete {ckpt} to restart "
                             "the run from step 0")


def verify_checkpoint(ckpt: str | os.PathLike) -> Manifest:
    """The manifest of checkpoint folder ``ckpt``, after checking every file against it (size, SHA-256), that
    no file is missing or extra, and that ``progress.json`` is at the manifest's step; else
    :class:`CorruptCheckpoint` naming the file."""
    ckpt = Path(ckpt)
    path = ckpt / MANIFEST
    if not path.exists():
        raise _corrupt(path, "missing (an interrupted or older checkpoint: nothing says what it should hold)")
    try:
        manifest = Manifest.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise _corrupt(path, f"unreadable ({e})") from e
    for name, want in manifest.files.items():
        file = ckpt / name
        if not file.is_file():
            raise _corrupt(file, "missing")
        if file.stat().st_size != want.size:
            raise _corrupt(file, f"{file.stat().st_size} bytes where {want.size} were written (truncated or changed)")
        if _sha256(file) != want.sha256:
            raise _corrupt(file, "its SHA-256 differs from the one written (changed since)")
    extra = sorted(set(_files(ckpt)) - set(manifest.files) - {MANIFEST})
    if extra:
        raise _corrupt(ckpt / extra[0], "not part of the checkpoint as written (not in manifest.json)")
    step = Progress.from_json(json.loads((ckpt / PROGRESS).read_text())).step
    if step != manifest.step:
        raise _corrupt(ckpt / PROGRESS, f"step {step} where the manifest says {manifest.step}")
    return manifest


def load_progress(acc, folder: Path, identity: Identity | None = None) -> tuple[int, list[dict]]:
    """Restore the checkpoint in ``folder`` into ``acc`` (models, optimizer, scheduler, RNG states) if any:
    ``(steps done, history)``, or ``(0, [])`` for a fresh run.

    The checkpoint is verified first (:func:`verify_checkpoint`), and with ``identity`` it must be this
    run's (:class:`RunMismatch` naming what differs): another model's or run's checkpoint is never resumed.
    """
    ckpt = Path(folder) / CHECKPOINT
    if not ckpt.exists():
        return 0, []
    verify_checkpoint(ckpt)
    if identity is not None:
        _check_identity(ckpt / IDENTITY, identity, f"checkpoint {ckpt}")
    try:
        acc.load_state(str(ckpt))
    except Exception as e:  # verified files that still do not load: saved by another setup (e.g. other shapes)
        raise CorruptCheckpoint(f"{ckpt}: accelerate could not load it ({type(e).__name__}: {e}); "
                                f"delete {ckpt} to restart the run from step 0") from e
    progress = Progress.from_json(json.loads((ckpt / PROGRESS).read_text()))
    return progress.step, progress.history
