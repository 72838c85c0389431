"""Data: every paper task in text-to-text form (``tasks``) and its offline metric (``metrics``)."""
