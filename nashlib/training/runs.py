"""Run folders: the one cache key, atomic finishing, checkpoints to resume from, typed JSON records.

Every trained thing (a teacher, a pruning run, a fine-tuning run, a student) lives in a folder named by
:func:`key` of the configuration that made it, so a changed setting never resumes or reuses an old run.
A :class:`Run` folder is *finished* when its ``info.json`` exists: it is written last, after every model
has been saved (``save_pretrained`` into a unique temporary folder, then one rename), so a killed run
never passes for a finished one. An unfinished folder holds the loop's ``checkpoint/`` (written
atomically by :func:`save_checkpoint`) and resumes from it.

:class:`Record` is the base of the frozen dataclasses that say what an ``info.json`` holds: one pair,
``to_json`` / ``from_json``, turns them into plain dictionaries on disk and back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from nashlib.env import atomic_write_text

__all__ = ["key", "plain", "Record", "Run", "save_checkpoint", "load_progress", "INFO", "CHECKPOINT"]

INFO, CHECKPOINT = "info.json", "checkpoint"


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


def key(*parts) -> str:
    """The cache key of ``parts`` (configurations, numbers): 12 hex digits of the SHA-256 of their JSON.

    Every field enters: a run made under any other setting has another key, hence another folder.
    """
    text = json.dumps(plain(list(parts)), sort_keys=True, default=float)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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


@dataclass(frozen=True)
class Run:
    """A run folder. ``info.json`` written last marks it finished; ``checkpoint/`` lets an unfinished one resume."""

    folder: Path

    def __post_init__(self):
        object.__setattr__(self, "folder", Path(self.folder))

    @property
    def finished(self) -> bool:
        return (self.folder / INFO).exists()

    def begin(self, config) -> "Run":
        """Make the folder and write ``config.json`` (what the key was made of, for a reader)."""
        self.folder.mkdir(parents=True, exist_ok=True)
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
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def finish(self, info: dict) -> dict:
        """Write ``info.json`` (last: its presence means finished), drop checkpoints; return what a reader gets."""
        text = json.dumps(plain(info), indent=1, default=float)
        atomic_write_text(self.folder / INFO, text)
        for leftover in sorted(self.folder.rglob(f"{CHECKPOINT}*"), reverse=True):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
        return json.loads(text)

    def info(self) -> dict:
        return json.loads((self.folder / INFO).read_text())

    def load_model(self, name: str = "model"):
        """The saved ``name`` folder as a seq2seq model, in eval mode."""
        from transformers import AutoModelForSeq2SeqLM

        return AutoModelForSeq2SeqLM.from_pretrained(self.folder / name).eval()


def save_checkpoint(acc, folder: Path, step: int, history: list[dict]) -> None:
    """``accelerate``'s state plus progress into ``folder/checkpoint``; the old one is replaced only when complete."""
    final, tmp, old = (folder / f"{CHECKPOINT}{s}" for s in ("", ".tmp", ".old"))
    shutil.rmtree(tmp, ignore_errors=True)
    acc.save_state(str(tmp), safe_serialization=False)  # T5 ties tensors
    atomic_write_text(tmp / "progress.json", json.dumps({"step": step, "history": history}))
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def load_progress(acc, folder: Path) -> tuple[int, list[dict]]:
    """Restore the checkpoint in ``folder`` into ``acc`` (models, optimizer, scheduler, RNG states) if any:
    ``(steps done, history)``, or ``(0, [])`` for a fresh run."""
    progress = folder / CHECKPOINT / "progress.json"
    if not progress.exists():
        return 0, []
    acc.load_state(str(folder / CHECKPOINT))
    saved = json.loads(progress.read_text())
    return saved["step"], saved["history"]
