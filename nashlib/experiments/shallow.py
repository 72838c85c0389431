"""Table 10's baseline: a dense model built with ``d`` decoder layers from the start, against NASH-``d``.

Tay et al. (2021) pretrained T5s with shallow decoders ("DeepNarrow" family, hub names
``google/t5-efficient-base-dl{2,4,6,8}``: T5-base's encoder and width, 2 to 8 decoder layers); the paper
fine-tunes them on TweetQA and SAMSum and compares each with NASH keeping as many decoder layers of a pruned
T5-base (Appendix G.1). :func:`shallow_config` is that baseline for a teacher configuration: the hub checkpoint
of the same width and depth for a ``t5-base`` teacher, fine-tuned exactly as the teacher was; for a teacher
trained from scratch (the cpu profile), the same recipe with ``d`` decoder layers, trained from scratch too
(the offline analogue: "built shallow" rather than "pretrained shallow"). Other inits have no such checkpoint
(Tay et al. released the DL variants at T5-base's width), and it returns ``None``.
"""

from __future__ import annotations

import dataclasses

from nashlib.settings import TeacherConfig

__all__ = ["TAY_MODELS", "TAY_DEPTHS", "shallow_config"]

TAY_DEPTHS = (2, 4, 6, 8)  # the decoder depths of Tay et al.'s released DL checkpoints (and of Table 10)
TAY_MODELS = {"t5-base": "google/t5-efficient-base-dl{d}", "google-t5/t5-base": "google/t5-efficient-base-dl{d}"}


def shallow_config(cfg: TeacherConfig, decoder_layers: int) -> TeacherConfig | None:
    """The dense ``decoder_layers``-layer counterpart of teacher ``cfg``, trained like it; ``None`` when none exists."""
    if not isinstance(decoder_layers, int) or isinstance(decoder_layers, bool) or decoder_layers < 1:
        raise ValueError(f"decoder_layers={decoder_layers!r}; allowed: an integer >= 1")
    if cfg.init == "scratch":
        return dataclasses.replace(cfg, decoder_layers=decoder_layers)
    pattern = TAY_MODELS.get(cfg.init)
    if pattern is None or decoder_layers not in TAY_DEPTHS:
        return None
    return dataclasses.replace(cfg, init=pattern.format(d=decoder_layers))
