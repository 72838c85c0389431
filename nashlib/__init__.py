"""nashlib: the library behind the NASH companion notebooks (Ko et al. 2023, arXiv 2310.10054).

Folders follow the architecture, and dependencies point one way, down this list:

- ``env`` (seeding, run info, atomic writes), ``settings`` (one :class:`~nashlib.settings.Profile` per run
  size, one override channel), ``arch`` (where a T5 or BART keeps its blocks, and what a unit costs),
  ``shapes`` (T5 models of named shapes);
- ``data`` (the paper's tasks and metrics, offline);
- ``pruning`` (the method: hard-concrete masks as hooks, constraints with Lagrangians, layer selection,
  distillation, NASH and CoFi-T5 runs, exact compaction);
- ``training`` (the one optimisation loop and the run folders it resumes from);
- ``experiments`` (cached teachers, baselines, the paper's lineup of students, tables' rows);
- ``speed`` (the latency protocol, component profiling, faster beam search);
- ``results`` (verdicts, the paper's numbers, figures, REPORT.md), and ``runner`` (the notebook runner).

Importing ``nashlib`` registers the compacted model classes (``nash_t5``, ``nash_bart``) with
transformers' Auto classes, so ``AutoModelForSeq2SeqLM.from_pretrained`` loads a pruned model.
"""

from nashlib.pruning import compact as _compact  # noqa: F401  registers nash_t5 / nash_bart with the Auto classes

__version__ = "0.1.0"
