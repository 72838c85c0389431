"""Faster beam search for encoder-decoder models: stop copying the cross-attention cache.

How beam search moves the KV cache (transformers 5.x, ``generation/utils.py``): ``generate()`` runs
the encoder once on ``B`` examples, then repeats its outputs ``num_beams`` times, so the decoder sees
``B * num_beams`` rows, the beams of example ``b`` in rows ``b * num_beams ... b * num_beams +
num_beams - 1``. After every decoding step it picks the best continuations and calls
``cache.reorder_cache(beam_idx)``: row ``i`` of every cached tensor is replaced by row ``beam_idx[i]``.
:class:`~transformers.cache_utils.EncoderDecoderCache` does that with ``index_select`` on both of its
parts:

- the *self-attention* cache, ``(B*beams, H, t, d_kv)`` per layer: each beam's own past tokens. The
  reorder is needed, since a beam may continue another beam's prefix.
- the *cross-attention* cache, ``(B*beams, H, T_src, d_kv)`` per layer: the keys and values of the
  encoder's output, computed once at the first step. Every beam of one example holds the same rows
  (the encoder output was repeated), and ``beam_idx`` only ever picks a beam *of the same example*
  (``beam_idx[i] // num_beams == i // num_beams``). Reordering it copies identical rows onto each
  other: a no-op that costs a full copy of ``layers * 2 * B*beams * T_src * H * d_kv`` numbers per
  generated token (about 1.2 GB per step for t5-base at batch 8, source 512, beam 4).

:class:`BeamSharedCrossCache` reorders the self-attention part and leaves the cross-attention part
alone. Skipping is exact, not approximate, when both facts above hold, so it checks them rather than
assuming them: at the first reorder, that the cross-attention rows of the beams of each example are
bitwise equal; at every reorder, that no beam index crosses examples. If either check fails (a
wrong ``num_beams``, a search that moves beams between examples), it reorders the cross-attention
part the stock way from then on and records why in ``fallback``; tokens stay identical either way.
Greedy search (one beam) never reorders, so the fast path changes nothing there.

Use it per ``generate()`` call; nothing global is patched::

    out = generate_fast(model, input_ids=ids, attention_mask=mask, num_beams=4, max_new_tokens=64)
    # or, equivalently
    out = model.generate(input_ids=ids, attention_mask=mask, num_beams=4, max_new_tokens=64,
                         cache=fast_cache(4))

Like ``models.empty_cache()``, the cache is explicit and grows per layer, so a decoder deeper than
the encoder works (transformers sizes the cache it makes itself from the encoder's depth). A cache
object serves one ``generate()`` call: a second call would find the first call's cross-attention keys
already computed and decode against the *old* source (other tokens, no error), so the cache refuses
it with a :class:`CacheReusedError`; make a new one with :func:`fast_cache`.

``python -m nashlib.speed.bench --shape t5-base ...`` (``speed.bench``) times stock against fast generation in a process of
its own and prints JSON; the fast-generation notebook runs it with and without the glibc allocator
settings (``env.ALLOCATOR_SETTINGS``), which take effect only at process start.
"""

from __future__ import annotations

import torch
from transformers.cache_utils import DynamicCache, EncoderDecoderCache

__all__ = ["BeamSharedCrossCache", "CacheReusedError", "fast_cache", "generate_fast"]


class CacheReusedError(RuntimeError):
    """A :class:`BeamSharedCrossCache` was passed to a second ``generate()`` call."""


def _check_beams(num_beams) -> int:
    if not isinstance(num_beams, int) or isinstance(num_beams, bool) or num_beams < 1:
        raise ValueError(f"num_beams={num_beams!r}; allowed: an integer >= 1 (the num_beams given to generate())")
    return num_beams


class BeamSharedCrossCache(EncoderDecoderCache):
    """An :class:`EncoderDecoderCache` whose beam reorder leaves the cross-attention cache alone.

    ``num_beams`` must be the ``num_beams`` of the ``generate()`` call. ``skipped`` counts the
    reorders whose cross-attention copy was skipped; ``fallback`` is ``None`` while skipping, else
    the reason the stock reorder is used.
    """

    def __init__(self, num_beams: int, self_attention_cache: DynamicCache | None = None,
                 cross_attention_cache: DynamicCache | None = None):
        super().__init__(DynamicCache() if self_attention_cache is None else self_attention_cache,
                         DynamicCache() if cross_attention_cache is None else cross_attention_cache)
        self.num_beams = _check_beams(num_beams)
        self.skipped = 0
        self.fallback: str | None = None
        self._rows_checked = False
        self.generate_calls = 0  # generate() calls that took this cache; a second one is refused

    # generate() marks a cache passed to it with ``cache._is_user_defined = True``, once per call
    # (transformers 5.x, ``_prepare_cache_for_generation``), before any step: where a reuse is caught.
    @property
    def _is_user_defined(self) -> bool:
        return self.generate_calls > 0

    @_is_user_defined.setter
    def _is_user_defined(self, value: bool) -> None:
        if not value:
            return
        if self.generate_calls:
            raise CacheReusedError(
                "this fast cache already served a generate() call; reusing it would decode against the first "
                "call's cross-attention keys (other tokens, silently). Make a new one per call: "
                f"cache=fast_cache({self.num_beams}), or use generate_fast(...)")
        self.generate_calls += 1

    def _cross_tensors(self):
        for layer in self.cross_attention_cache.layers:
            if getattr(layer, "is_initialized", False) and layer.keys.numel() > 0:  # a layer with no heads holds none
                yield layer.keys  # (B*beams, H, T_src, d_kv)
                yield layer.values  # (B*beams, H, T_src, d_kv)

    def _why_not_skip(self, beam_idx: torch.Tensor) -> str | None:
        n, k = beam_idx.shape[0], self.num_beams
        if n % k:
            return f"{n} rows is not a multiple of num_beams={k}"
        rows = torch.arange(n, device=beam_idx.device, dtype=beam_idx.dtype)  # (B*beams,)
        crossing = (beam_idx // k != rows // k).nonzero()  # (n_crossing, 1)
        if len(crossing):
            i = crossing[0, 0].item()
            return f"a beam index crosses examples (num_beams={k}): row {i} continues row {beam_idx[i].item()}"
        if not self._rows_checked:
            for t in self._cross_tensors():
                if t.shape[0] != n:
                    return f"cross-attention cache has {t.shape[0]} rows, beam_idx {n}"
                g = t.unflatten(0, (n // k, k))  # (B, beams, H, T_src, d_kv)
                if not torch.equal(g, g[:, :1].expand_as(g)):
                    return "the cross-attention rows of one example's beams differ"
            self._rows_checked = True
        return None

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Reorder the self-attention cache; the cross-attention cache only if skipping is not exact."""
        self.self_attention_cache.reorder_cache(beam_idx)  # (B*beams, H, t, d_kv): rows follow their beams
        if self.fallback is None:
            self.fallback = self._why_not_skip(beam_idx)
        if self.fallback is None:
            self.skipped += 1
            return
        self.cross_attention_cache.reorder_cache(beam_idx)  # stock: (B*beams, H, T_src, d_kv) copied


def fast_cache(num_beams: int) -> BeamSharedCrossCache:
    """An empty :class:`BeamSharedCrossCache` for ``generate(cache=..., num_beams=num_beams)``."""
    return BeamSharedCrossCache(num_beams)


def generate_fast(model, **generate_kwargs) -> torch.Tensor:
    """``model.generate(**generate_kwargs)`` with a :func:`fast_cache`: the same tokens, less copying.

    ``num_beams`` is taken from the arguments, else from a ``generation_config`` argument, else from
    ``model.generation_config``; it must be an integer >= 1 wherever it comes from.
    """
    for name in ("past_key_values", "cache"):
        if name in generate_kwargs:
            raise ValueError(f"generate_fast makes its own cache; pass {name}= to model.generate() instead")
    if not getattr(model.config, "is_encoder_decoder", False):
        raise ValueError(f"generate_fast is for encoder-decoder models; {type(model).__name__} is not one")
    config = generate_kwargs.get("generation_config") or model.generation_config
    beams = generate_kwargs.get("num_beams")
    if beams is None:
        beams = 1 if config.num_beams is None else config.num_beams
    return model.generate(**generate_kwargs, cache=fast_cache(_check_beams(beams)))
