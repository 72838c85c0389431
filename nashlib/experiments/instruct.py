"""Table 2's instruction tuning: the Dolly teacher of a profile, scoring on the evaluation suite, the GPT-4 judge.

Every model of Table 2 (the Dolly-tuned teacher, the small dense model, NASH-2/3/4) answers every row of the three
evaluation sets (:data:`nashlib.experiments.instruct_sets.EVAL_SETS`) with the teacher's generation settings; ROUGE-L is
scored row by row (x 100), so a comparison resamples seeds and rows like every other quality claim
(``nashlib.experiments.paired``).

**The judge (Appendix E).** The paper also asks GPT-4 to compare each answer with the reference answer: the
prompt of its Figure 9 (Gu et al.'s layout: the question, "Assistant 1" the reference, "Assistant 2" the model,
then the instruction to score both from 1 to 10 on the first line), and reports the ratio of the model's summed
scores to the reference's (x 100). A judge here is any callable ``prompt -> reply text`` a user supplies (for
example a wrapper of their API client), named as ``"module:function"``; none is built in, and without one the
column reads *not scored* (NaN), never a zero. A reply whose first line is not two scores from 1 to 10 raises
:class:`JudgeReplyError` with the reply, rather than being dropped.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nashlib.data import metrics, tasks
from nashlib.experiments import lineup, nlu, students, summary
from nashlib.experiments.generation import generate_texts
from nashlib.experiments.teachers import Teacher
from nashlib.settings import Profile, StudentRecipe, TeacherConfig

__all__ = ["TASK", "LABELS", "PAPER_ROW", "dolly_teacher", "Lineup", "train_lineup", "row_scores", "score_lineup", "JUDGE_SYSTEM", "judge_prompt", "parse_reply", "JudgeReplyError",
           "load_judge", "judge_score", "paper_rows", "NOT_SCORED"]

TASK = "dolly"  # the task Table 2's teacher is tuned on
LABELS = ("teacher", "small dense", "NASH-2", "NASH-3", "NASH-4")  # Table 2's rows, in our roles
PAPER_ROW = {"teacher": "T5-Base", "small dense": "T5-Small", "NASH-2": "NASH-2", "NASH-3": "NASH-3",
             "NASH-4": "NASH-4"}
NOT_SCORED = "not scored (no judge given)"
Judge = Callable[[str], str]


def dolly_teacher(profile: Profile) -> TeacherConfig | None:
    """The profile's teacher tuned on Dolly, or None when the profile has none (the offline profiles)."""
    return next((t for t in profile.teachers if t.task == TASK), None)


@dataclass(frozen=True)
class Lineup:
    """Table 2's trained models: ``runs[label]`` one per seed (the teacher's one run repeated), each with
    ``.model``; ``tokenizers[label]``; ``rows``: one ``summary`` row per model and seed (sizes, reached sparsity)."""

    runs: dict[str, list]
    tokenizers: dict[str, object]
    rows: list


def train_lineup(t: Teacher, recipe: StudentRecipe, seeds: Sequence[int], *, workers: int) -> Lineup:
    """The small dense model and NASH-2/3/4 (``lineup.nash_lineup``) of Dolly teacher ``t``, once per seed."""
    configs = {s: lineup.nash_lineup(recipe, seed=s) for s in seeds}
    students.prefetch(t, [c for by_label in configs.values() for c in by_label.values()], recipe, workers=workers)
    smalls = [nlu.small_model(t, s) for s in seeds]
    runs = {"teacher": [t] * len(seeds), "small dense": smalls}
    runs |= {f"NASH-{d}": [summary.check_student(students.student(t, configs[s][f"NASH-{d}"], recipe), t,
                                                 decoder_layers=d) for s in seeds] for d in (2, 3, 4)}
    rows = [summary.dense_row("teacher", t.model, t.scores, t),
            *(summary.dense_row("small dense", m.model, m.scores, t, seed=s) for m, s in zip(smalls, seeds)),
            *(summary.student_row(k, x, t) for k in LABELS[2:] for x in runs[k])]
    return Lineup(runs, {k: smalls[0].tokenizer if k == "small dense" else t.tokenizer for k in LABELS}, rows)


def row_scores(model, tokenizer, cfg: TeacherConfig, data: tasks.TaskData) -> tuple[np.ndarray, list[str]]:
    """ROUGE-L (x 100) of ``model``'s answer to each row of ``data``, generated as ``cfg``'s teacher is scored
    (its source and target lengths and beams), and the answers. Returns ``((rows,), answers)``."""
    answers = generate_texts(model, tokenizer, list(data.dataset["source"]), max_source_len=cfg.max_source_len,
                             max_new_tokens=cfg.max_target_len, beams=cfg.beams, progress=False)
    refs = [list(r) for r in data.dataset["references"]]
    return metrics.rouge_rows(answers, refs)["rougeL"] * 100, answers


def score_lineup(models: Lineup, cfg: TeacherConfig, sets: dict[str, tasks.TaskData]):
    """``(scores, answers)``: ``scores[set][label]`` (seeds, rows) of ROUGE-L x 100, ``answers[set][label]`` the
    first seed's answers. The teacher answers once; its rows are repeated for every seed (``paired.scores``)."""
    scores: dict = {name: {} for name in sets}
    answers: dict = {name: {} for name in sets}
    for name, data in sets.items():
        for label, runs in models.runs.items():
            done = {}  # id(model) -> rows: the teacher's repeated run is scored once
            for run in runs:
                if id(run.model) not in done:
                    done[id(run.model)] = row_scores(run.model, models.tokenizers[label], cfg, data)
            scores[name][label] = np.stack([done[id(r.model)][0] for r in runs])  # (seeds, rows)
            answers[name][label] = done[id(runs[0].model)][1]
    return scores, answers


# Figure 9 of the paper, the instruction that follows the two answers (Gu et al.'s evaluation layout).
JUDGE_SYSTEM = (
    "We would like to request your feedback on the performance of two AI assistants in response to the user "
    "instruction and input displayed above.\n\n"
    "Please rate the helpfulness, relevance, accuracy, and level of detail of their responses. Each assistant "
    "receives an overall score on a scale of 1 to 10, where a higher score indicates better overall performance.\n\n"
    "Please first output a single line containing only two values indicating the scores for Assistant 1 and 2, "
    "respectively. The two scores are separated by a space.\n\n"
    "In the subsequent line, please provide a comprehensive explanation of your evaluation, avoiding any potential "
    "bias and ensuring that the order in which the responses were presented does not affect your judgment.")


def judge_prompt(question: str, reference: str, answer: str) -> str:
    """The judge's prompt for one row: Assistant 1 gives the reference answer, Assistant 2 the model's."""
    return (f"[Question]\n{question}\n\n[The Start of Assistant 1's Answer]\n{reference}\n\n"
            f"[The End of Assistant 1's Answer]\n\n[The Start of Assistant 2's Answer]\n{answer}\n\n"
            f"[The End of Assistant 2's Answer]\n\n[System]\n{JUDGE_SYSTEM}\n\n")


class JudgeReplyError(ValueError):
    """A judge's reply does not start with a line of two scores from 1 to 10."""


_NUMBER = r"(\d+(?:\.\d+)?)"


def parse_reply(reply: str) -> tuple[float, float]:
    """``(reference score, model score)`` from the first line of a judge's reply (``"8 6"``, ``"8, 6.5"``)."""
    first = str(reply).strip().split("\n", 1)[0]
    m = re.fullmatch(rf"\s*{_NUMBER}\s*[, ]\s*{_NUMBER}\s*", first)
    scores = (float(m.group(1)), float(m.group(2))) if m else None
    if scores is None or not all(1 <= s <= 10 for s in scores):
        raise JudgeReplyError(f"judge reply {reply[:200]!r}: the first line must hold two scores from 1 to 10 "
                              "(Assistant 1, Assistant 2) separated by a space")
    return scores


def load_judge(spec: str) -> Judge | None:
    """``"module:function"`` -> that callable (``prompt -> reply``); ``""`` -> None (the column is not scored)."""
    if not spec:
        return None
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"JUDGE={spec!r}; allowed: '' (no judge) or 'module:function', a callable prompt -> reply")
    try:
        judge = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"JUDGE={spec!r}: cannot import {name!r} from {module!r} ({exc})") from exc
    if not callable(judge):
        raise ValueError(f"JUDGE={spec!r}: {type(judge).__name__} is not callable; allowed: a function prompt -> reply")
    return judge


def judge_score(judge: Judge, questions: Sequence[str], references: Sequence[str], answers: Sequence[str]) -> float:
    """Appendix E's score: 100 x (the model's summed judge scores) / (the reference answers' summed scores)."""
    if not len(questions) == len(references) == len(answers) > 0:
        raise ValueError(f"{len(questions)} questions, {len(references)} references, {len(answers)} answers; "
                         "allowed: the same positive number of each")
    pairs = np.array([parse_reply(judge(judge_prompt(q, r, a))) for q, r, a in zip(questions, references, answers)])
    return float(100 * pairs[:, 1].sum() / pairs[:, 0].sum())  # pairs: (rows, 2) = (reference, model)


def paper_rows() -> pd.DataFrame:
    """Table 2 as a tidy frame: model (paper row), dataset, gpt4_eval, rouge_l, speedup."""
    from nashlib.results import paper

    return pd.DataFrame([dict(model=m, dataset=d, **dict(zip(paper.TABLE2_COLUMNS, cols)))
                         for m, vals in paper.TABLE2.items() for d, cols in zip(paper.TABLE2_DATASETS, vals)])
