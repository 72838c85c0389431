"""Results: verdicts from rules (``verdicts``), the paper's printed numbers (``paper``), one figure style
(``plotting``) and REPORT.md from every notebook's findings (``report``)."""
