"""The instruction-following evaluation suite of the paper's Table 2: Dolly's held-out rows, Self-Instruct, Vicuna.

The paper (Sec. 5.2) follows Gu et al. (2023, MiniLLM): a model tuned on 14k rows of databricks-dolly-15k is
evaluated on (1) the 1k held-out Dolly rows, (2) Self-Instruct's user-oriented instructions (Wang et al. 2023)
and (3) the Vicuna evaluation questions (Chiang et al. 2023). Dolly is the registry's ``dolly`` task (its
``validation`` split is the held-out 1000, cut by a seeded permutation). Self-Instruct and Vicuna are read from
the copies Gu et al. publish on the hub, as they evaluate on them: ``MiniLLM/self-inst`` and ``MiniLLM/Vicuna``,
one ``valid.jsonl`` each, a row ``{"instruction", "input", "prompt", "output"}`` (``prompt``: their Alpaca-style
template, not used here; ``output``: the reference answer, a text or a list of texts, all kept as references).

They are evaluation sets only (no training split), so they are :class:`~nashlib.data.tasks.Task` objects here,
not registry tasks: a teacher never trains on them, and their metric is ROUGE-L. Each formats its input as the
``dolly`` task does (``"{instruction}\\n\\n{input}"``), so a model tuned on Dolly reads them the same way.
Offline, a copy laid out as the hub repository (``<NASH_DATA_DIR>/minillm/self-inst/valid.jsonl``,
``.../minillm/Vicuna/valid.jsonl``) is read instead when present; none is staged in this repository's data.

The suite lives here, beside Table 2's experiment, not in ``nashlib.data``: that package is training code
(``nashlib.training.runs.TRAINING_CODE``), whose every edit gives every cached teacher and student a new identity,
and these sets decide no training.
"""

from __future__ import annotations

from dataclasses import dataclass

from nashlib.data import tasks

__all__ = ["SELF_INSTRUCT", "VICUNA", "EvalSet", "EVAL_SETS", "load_eval_sets"]


def _minillm(name: str, repo: str, title: str, note: str) -> tasks.Task:
    return tasks.Task(name, title, "instruction", "rougeL", "{instruction}\n\n{input}", "output",
                      tasks.HubSource(repo, data_files={"validation": "valid.jsonl"}),
                      tasks.LocalSource({"validation": (f"minillm/{repo.split('/')[1]}/valid.jsonl",)},
                                        tasks._jsonl),  # noqa: SLF001 (the registry's JSON-lines reader)
                      splits=("validation",), optional=("input",), note=note)


SELF_INSTRUCT = _minillm("self_instruct", "MiniLLM/self-inst", "Self-Instruct (user-oriented, Gu et al.'s copy)",
                         "Wang et al.'s 252 expert-written user-oriented instructions as Gu et al. evaluate on them "
                         "(their copy holds 242 rows)")
VICUNA = _minillm("vicuna", "MiniLLM/Vicuna", "Vicuna evaluation (Gu et al.'s copy)",
                  "the 80 questions of the Vicuna evaluation, with the reference answers Gu et al. publish")


@dataclass(frozen=True)
class EvalSet:
    """One column group of Table 2: the paper's name for it, the task and split read, and the paper's row count."""

    name: str
    task: tasks.Task
    split: str
    paper_rows: int


EVAL_SETS: tuple[EvalSet, ...] = (
    EvalSet("Dolly", tasks.get("dolly"), "validation", 1000),
    EvalSet("Self-Instruct", SELF_INSTRUCT, "validation", 252),
    EvalSet("Vicuna", VICUNA, "validation", 80),
)


def load_eval_sets(limit: int | None = None, *, source: str = "auto",
                   sets: tuple[EvalSet, ...] = EVAL_SETS) -> dict[str, tasks.TaskData]:
    """``{name: TaskData}`` of every evaluation set (the first ``limit`` rows of each, or all); a set that cannot
    be read raises (``tasks.load_task``'s errors name the hub dataset and the local path looked for)."""
    return {s.name: tasks.load_task(s.task, s.split, source=source, limit=limit) for s in sets}
