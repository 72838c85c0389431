"""Seals on a compacted model's weight files: what the shape checks cannot see.

Strict loading (``compact._StrictLoading``) refuses a config and weights that do not fit each other in keys,
shapes or finiteness. Two edits keep every shape: another valid choice of kept head indices (or a larger
``full_d_model``) written into ``config.json``, and finite bytes written over weights in place. Either loads a
model that computes something else. So ``save_pretrained`` writes two digests into each safetensors file's own
header (its ``__metadata__``, which stock safetensors readers ignore):

- ``nash_layout_sha256``: the layout and the sizes it depends on, as the config states them at save time;
- ``nash_data_sha256``: the file's data section (every tensor's bytes; the header is not part of it).

Loading recomputes both and refuses a mismatch, naming the file and the fix (re-save with ``save_pretrained``).
A weight file without the seals was not written by ``save_pretrained`` of a compacted model and is refused too.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file, save_file

LAYOUT_KEY, DATA_KEY = "nash_layout_sha256", "nash_data_sha256"
WEIGHTS, INDEX = "model.safetensors", "model.safetensors.index.json"
_FIX = "re-save the model with save_pretrained after import nashlib"


def layout_digest(config) -> str:
    """SHA-256 of what decides every compacted shape and which original heads/units each row is."""
    sizes = {k: getattr(config, k, None) for k in ("model_type", "d_model", "num_layers", "num_decoder_layers",
                                                  "encoder_layers", "decoder_layers", "num_heads", "d_kv")}
    text = json.dumps({"sizes": sizes, "layout": config.nash_layout}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def data_digest(path: Path) -> str:
    """SHA-256 of a safetensors file's data section (after the 8-byte length and the JSON header)."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(8 + int.from_bytes(f.read(8), "little"))
        for chunk in iter(lambda: f.read(1 << 24), b""):
            sha.update(chunk)
    return sha.hexdigest()


def weight_files(folder: Path) -> list[Path]:
    """The safetensors files of a saved model folder: the shards of its index, or the single file."""
    if (folder / INDEX).exists():
        shards = json.loads((folder / INDEX).read_text())["weight_map"].values()
        return [folder / name for name in sorted(set(shards))]
    return [folder / WEIGHTS]


def seal(folder: Path, config) -> None:
    """Write both digests into every weight file of ``folder`` (atomically, file by file)."""
    for path in weight_files(folder):
        tensors = load_file(path)
        with safe_open(path, "pt") as f:
            meta = dict(f.metadata() or {}) | {LAYOUT_KEY: layout_digest(config)}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        save_file(tensors, tmp, metadata=meta)
        meta[DATA_KEY] = data_digest(tmp)  # the data section does not change when the header grows
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, path)


def check(folder: Path, config) -> None:
    """Refuse weight files whose seals are missing or do not match ``config`` and their own bytes."""
    want = layout_digest(config)
    for path in weight_files(folder):
        with safe_open(path, "pt") as f:
            meta = f.metadata() or {}
        if LAYOUT_KEY not in meta or DATA_KEY not in meta:
            raise ValueError(f"{path}: no nashlib seal ({LAYOUT_KEY}, {DATA_KEY}) in the file's metadata; it was "
                             f"not written by save_pretrained of a compacted model, or was rewritten; {_FIX}")
        if meta[LAYOUT_KEY] != want:
            raise ValueError(f"{path}: the layout in config.json ('nash_layout' and the sizes) is not the one these "
                             f"weights were saved with; the config was edited or belongs to another model; {_FIX}")
        if meta[DATA_KEY] != data_digest(path):
            raise ValueError(f"{path}: the weights' bytes changed after saving (their digest differs); the file "
                             f"was edited or damaged; {_FIX}")
