"""Data: every paper task in text-to-text form (``tasks``), its offline metric (``metrics``), and the
from-scratch vocabularies of the cpu teachers (``tokenizer``, trained deterministically)."""
