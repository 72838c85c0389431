"""Run by tests/test_multiprocess.py in one process (``python``) or several (``torchrun``): prune a tiny T5
(NASH, with the paper's distillation), fine-tune the compacted student with distillation, and have the main
process save what was trained into ``OUT/trained-<processes>.pt``. Dropout is off: only then do N processes
draw the same mask noise as one (``nashlib.training.loop``)."""

import sys
from pathlib import Path

import torch

from nashlib import shapes
from nashlib.pruning.prune import PruneConfig, prune
from nashlib.training.finetune import FinetuneConfig, finetune
from nashlib.training.loop import process_root, process_state


def uneven_batches(n=6, batch=4, src=12, tgt=6):
    """Random tokens with a different amount of padding in every row (sources and targets), so that the
    processes' halves of a batch hold different numbers of tokens: the token-weighted means are tested."""
    g = torch.Generator().manual_seed(0)
    data = []
    for _ in range(n):
        x = torch.randint(2, 500, (batch, src), generator=g)
        y = torch.randint(2, 500, (batch, tgt), generator=g)
        src_len = torch.randint(2, src + 1, (batch,), generator=g)
        tgt_len = torch.randint(1, tgt + 1, (batch,), generator=g)
        keep_x = torch.arange(src)[None, :] < src_len[:, None]  # (B, T_src)
        x[~keep_x] = 0
        y[~(torch.arange(tgt)[None, :] < tgt_len[:, None])] = -100
        data.append(dict(input_ids=x, attention_mask=keep_x.long(), labels=y))
    return lambda step: data[step % n]


def no_dropout(model):
    """Dropout off everywhere: the modules, T5's attention (a float it passes to ``F.dropout``) and the config
    (so the compacted student, built from it, has none either)."""
    model.config.dropout_rate = 0.0
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        elif isinstance(getattr(m, "dropout", None), float):
            m.dropout = 0.0
    return model


def main(out: Path) -> None:
    teacher = no_dropout(shapes.build_t5("tiny", seed=0)).eval()
    batch = uneven_batches()
    cfg = PruneConfig(method="nash", target_sparsity=0.3, decoder_layers=2, steps=6, warmup_steps=3, lr=1e-3,
                      mask_lr=0.1, reg_lr=0.1, checkpoint_every=0)
    result = prune(teacher, batch, cfg, process_root(out / "runs"), progress=False)
    model = no_dropout(result.model)
    ft = FinetuneConfig(steps=4, lr=1e-3, distill_weight=1.0, checkpoint_every=0, max_grad_norm=1.0)
    finetune(model, batch, ft, process_root(out / "runs"), teacher=teacher, progress=False)
    state = process_state()
    if state.is_main_process:
        torch.save({"masks": result.masks.state_dict(), "student": result.student.state_dict(),
                    "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "history": result.history}, out / f"trained-{state.num_processes}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
