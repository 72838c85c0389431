"""The paper's metrics, computed offline: ROUGE, METEOR, accuracy, F1, Matthews correlation, Pearson, Spearman.

Every function takes ``predictions`` (strings) and ``references`` (one string per prediction, or a
list of acceptable strings) and returns numbers in [0, 1] (correlations in [-1, 1]); the paper prints
them times 100. ``compute(task, predictions, references)`` gives a task's metrics with its paper
metric under ``"score"`` (see :data:`TASK_METRICS`).

- ROUGE: Google's ``rouge-score`` with Porter stemming; the mean F-measure over examples (the
  ``evaluate`` module's bootstrap median is close to it). ROUGE-Lsum needs one sentence per line: text
  is split with nltk's punkt when its data is installed, else with :func:`regex_sentences` (this
  machine has no punkt data; :func:`sentence_splitter` says which is in use).
- METEOR: nltk's ``meteor_score`` (WordNet synonyms, Porter stems), on texts tokenised by
  :func:`tokenize`; with several references, the best one counts (as in TweetQA's evaluation).
  WordNet comes from Debian's ``wordnet-base`` + ``wordnet-sense-index``: ``setup_wordnet`` (or
  ``python -m nashlib.data.metrics setup-wordnet``) copies it into a real ``nltk_data/corpora/wordnet``
  folder with the ``lexnames`` file Debian does not ship (nltk refuses symlinks and hard links out of its
  data root), under ``$NASH_NLTK_DATA`` or ``<sys.prefix>/share/nltk_data`` (the venv).
- Labels: ``accuracy`` (exact match after stripping), ``f1`` of one positive label, ``matthews``
  (multi-class, Gorodkin's formula, as scikit-learn); a prediction that is not a label is simply wrong.
- Regression (STS-B): ``pearson`` and ``spearman`` (scipy) of the numbers written in the texts; a
  prediction that is not a number counts as -1, as T5's ``string_to_float`` does.

The same metrics through ``evaluate``'s interface, without the hub (``evaluate.load`` would fetch a
script): ``load("rouge").compute(predictions=..., references=...)`` (also a task name: ``load("rte")``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from nashlib.data import tasks

__all__ = ["rouge", "rouge_rows", "meteor", "meteor_rows", "accuracy", "accuracy_rows", "per_row", "f1", "matthews",
           "pearson", "spearman", "compute", "TASK_METRICS",
           "tokenize", "regex_sentences", "split_sentences", "sentence_splitter", "nltk_data_dir",
           "setup_wordnet", "wordnet", "WordNetMissing", "LEXNAMES", "load",
           "UndefinedMetricWarning"]  # and NashMetric, built on first use

# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined on these inputs (a constant side of a correlation, F1 of an absent label): it is 0."""


def _refs(predictions, references) -> tuple[list[str], list[list[str]]]:
    """Check lengths and types; every reference becomes a non-empty list of strings."""
    if isinstance(predictions, str) or isinstance(references, str):
        raise TypeError("predictions and references must be lists of strings, not one string")
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references; they must pair up")
    if not predictions:
        raise ValueError("no predictions: a metric of nothing is undefined")
    for i, p in enumerate(predictions):
        if not isinstance(p, str):
            raise TypeError(f"prediction {i} is {p!r} ({type(p).__name__}); expected a string (labels are "
                            "compared as the words the model writes, e.g. 'positive', not integers)")
    refs = []
    for i, r in enumerate(references):
        ok = isinstance(r, (list, tuple)) and r and all(isinstance(x, str) for x in r)
        if not isinstance(r, str) and not ok:
            raise TypeError(f"reference {i} is {r!r} ({type(r).__name__}); expected a string or a non-empty "
                            "list of strings (labels as words, e.g. 'positive', not integers)")
        refs.append([r] if isinstance(r, str) else list(r))
    return predictions, refs


# --------------------------------------------------------------------------------------------
# ROUGE
# --------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"""([.!?]+["')\]]*)\s+(?=["'(\[]?[A-Z0-9])""")


def regex_sentences(text: str) -> list[str]:
    """Split after ``.``, ``!`` or ``?`` (and closing quotes/brackets) followed by space and a capital
    letter or digit, and at line breaks. Abbreviations such as "Mr. Smith" are split too: the price of
    having no trained model. Used when nltk's punkt data is not installed."""
    return [s.strip() for line in text.splitlines() for s in _SENTENCE_END.sub(r"\1\n", line).split("\n")
            if s.strip()]


def sentence_splitter() -> str:
    """``"punkt"`` when nltk's punkt_tab data is installed, else ``"regex"`` (see :func:`regex_sentences`)."""
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        return "punkt"
    except LookupError:
        return "regex"


def split_sentences(text: str) -> list[str]:
    if sentence_splitter() == "punkt":
        import nltk

        return [s for line in text.splitlines() for s in nltk.sent_tokenize(line) if s.strip()]
    return regex_sentences(text)


_SCORERS: dict = {}


def rouge_rows(predictions, references, *, stemming: bool = True) -> dict[str, np.ndarray]:
    """ROUGE-1/2/L/Lsum F-measure of every row (the best reference counts where there are several)."""
    from rouge_score import rouge_scorer

    predictions, refs = _refs(predictions, references)
    key = ("rouge1", "rouge2", "rougeL", "rougeLsum"), stemming
    scorer = _SCORERS.setdefault(key, rouge_scorer.RougeScorer(list(key[0]), use_stemmer=stemming))
    rows = {name: np.zeros(len(predictions)) for name in key[0]}
    for i, (pred, rs) in enumerate(zip(predictions, refs)):
        # rougeLsum reads one sentence per line; the other types ignore line breaks
        scores = scorer.score_multi(["\n".join(split_sentences(r)) for r in rs], "\n".join(split_sentences(pred)))
        for name in rows:
            rows[name][i] = scores[name].fmeasure
    return rows


def rouge(predictions, references, *, stemming: bool = True) -> dict[str, float]:
    """Mean ROUGE-1/2/L/Lsum F-measures; the best reference counts where there are several."""
    return {name: float(r.mean()) for name, r in rouge_rows(predictions, references, stemming=stemming).items()}


# --------------------------------------------------------------------------------------------
# WordNet and METEOR
# --------------------------------------------------------------------------------------------

class WordNetMissing(LookupError):
    """nltk cannot find WordNet; the message says how to install it."""


# WordNet 3.0's lexicographer files, numbered in order (lexnames(5WN)); the number after the name is
# the part of speech: 1 noun, 2 verb, 3 adjective, 4 adverb.
_LEXFILES = ("adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
             "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
             "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
             "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
             "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
             "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather "
             "adj.ppl").split()
_POS_NUMBER = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
LEXNAMES = "".join(f"{i:02d}\t{name}\t{_POS_NUMBER[name.split('.')[0]]}\n" for i, name in enumerate(_LEXFILES))

_WORDNET_FILES = ("cntlist.rev", "index.sense", "index.adj", "index.adv", "index.noun", "index.verb", "data.adj",
                  "data.adv", "data.noun", "data.verb", "adj.exc", "adv.exc", "noun.exc", "verb.exc")
_DEBIAN_WORDNET = Path("/usr/share/wordnet")
_FIX = ("Install it with: apt-get update && apt-get install -y --no-install-recommends wordnet-base "
        "wordnet-sense-index, then: python -m nashlib.data.metrics setup-wordnet (make test does both in CI)")


def nltk_data_dir() -> Path:
    """Where nashlib keeps its nltk data: ``$NASH_NLTK_DATA``, else ``<sys.prefix>/share/nltk_data``."""
    return Path(os.environ.get("NASH_NLTK_DATA") or Path(sys.prefix) / "share" / "nltk_data")


def _use_data_dir() -> Path:
    """Put our nltk data folder first on ``nltk.data.path`` (the only global state touched)."""
    import nltk

    root = str(nltk_data_dir())
    if root not in nltk.data.path:
        nltk.data.path.insert(0, root)
    return Path(root)


def _check_lexnames(folder: Path) -> None:
    """Every synset's lexicographer file number must name a file of the synset's part of speech."""
    for pos in ("noun", "verb", "adj", "adv"):
        with open(folder / f"data.{pos}", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("  "):  # the license header
                    continue
                number = int(line.split(" ", 2)[1])
                if not _LEXFILES[number].startswith(pos + "."):
                    raise ValueError(f"data.{pos}: synset {line[:8]} has lexicographer file {number} "
                                     f"({_LEXFILES[number]}); the lexnames table does not fit this WordNet")


def setup_wordnet(source: str | os.PathLike = _DEBIAN_WORDNET, *, force: bool = False) -> Path:
    """Build ``<nltk data>/corpora/wordnet`` from a WordNet 3.0 database folder (Debian's by default).

    Copies the files (nltk refuses links out of its data root), writes ``lexnames`` and checks it
    against every synset in a temporary folder, renames that into place (a half-copied folder is never
    found), then reads a synset through nltk. Returns the folder; does nothing when it is built.
    """
    source = Path(source)
    dest = _use_data_dir() / "corpora" / "wordnet"
    if (dest / "lexnames").is_file() and not force:
        return dest
    missing = [f for f in _WORDNET_FILES if not (source / f).is_file()]
    if missing:
        raise WordNetMissing(f"no WordNet database in {source} (missing {', '.join(missing)}). {_FIX}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".wordnet."))
    try:
        for name in _WORDNET_FILES:
            shutil.copyfile(source / name, tmp / name)
        (tmp / "lexnames").write_text(LEXNAMES, encoding="utf-8")
        _check_lexnames(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # nltk's reader maps versions through the installed "wordnet" corpus, so it is read in place
    if wordnet().synset("dog.n.01").lexname() != "noun.animal":
        shutil.rmtree(dest)
        raise RuntimeError(f"WordNet built from {source} reads wrongly (dog.n.01 is not in noun.animal); removed")
    return dest


def wordnet():
    """nltk's WordNet reader on nashlib's data folder, or :class:`WordNetMissing` saying how to get it."""
    _use_data_dir()
    from nltk.corpus import wordnet as wn

    try:
        wn.ensure_loaded()
    except LookupError as exc:
        raise WordNetMissing(f"nltk finds no WordNet (looked in {nltk_data_dir()} first). {_FIX}") from exc
    return wn


_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Words (with inner apostrophes) and single punctuation marks: "It's 5pm." -> It's, 5pm, ."""
    return _TOKEN.findall(text)


def meteor_rows(predictions, references) -> np.ndarray:
    """METEOR of every row (nltk, alpha 0.9, beta 3, gamma 0.5), the best reference per prediction."""
    from nltk.translate.meteor_score import meteor_score

    predictions, refs = _refs(predictions, references)
    wn = wordnet()
    return np.array([meteor_score([tokenize(r) for r in rs], tokenize(p), wordnet=wn)
                     for p, rs in zip(predictions, refs)], dtype=float)


def meteor(predictions, references) -> float:
    """Mean METEOR (nltk, alpha 0.9, beta 3, gamma 0.5), the best reference per prediction."""
    return float(np.mean(meteor_rows(predictions, references)))


# --------------------------------------------------------------------------------------------
# Labels and numbers
# --------------------------------------------------------------------------------------------

def _single(predictions, references) -> tuple[list[str], list[str]]:
    predictions, refs = _refs(predictions, references)
    return [p.strip() for p in predictions], [r[0].strip() for r in refs]


def accuracy_rows(predictions, references) -> np.ndarray:
    """1.0 where a prediction equals its reference (after stripping spaces; any reference counts), else 0.0."""
    predictions, refs = _refs(predictions, references)
    return np.array([p.strip() in {r.strip() for r in rs} for p, rs in zip(predictions, refs)], dtype=float)


def accuracy(predictions, references) -> float:
    """Share of predictions equal to their reference (after stripping spaces); any reference counts."""
    return float(np.mean(accuracy_rows(predictions, references)))


def f1(predictions, references, positive: str) -> float:
    """F1 of the label ``positive``: 2 TP / (2 TP + FP + FN); 0 when it is never predicted nor true.

    That case is also what a misspelt ``positive`` gives, so it comes with a :class:`UndefinedMetricWarning`
    naming the labels seen.
    """
    if not isinstance(positive, str):
        raise TypeError(f"positive={positive!r} ({type(positive).__name__}); expected a label word (a string)")
    preds, refs = _single(predictions, references)
    if positive not in refs and positive not in preds:
        warnings.warn(f"f1: positive={positive!r} occurs in neither predictions nor references (labels seen: "
                      f"{sorted(set(refs) | set(preds))}); F1 is 0", UndefinedMetricWarning, stacklevel=2)
        return 0.0
    tp = sum(p == positive and r == positive for p, r in zip(preds, refs))
    fp = sum(p == positive and r != positive for p, r in zip(preds, refs))
    fn = sum(p != positive and r == positive for p, r in zip(preds, refs))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def matthews(predictions, references) -> float:
    """Matthews correlation over every label seen (Gorodkin's multi-class form); 0 if undefined."""
    preds, refs = _single(predictions, references)
    labels = sorted(set(preds) | set(refs))
    index = {label: i for i, label in enumerate(labels)}
    c = np.zeros((len(labels), len(labels)))
    np.add.at(c, ([index[r] for r in refs], [index[p] for p in preds]), 1)
    t, p, s, correct = c.sum(1), c.sum(0), c.sum(), np.trace(c)
    denominator = np.sqrt((s * s - p @ p) * (s * s - t @ t))
    return float((correct * s - t @ p) / denominator) if denominator else 0.0


def _numbers(predictions, references) -> tuple[np.ndarray, np.ndarray]:
    """The numbers written in the texts: a prediction that is not a finite number is -1 (T5's
    ``string_to_float``); a reference that is not one is an error naming it."""
    preds, refs = _single(predictions, references)

    def number(text: str) -> float | None:
        try:
            value = float(text)
        except ValueError:
            return None
        return value if np.isfinite(value) else None

    ys = [number(r) for r in refs]
    bad = next((i for i, y in enumerate(ys) if y is None), None)
    if bad is not None:
        raise ValueError(f"reference {bad} is {refs[bad]!r}, not a finite number")
    return np.array([-1.0 if (v := number(p)) is None else v for p in preds]), np.array(ys)


def _correlation(name: str, predictions, references) -> float:
    """A correlation of the numbers in the texts; 0 with a warning when one side is constant (undefined)."""
    from scipy import stats

    x, y = _numbers(predictions, references)
    for side, v in (("prediction", x), ("reference", y)):
        if np.all(v == v[0]):  # scipy returns NaN here; a NaN score would sort and average silently wrong
            warnings.warn(f"{name}: every {side} is {v[0]:g} ({len(v)} of them); the correlation is undefined "
                          "and counts as 0", UndefinedMetricWarning, stacklevel=3)
            return 0.0
    return float((stats.pearsonr if name == "pearson" else stats.spearmanr)(x, y)[0])


def pearson(predictions, references) -> float:
    """Pearson correlation of the numbers in the texts; a non-number prediction counts as -1 (T5).

    Constant predictions (or references) make it undefined: it is then 0, with an :class:`UndefinedMetricWarning`
    (a model that always writes one score has no linear relation to the truth), never NaN.
    """
    return _correlation("pearson", predictions, references)


def spearman(predictions, references) -> float:
    """Spearman rank correlation, with the same parsing and the same constant-input rule as :func:`pearson`."""
    return _correlation("spearman", predictions, references)


# --------------------------------------------------------------------------------------------
# Per task
# --------------------------------------------------------------------------------------------

# metric suite of each task kind; "score" is the paper's metric (the first name)
_SUITES = {
    "rougeL": ("rougeL", "rouge1", "rouge2", "rougeLsum"),
    "meteor": ("meteor",),
    "accuracy": ("accuracy",),
    "matthews_correlation": ("matthews_correlation", "accuracy"),
    "pearson": ("pearson", "spearman"),
}
TASK_METRICS = {name: task.metric for name, task in tasks.TASKS.items()}  # the registry's, by task
_POSITIVE = {"mrpc": "equivalent"}  # F1 reported beside accuracy where GLUE reports both


def _mixture_parts(task: str, parts, n: int) -> tuple[tuple[str, ...], np.ndarray] | None:
    """``(the mixture's parts, each row's part)`` when ``task`` is a mixture (``"a+b"``), else None."""
    if tasks.MIX not in task:
        if parts is not None:
            raise ValueError(f"parts given for {task!r}, which is not a mixture; allowed: parts=None")
        return None
    names = tasks.get(task).parts
    if parts is None or len(parts) != n or not set(parts) <= set(names):
        raise ValueError(f"mixture {task!r}: parts must name each row's task (one of {list(names)}) for "
                         f"{n} rows; got {None if parts is None else len(parts)} entries")
    return names, np.asarray(parts)


def _compute_mixture(names, parts: np.ndarray, predictions, references) -> dict[str, float]:
    """A mixture's metrics: each part's, as ``"<part>/<metric>"``, and ``"score"``: every row's own task's
    metric averaged over the rows (each part's score weighted by its rows)."""
    out, total = {}, 0.0
    for name in names:
        idx = np.flatnonzero(parts == name)
        if not idx.size:
            continue
        part = compute(name, [predictions[i] for i in idx], [references[i] for i in idx])
        out.update({f"{name}/{k}": v for k, v in part.items()})
        total += part["score"] * idx.size
    return {"score": total / len(parts), **out}


def compute(task: str, predictions, references, parts=None) -> dict[str, float]:
    """Every metric of ``task``; ``"score"`` is the paper's (ROUGE-L, METEOR, MCC, Pearson or accuracy). A
    mixture (``"a+b"``, ``nashlib.data.tasks.mixture``) needs ``parts``, each row's task; its score is the
    row mean of each row's own task's metric, and each part's metrics come beside it."""
    mix = _mixture_parts(task, parts, len(predictions))
    if mix is not None:
        return _compute_mixture(*mix, list(predictions), list(references))
    if task not in TASK_METRICS:
        raise ValueError(f"no metric for task {task!r}; known tasks: {', '.join(TASK_METRICS)}")
    names = _SUITES[TASK_METRICS[task]]
    if names[0] == "rougeL":
        out = rouge(predictions, references)
    else:
        out = {n: _FUNCTIONS[n](predictions, references) for n in names}
    if task in _POSITIVE:
        out["f1"] = f1(predictions, references, _POSITIVE[task])
    return {"score": out[names[0]], **out}


def per_row(task: str, predictions, references, parts=None) -> np.ndarray | None:
    """The paper's metric of ``task`` row by row, where it is a mean over rows (ROUGE-L, METEOR, accuracy:
    then ``per_row(...).mean()`` is ``compute(...)["score"]``); None where it is not (MCC, Pearson), so a
    comparison can only resample seeds, not rows. A mixture: each row's own task's metric (None if one part's
    is not a mean over rows); ``parts`` as for :func:`compute`."""
    mix = _mixture_parts(task, parts, len(predictions))
    if mix is not None:
        names, where = mix
        out = np.zeros(len(where))
        for name in names:
            idx = np.flatnonzero(where == name)
            rows = per_row(name, [predictions[i] for i in idx], [references[i] for i in idx]) if idx.size else []
            if rows is None:
                return None
            out[idx] = rows
        return out
    if task not in TASK_METRICS:
        raise ValueError(f"no metric for task {task!r}; known tasks: {', '.join(TASK_METRICS)}")
    main = _SUITES[TASK_METRICS[task]][0]
    rows = {"rougeL": lambda: rouge_rows(predictions, references)["rougeL"],
            "meteor": lambda: meteor_rows(predictions, references),
            "accuracy": lambda: accuracy_rows(predictions, references)}
    return rows[main]() if main in rows else None


_FUNCTIONS = {"meteor": meteor, "accuracy": accuracy, "matthews_correlation": matthews, "pearson": pearson,
              "spearman": spearman}

# --------------------------------------------------------------------------------------------
# The evaluate interface
# --------------------------------------------------------------------------------------------

_MODULES = ("rouge", "meteor", "accuracy", "matthews_correlation", "pearson", "spearman")


def _evaluate_class():
    import datasets
    import evaluate

    class NashMetric(evaluate.Metric):
        """An ``evaluate`` metric computed by :mod:`nashlib.data.metrics`; ``config_name`` picks it.

        ``config_name`` is a metric (rouge, meteor, accuracy, matthews_correlation, pearson, spearman)
        or a task name (its :func:`compute` suite). Kept in memory: nothing is written to evaluate's cache.
        """

        def __init__(self, config_name: str, **kwargs):
            if config_name not in _MODULES and config_name not in TASK_METRICS:
                raise ValueError(f"unknown metric {config_name!r}; allowed: {', '.join(_MODULES)} or a task: "
                                 f"{', '.join(TASK_METRICS)}")
            kwargs.setdefault("keep_in_memory", True)
            super().__init__(config_name=config_name, **kwargs)

        def _info(self):
            text = datasets.Value("string")
            return evaluate.MetricInfo(
                description=f"nashlib.data.metrics: {self.config_name}, computed offline", citation="",
                inputs_description="predictions: list of str; references: list of str or list of lists of str",
                features=[datasets.Features({"predictions": text, "references": datasets.Sequence(text)}),
                          datasets.Features({"predictions": text, "references": text})])

        def _compute(self, predictions, references):
            name = self.config_name
            if name in TASK_METRICS:
                return compute(name, predictions, references)
            if name == "rouge":
                return rouge(predictions, references)
            return {name: _FUNCTIONS[name](predictions, references)}

    return NashMetric


def __getattr__(name):  # NashMetric is built on first use: importing evaluate takes seconds
    if name == "NashMetric":
        globals()["NashMetric"] = _evaluate_class()
        return globals()["NashMetric"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(name: str, **kwargs):
    """An ``evaluate`` metric module, offline: ``load("rouge").compute(predictions=..., references=...)``."""
    return __getattr__("NashMetric")(name, **kwargs)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nashlib.data.metrics", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    setup = sub.add_parser("setup-wordnet", help="build nltk's WordNet folder from Debian's wordnet-base")
    setup.add_argument("--source", default=str(_DEBIAN_WORDNET), help="WordNet 3.0 dict folder (default: %(default)s)")
    setup.add_argument("--force", action="store_true", help="rebuild even if it exists")
    args = parser.parse_args(argv)
    try:
        dest = setup_wordnet(args.source, force=args.force)
    except WordNetMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from nltk.translate.meteor_score import single_meteor_score

    check = single_meteor_score(_METEOR_REFERENCE, _METEOR_HYPOTHESIS, wordnet=wordnet())
    print(f"WordNet ready in {dest}; nltk's documented METEOR example scores {check:.4f} (expected 0.6944)")
    return 0 if round(check, 4) == 0.6944 else 1


# nltk.translate.meteor_score's docstring example (hypothesis1 / reference1), scoring 0.6944
_METEOR_HYPOTHESIS = ("It is a guide to action which ensures that the military always obeys the commands of "
                      "the party").split()
_METEOR_REFERENCE = "It is a guide to action that ensures that the military will forever heed Party commands".split()

if __name__ == "__main__":
    sys.exit(main())
