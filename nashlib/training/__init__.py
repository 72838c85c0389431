"""Training: the one optimisation loop (``loop``) that teachers, pruning and fine-tuning share, fine-tuning on
labelled batches (``finetune``), step-indexed batches (``batches``), and the run folders and cache keys
(``runs``) that make every run resumable and every finished run reusable."""
