"""Trained models at work: generating texts, scoring them, timing generation against a baseline."""

from __future__ import annotations

import pandas as pd
import torch

from nashlib.data import metrics, tasks
from nashlib.experiments.records import Scores
from nashlib.shapes import empty_cache
from nashlib.speed import timing

__all__ = ["generate_texts", "score", "parts_of", "is_generation", "time_generation"]


def generate_texts(model, tokenizer, sources: list[str], *, max_source_len: int, max_new_tokens: int, beams: int,
                   batch_size: int = 32, progress: bool = True) -> list[str]:
    """Decode ``sources`` (batched, longest first, beam search) and return the texts in input order."""
    from tqdm import tqdm

    model.eval()
    order = sorted(range(len(sources)), key=lambda i: -len(sources[i]))
    out: list[str] = [""] * len(sources)
    for start in tqdm(range(0, len(order), batch_size), desc="generating", disable=not progress):
        rows = order[start:start + batch_size]
        enc = tokenizer([sources[i] for i in rows], max_length=max_source_len, truncation=True, padding=True,
                        return_tensors="pt").to(model.device)
        with torch.inference_mode():
            # an explicit cache: transformers sizes its own from the encoder depth (deeper decoders fail)
            gen = model.generate(**enc, num_beams=beams, do_sample=False, max_new_tokens=max_new_tokens,
                                 cache=empty_cache())  # (B, 1 + new tokens)
        for i, text in zip(rows, tokenizer.batch_decode(gen, skip_special_tokens=True)):
            out[i] = text.strip()
    return out


def score(task: str, predictions: list[str], data: tasks.TaskData) -> Scores:
    """The task's metrics of ``predictions`` against ``data``'s references; ``.main`` is the paper's (a mixture's
    rows say their task in ``data``'s ``part`` column)."""
    return Scores.from_json(metrics.compute(task, predictions, [list(r) for r in data.dataset["references"]],
                                            parts=parts_of(data)))


def parts_of(data: tasks.TaskData) -> list[str] | None:
    """Each row's task when ``data`` is a mixture's split (``nashlib.data.tasks.mixture``), else None."""
    return list(data.dataset["part"]) if data.task.parts else None


def is_generation(task_name: str) -> bool:
    """Whether a task's outputs are free text (summaries, answers, derived text tasks), not a label or score."""
    return tasks.get(task_name).kind not in ("classification", "regression")


def time_generation(models: dict[str, object], tokenizer, sources: list[str], *, max_source_len: int, new_tokens: int,
                    beams: int, warmup: int, repeats: int, baseline: str = "teacher",
                    until_done: bool = False) -> pd.DataFrame:
    """Speedup of every model against ``baseline`` generating for the same real ``sources``.

    One padded batch of ``sources``, tokenized by ``tokenizer`` (or by ``tokenizer[name]`` when it is a
    dict: a model trained with its own vocabulary reads the text its own way); each call generates
    exactly ``new_tokens`` tokens (so a model that stops early is not faster for it), or with ``until_done``
    until every sequence has ended (the paper's protocol, Appendix F; ``new_tokens`` caps it), with ``beams``
    beams. Each model's encoder alone is timed in the same rounds. ``nashlib.speed.timing`` interleaves the
    calls and pairs the ratios. Returns one row per model: ``speedup`` (median paired ratio), its quartiles,
    ``speedup_rounds`` (the paired ratio of every timed round, in round order: the same rounds for every
    model, so two models' speedups compare round by round, with an interval), the median wall time,
    ``encoder_median_s`` and ``decoder_median_s`` (the rest of the call), the mean new tokens per sequence
    (``new_tokens_mean``, end-of-sequence included) and the source length in tokens.
    """
    if baseline not in models:
        raise ValueError(f"baseline {baseline!r} is not among the models {sorted(models)}")
    if not sources:
        raise ValueError("sources is empty; give the validation texts to generate from")
    if isinstance(tokenizer, dict) and set(models) - set(tokenizer):
        raise ValueError(f"no tokenizer given for {sorted(set(models) - set(tokenizer))}")
    calls, lengths, written = {}, {}, {}
    for name, m in models.items():
        tok = tokenizer[name] if isinstance(tokenizer, dict) else tokenizer
        enc = tok(sources, max_length=max_source_len, truncation=True, padding=True, return_tensors="pt")
        inputs = {k: v.to(m.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}  # (B, T_src)
        lengths[name] = int(inputs["input_ids"].shape[1])
        calls[name] = timing.generation_call(m.eval(), inputs, new_tokens=new_tokens, beams=beams,
                                             until_done=until_done)
        calls[f"{name} [encoder]"] = timing.encoder_call(m, inputs)
        written[name] = float((calls[name]()[:, 1:] != m.config.pad_token_id).sum(1).double().mean())
    device = next(iter(models.values())).device
    samples = timing.measure(calls, warmup=warmup, repeats=repeats, device=device)
    medians = timing.summarize(samples).set_index("config").wall_median_s
    out = timing.speedups(samples[~samples.config.str.endswith(" [encoder]")], baseline)
    wide = samples.pivot(index="repeat", columns="config", values="wall_s")  # (rounds, configurations)
    out["speedup_rounds"] = [tuple(wide[baseline] / wide[c]) for c in out.config]
    out["wall_median_s"] = out.config.map(medians)
    out["encoder_median_s"] = [medians[f"{c} [encoder]"] for c in out.config]
    out["decoder_median_s"] = out.wall_median_s - out.encoder_median_s
    out["new_tokens_mean"] = out.config.map(written)
    out["source_tokens"] = out.config.map(lengths)
    return out.rename(columns={"config": "model"})
