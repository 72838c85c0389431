"""nashlib: the library behind the NASH companion notebooks.

One module per concept: ``profiles`` (run sizes), ``models`` (T5 shapes), ``timing`` (the latency
protocol), ``profiling`` (time per component), ``plotting`` (one look, saved with its numbers),
``env`` (seeding, run info, atomic writes), ``paper`` (the paper's printed numbers), ``report``
(REPORT.md from the notebooks' findings) and ``notebooks`` (the headless runner).

The pruning core: ``l0`` (hard-concrete masks, Lagrangian controller), ``sites`` (where masks act on
stock modules, sparsity accounting), ``select`` (decoder layer selection), ``distill`` (the losses),
``compact`` (the smaller model, registered with transformers' Auto classes) and ``prune`` (NASH and
CoFi-T5 end to end, on accelerate, with checkpoints that resume).
"""

from . import compact as _compact  # noqa: F401  registers nash_t5 / nash_bart with the Auto classes

__version__ = "0.1.0"
