"""The method: hard-concrete gates (``hardconcrete``), masks as hooks on stock modules (``masks``), sparsity
constraints with their Lagrangians (``constraints``), decoder layer selection (``layers``), distillation
losses (``distill``), NASH / CoFi-T5 pruning runs (``prune``) and exact compaction into loadable models
(``compact``)."""
