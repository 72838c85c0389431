"""Run profiles: every size, repeat count and length a notebook uses, as plain validated data.

A notebook's parameters cell names a profile (``PROFILE = "cpu"``) and may pass overrides
(``OVERRIDES = {"repeats": 3}``); ``get`` returns a frozen :class:`Profile` or raises a
``ValueError`` that names the bad value and what is allowed.

- ``smoke``: tiny shapes, seconds per notebook; used by the tests (nbval).
- ``cpu``: the default. Real t5-base / t5-small shapes on 2 CPU threads, offline.
- ``laptop``: the same shapes on a laptop CPU, with smaller batches; the quality notebooks use
  hub t5-small there (needs internet).
- ``paper``: the paper's protocol (Appendix F: batch 32, beam 4) on a GPU.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, fields

__all__ = ["Profile", "PROFILES", "get", "names", "check_parameter"]


@dataclass(frozen=True)
class Profile:
    name: str  # the profile's name
    description: str  # one line for the README and run info
    device: str  # "cpu" or "cuda"
    threads: int  # torch intra-op threads; 0 leaves torch's default
    # --- generation latency (Figure 2 / Table 1 speed columns) -------------------------------
    teacher_shape: str  # the unpruned model whose latency is 1.00x
    small_shape: str  # the dense small baseline (T5-Small in the paper)
    warmup: int  # untimed runs of each configuration before timing
    repeats: int  # timed runs of each configuration (interleaved across configurations)
    batch: int  # sequences per generate() call
    beams: int  # beam size (the paper: 4)
    src_len: int  # source tokens per sequence
    new_tokens: int  # generated tokens per sequence, forced (random weights must not stop early)
    decoder_depths: tuple[int, ...]  # decoder depths timed against the teacher
    encoder_sparsity: float  # sparsity of the narrow (NASH-like) encoder, the paper's 0.3
    # --- one Transformer layer against sequence length (Figure 3) ----------------------------
    seq_lens: tuple[int, ...]  # sequence lengths of the layer input
    layer_heads: tuple[int, ...]  # attention-head counts compared
    layer_d_ff: tuple[int, ...]  # FFN widths compared
    layer_batch: int  # batch of the layer input
    memory_len: int  # encoder length the decoder layer cross-attends to
    min_sample_s: float  # a timed sample loops the layer until it lasts at least this long
    # --- component profile (Figure 4) --------------------------------------------------------
    profile_repeats: int  # profiled generate() calls per decoding mode
    # --- fast generation (notebook fast_generation) --------------------------------------------
    alloc_repeats: int  # timed rounds of stock and fast t5-base generation in each of the two processes
    #                     started with and without the glibc allocator settings; 0 skips that comparison

    def __post_init__(self) -> None:
        for key, typ in typing.get_type_hints(Profile).items():
            check_parameter(key, getattr(self, key), typ, owner=f"profile {self.name!r}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"profile {self.name!r}: device={self.device!r}; allowed: 'cpu', 'cuda'")
        positive = ["repeats", "batch", "beams", "src_len", "new_tokens", "layer_batch",
                    "memory_len", "profile_repeats"]
        for key in positive:
            if getattr(self, key) < 1:
                raise ValueError(f"profile {self.name!r}: {key}={getattr(self, key)!r}; must be >= 1")
        for key in ("warmup", "threads", "alloc_repeats"):
            if getattr(self, key) < 0:
                raise ValueError(f"profile {self.name!r}: {key}={getattr(self, key)!r}; must be >= 0")
        if not 0.0 <= self.encoder_sparsity < 1.0:
            raise ValueError(f"profile {self.name!r}: encoder_sparsity={self.encoder_sparsity!r}; "
                             "allowed: 0 <= sparsity < 1")
        if self.min_sample_s <= 0:
            raise ValueError(f"profile {self.name!r}: min_sample_s={self.min_sample_s!r}; must be > 0")
        for key in ("decoder_depths", "seq_lens", "layer_heads", "layer_d_ff"):
            values = getattr(self, key)
            if not values or min(values) < 1:
                raise ValueError(f"profile {self.name!r}: {key}={values!r}; "
                                 "must be a non-empty list of integers >= 1")

    def asdict(self) -> dict:
        return dataclasses.asdict(self)


_TYPE_NAMES = {int: "int", float: "float", str: "str", bool: "bool", dict: "dict"}


def check_parameter(name: str, value, expected, owner: str = "parameter"):
    """Raise ``TypeError`` unless ``value`` has type ``expected``; return the value.

    ``expected`` is a type or a ``tuple[int, ...]``-style annotation. A list is accepted for a
    tuple; an int for a float; a bool is never an int.
    This is what catches a wrongly typed value injected by papermill (``-p SEED abc``).
    """
    origin = typing.get_origin(expected)
    if origin is tuple:
        item = typing.get_args(expected)[0]
        ok = isinstance(value, (list, tuple)) and all(_is(v, item) for v in value)
        want = f"a list of {_TYPE_NAMES.get(item, item)}"
    else:
        ok = _is(value, expected)
        want = _TYPE_NAMES.get(expected, str(expected))
    if not ok:
        raise TypeError(f"{owner}: {name}={value!r} has type {type(value).__name__}; expected {want}")
    return value


def _is(value, typ) -> bool:
    if typ is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


_SMOKE = dict(
    name="smoke",
    description="seconds per notebook: tiny shapes, used by the tests",
    device="cpu", threads=2,
    teacher_shape="tiny", small_shape="tiny-small",
    warmup=1, repeats=2, batch=2, beams=2, src_len=16, new_tokens=4,
    decoder_depths=(4, 3, 2, 1), encoder_sparsity=0.3,
    seq_lens=(1, 8, 32), layer_heads=(4, 2), layer_d_ff=(256, 64),
    layer_batch=2, memory_len=16, min_sample_s=0.002,
    profile_repeats=1,
    alloc_repeats=1,
)

_CPU = dict(
    name="cpu",
    description="offline on 2 CPU threads: real t5-base / t5-small shapes, random weights for timing",
    device="cpu", threads=2,
    teacher_shape="t5-base", small_shape="t5-small",
    warmup=1, repeats=5, batch=4, beams=4, src_len=256, new_tokens=32,
    decoder_depths=(12, 6, 4, 3, 2, 1), encoder_sparsity=0.3,
    seq_lens=(1, 8, 32, 128, 512), layer_heads=(12, 6, 2), layer_d_ff=(3072, 1536, 512),
    layer_batch=4, memory_len=256, min_sample_s=0.05,
    profile_repeats=4,
    alloc_repeats=3,
)

_LAPTOP = dict(
    _CPU,
    name="laptop",
    description="a laptop CPU with internet: t5-small from the hub for quality, t5 shapes for timing",
    threads=0, batch=2, src_len=256, repeats=3,
)

_PAPER = dict(
    _CPU,
    name="paper",
    description="the paper's scale on a GPU: t5-base from the hub, batch 32, beam 4 (Appendix F)",
    device="cuda", threads=0,
    warmup=2, repeats=5, batch=32, beams=4, src_len=512, new_tokens=64,
    layer_batch=32, memory_len=512, min_sample_s=0.05,
    profile_repeats=3,
    alloc_repeats=0,  # glibc's allocator settings concern CPU memory; the GPU run skips that comparison
)

PROFILES: dict[str, dict] = {p["name"]: p for p in (_SMOKE, _CPU, _LAPTOP, _PAPER)}


def names() -> list[str]:
    return list(PROFILES)


def get(name: str, **overrides) -> Profile:
    """The profile ``name`` with ``overrides`` applied, validated."""
    check_parameter("PROFILE", name, str)
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; allowed: {', '.join(PROFILES)}")
    allowed = [f.name for f in fields(Profile) if f.name != "name"]
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise ValueError(f"unknown profile field(s) {unknown}; allowed: {', '.join(allowed)}")
    values = {**PROFILES[name], **overrides}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return Profile(**values)
