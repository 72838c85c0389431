"""CTranslate2 beside our decoding: the same random-weight T5, converted, decoded under the same protocol.

CTranslate2 (``pip install ctranslate2``, pinned in ``requirements.lock``) is an inference engine with its own
C++ kernels. Its converter (``ctranslate2.converters.transformers.T5Loader``) reads a ``T5ForConditionalGeneration``
in memory, so :func:`convert` hands it the very model we time, with a vocabulary of placeholder tokens
(``<t5>``, ...; ids 0-2 keep T5's ``<pad>``, ``</s>``, ``<unk>``): random weights need no real tokenizer, and
token ids map one to one both ways.

What it cannot represent: CTranslate2's ``TransformerSpec`` has one head count and one FFN width for every
layer of a stack, and the same width for encoder and decoder. A dense T5 of any depth fits (t5-base,
t5-small, t5-base with 3 decoder layers); a compacted NASH model, whose layers keep different numbers of heads
and FFN units (and may skip a sublayer), does not. :func:`unsupported` says why for a given model.

Its beam search is not bit-identical to transformers' (another implementation of the same search, other
kernels), so the notebook reports token agreement rather than asserting equality.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import torch

__all__ = ["convert", "unsupported", "translator", "generate", "SPECIALS"]

SPECIALS = ("<pad>", "</s>", "<unk>")  # T5's ids 0, 1, 2


class _Vocabulary:
    """What the converter reads from a tokenizer: ``<pad>``, ``</s>``, ``<unk>``, then ``<t3>``, ``<t4>``, ..."""

    pad_token, eos_token, unk_token = SPECIALS

    def __init__(self, size: int):
        self.tokens = list(SPECIALS) + [f"<t{i}>" for i in range(len(SPECIALS), size)]

    def get_vocab(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    def convert_ids_to_tokens(self, i: int) -> str:
        return self.tokens[i]


def unsupported(model) -> str | None:
    """Why CTranslate2 cannot represent ``model`` (``None`` when it can)."""
    cfg = model.config
    if getattr(cfg, "model_type", "") != "t5":
        return (f"model type {getattr(cfg, 'model_type', '?')!r}: a compacted NASH model keeps different head and "
                "FFN counts per layer, and CTranslate2's TransformerSpec has one of each per stack")
    if getattr(cfg, "nash_encoder", None):
        return "the encoder's heads / FFN width differ from the decoder's; CTranslate2 has one width for both"
    return None


def convert(model, out_dir: str | Path) -> Path:
    """Write ``model`` (a dense T5) as a CTranslate2 model folder, float32; returns the folder."""
    from ctranslate2.converters.transformers import T5Loader

    why = unsupported(model)
    if why is not None:
        raise ValueError(f"CTranslate2 cannot represent this model: {why}")
    with torch.no_grad():
        spec = T5Loader()(model, _Vocabulary(model.config.vocab_size))
    spec.validate()
    spec.optimize(quantization=None)
    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(f"{out} exists; convert writes a new folder (remove it, or pick another)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:  # written beside, then renamed: never a half-written model folder
        spec.save(str(tmp))
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def translator(model, *, threads: int, folder: str | Path | None = None):
    """A ``ctranslate2.Translator`` for ``model`` on the CPU with ``threads`` threads (converted into ``folder``,
    or a temporary folder removed once the weights are loaded)."""
    import ctranslate2

    if folder is not None:
        return ctranslate2.Translator(str(convert(model, folder)), device="cpu", intra_threads=threads)
    with tempfile.TemporaryDirectory(prefix="nash-ct2-") as tmp:
        return ctranslate2.Translator(str(convert(model, Path(tmp) / "model")), device="cpu", intra_threads=threads)


def generate(tr, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, *, num_beams: int,
             max_new_tokens: int, min_new_tokens: int = 0) -> torch.Tensor:
    """Decode ``input_ids`` (padding dropped by ``attention_mask``) with ``tr``; the generated ids ``(B, <=new)``,
    padded with 0, without the decoder start token."""
    vocab = [f"<t{i}>" if i >= len(SPECIALS) else SPECIALS[i] for i in range(int(input_ids.max()) + 1)]
    rows = input_ids.tolist() if attention_mask is None else [
        ids[: int(n)] for ids, n in zip(input_ids.tolist(), attention_mask.sum(1).tolist())]
    results = tr.translate_batch([[vocab[i] for i in ids] for ids in rows], beam_size=num_beams,
                                 max_decoding_length=max_new_tokens, min_decoding_length=min_new_tokens,
                                 return_scores=False)
    out = [[int(t[2:-1]) if t.startswith("<t") else SPECIALS.index(t) for t in r.hypotheses[0]] for r in results]
    width = max(len(o) for o in out)
    return torch.tensor([o + [0] * (width - len(o)) for o in out], dtype=torch.long)  # (B, new)
