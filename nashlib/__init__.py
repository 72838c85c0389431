"""nashlib: the library behind the NASH companion notebooks.

One module per concept: ``profiles`` (run sizes), ``models`` (T5 shapes), ``timing`` (the latency
protocol), ``profiling`` (time per component), ``plotting`` (one look, saved with its numbers),
``env`` (seeding, run info, atomic writes), ``paper`` (the paper's printed numbers), ``report``
(REPORT.md from the notebooks' findings) and ``notebooks`` (the headless runner).
"""

__version__ = "0.1.0"
