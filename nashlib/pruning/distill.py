"""Distillation losses (Section 4.3): KL on logits + MSE on hidden states + the Lagrangian term.

    L = w * T^2 * KL_T + lambda_enc * sum_l MSE(H_enc,s^l, H_enc,t^l)
                              + lambda_dec * sum_l MSE(H_dec,s^l, H_dec,t^map(l)) + R

Hidden states are the raw outputs of each block, captured by forward hooks (:class:`BlockOutputs`).
``output_hidden_states`` is not used: in transformers 5.x it returns the embeddings, the outputs of
blocks 1..n-1 and then the *final layer norm's* output, so the last block's raw output is missing and
a student layer mapped to a middle teacher layer would be compared with a normalised tensor.
The encoder is matched layer for layer; each kept decoder layer is matched with the teacher layer it
was copied from (``decoder_map``, e.g. [0, 5, 11]).

The logit term comes in named variants (:data:`DISTILL`), because the paper's text and the released
code differ:

- ``"paper"``: KL(student || teacher) at temperature 1, weight 1, as Section 4.3 writes ``KLD(f || g)``;
- ``"released"``: what the released code's ``calculate_distillation_loss`` computes,
  ``kl_div(log_softmax(s / T), softmax(t / T)) * T^2`` = KL(teacher || student) with T = 2, weighted by
  ``distill_ce_loss_alpha`` = 0.5 (it averages over sequences with ``batchmean``; here, as for the other
  variants, over the target tokens that count);
- ``"none"``: no logit distillation: the released training step in fact computes the line above only in
  a comment and trains on cross-entropy on the labels plus the Lagrangian (its layer loss is forced to 0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dataclasses import dataclass

from nashlib.arch import PARTS, arch_of

__all__ = ["BlockOutputs", "KD", "DISTILL", "kl_logits", "logit_distillation", "distillation_loss"]


@dataclass(frozen=True)
class KD:
    """A logit-distillation variant: ``weight * T^2 * KL`` in ``direction`` at temperature ``T``."""

    direction: str  # "student||teacher" or "teacher||student"
    temperature: float
    weight: float


DISTILL: dict[str, KD | None] = {
    "paper": KD("student||teacher", 1.0, 1.0),  # Section 4.3: KLD(f || g), f the student
    "released": KD("teacher||student", 2.0, 0.5),  # calculate_distillation_loss of the released trainer
    "none": None,  # cross-entropy on the labels: the released training step's effective objective
}


class BlockOutputs:
    """Context manager collecting every encoder and decoder block's output tensor, (B, T, d_model)."""

    def __init__(self, model):
        arch = arch_of(model)
        self.blocks = {part: arch.layer_modules[part] for part in PARTS}
        self.outputs: dict[str, list[torch.Tensor | None]] = {}
        self._handles = []

    def __enter__(self):
        for part, blocks in self.blocks.items():
            self.outputs[part] = [None] * len(blocks)
            for i, block in enumerate(blocks):
                def hook(module, args, out, part=part, i=i):
                    self.outputs[part][i] = out[0] if isinstance(out, tuple) else out
                self._handles.append(block.register_forward_hook(hook))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles.clear()
        return False


def kl_logits(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor | None = None,
              temperature: float = 1.0, direction: str = "student||teacher") -> torch.Tensor:
    """Mean KL divergence per target token between softmax(student / T) and softmax(teacher / T), times T^2.

    ``direction="student||teacher"`` is the paper's KLD(f || g) with f the student;
    ``"teacher||student"`` is the usual distillation direction (CoFi's code). ``mask`` (B, T) marks the
    target tokens that count (labels != -100).
    """
    if direction not in ("student||teacher", "teacher||student"):
        raise ValueError(f"direction={direction!r}; allowed: 'student||teacher', 'teacher||student'")
    log_s = F.log_softmax(student / temperature, dim=-1)  # (B, T, V)
    log_t = F.log_softmax(teacher / temperature, dim=-1)  # (B, T, V)
    if direction == "student||teacher":
        per_token = (log_s.exp() * (log_s - log_t)).sum(-1)  # (B, T)
    else:
        per_token = (log_t.exp() * (log_t - log_s)).sum(-1)
    if mask is None:
        return per_token.mean() * temperature ** 2
    mask = mask.to(per_token.dtype)
    return (per_token * mask).sum() / mask.sum().clamp_min(1) * temperature ** 2


def logit_distillation(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor | None = None,
                       variant: str = "paper") -> torch.Tensor:
    """The logit term of :data:`DISTILL` ``[variant]``: ``weight * kl_logits(...)`` (0 for ``"none"``)."""
    if variant not in DISTILL:
        raise ValueError(f"variant={variant!r}; allowed: {', '.join(map(repr, DISTILL))}")
    kd = DISTILL[variant]
    if kd is None:
        return student.new_zeros(())
    return kd.weight * kl_logits(student, teacher, mask, kd.temperature, kd.direction)


def _mse(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return F.mse_loss(a, b)
    mask = mask.to(a.dtype)[..., None]  # (B, T, 1)
    return ((a - b) ** 2 * mask).sum() / (mask.sum().clamp_min(1) * a.shape[-1])


def distillation_loss(student_logits, teacher_logits, student_blocks: BlockOutputs, teacher_blocks: BlockOutputs,
                      *, decoder_map: list[int], encoder_map: list[int] | None = None, labels: torch.Tensor | None = None,
                      attention_mask: torch.Tensor | None = None, lambda_enc: float = 1e-3,
                      lambda_dec: float = 1e-3, temperature: float = 1.0,
                      direction: str = "student||teacher", kl_weight: float = 1.0,
                      shares: tuple[float, float] = (1.0, 1.0)) -> dict[str, torch.Tensor]:
    """Every term of the NASH objective except R; returns the terms (``kl`` unweighted) and their weighted
    sum ``loss = kl_weight * kl + lambda_enc * enc + lambda_dec * dec``.

    ``shares`` (target tokens, source tokens) multiply the terms that are means over those tokens in ``loss``
    (``nashlib.training.loop.Loop.share``: a process's part of a multi-process batch; 1.0, exact, in one)."""
    s_enc, t_enc = student_blocks.outputs["encoder"], teacher_blocks.outputs["encoder"]
    s_dec, t_dec = student_blocks.outputs["decoder"], teacher_blocks.outputs["decoder"]
    if encoder_map is None and len(s_enc) != len(t_enc):
        raise ValueError(f"student has {len(s_enc)} encoder layers, teacher {len(t_enc)}: pass encoder_map, "
                         "the teacher layer behind each student layer")
    encoder_map = list(range(len(s_enc))) if encoder_map is None else list(encoder_map)
    if len(encoder_map) != len(s_enc) or max(encoder_map, default=-1) >= len(t_enc):
        raise ValueError(f"student has {len(s_enc)} encoder layers, teacher {len(t_enc)}: encoder_map="
                         f"{encoder_map} must give a teacher layer for each student layer")
    if len(decoder_map) != len(s_dec) or max(decoder_map) >= len(t_dec):
        raise ValueError(f"decoder_map={decoder_map} does not map {len(s_dec)} student layers onto "
                         f"{len(t_dec)} teacher layers")
    target_mask = None if labels is None else labels != -100  # (B, T_dec)
    kl = kl_logits(student_logits, teacher_logits, target_mask, temperature, direction)
    enc = sum(_mse(s, t_enc[j], attention_mask) for s, j in zip(s_enc, encoder_map))
    dec = sum(_mse(s, t_dec[j], target_mask) for s, j in zip(s_dec, decoder_map))
    target_share, source_share = shares
    loss = kl_weight * kl * target_share + lambda_enc * enc * source_share + lambda_dec * dec * target_share
    return {"loss": loss, "kl": kl, "hidden_enc": enc, "hidden_dec": dec}
