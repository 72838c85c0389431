"""Experiments: cached teachers per task (``teachers``), the trivial baselines they must beat and the
usable-teacher rule (``baselines``), the models the notebooks compare, by the paper's names (``lineup``),
the pruned students (``students``: teacher -> NASH or CoFi-T5 -> compacted, saved, reloaded -> scored),
generating, scoring and timing trained models (``generation``) and the typed records they store (``records``)."""
