"""Data-parallel training (``nashlib.training.loop``): two processes train what one does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nashlib.training.loop import Loop, check_mixed_precision

HERE = Path(__file__).parent


def _run(cmd: list[str], out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd + [str(HERE / "_multiprocess_worker.py"), str(out)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_two_processes_prune_and_finetune_what_one_does(tmp_path):
    """Same masks, masked student, and fine-tuned compact model (fp32 tolerance) from 2 gloo processes, each
    with half of every batch (uneven token counts), as from one process with the whole batch."""
    _run([sys.executable], tmp_path)
    # accelerate's own launcher; note: `accelerate launch --cpu --num_processes 2` starts ONE process (its simple
    # launcher); `--multi_gpu` starts them through torchrun, and on a machine without a GPU they train on the CPU
    _run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
          "--main_process_port", "29533"], tmp_path)
    one, two = (torch.load(tmp_path / f"trained-{n}.pt", weights_only=False) for n in (1, 2))
    assert (tmp_path / "runs" / "processes" / "1").is_dir()  # the second process kept its own run folders
    # float sums in another order, through Adam (which divides small gradients by their own size): after the
    # 6 pruning steps the largest difference is ~1e-5, after 4 more fine-tuning steps at lr 1e-3 ~3e-5
    for part, atol in (("masks", 2e-5), ("student", 2e-5), ("model", 1e-4)):
        assert one[part].keys() == two[part].keys()
        for name, a in one[part].items():
            torch.testing.assert_close(two[part][name], a, rtol=1e-4, atol=atol, msg=f"{part} {name}")
    assert one["masks"] and one["model"]  # the comparison saw tensors
    # the masks did move during the 6 steps (a run that trains nothing would also agree)
    first = one["history"][0]["expected_sparsity"]
    assert one["history"][-1]["expected_sparsity"] != first


def test_one_process_shares_are_exactly_one(tmp_path):
    loop = Loop(tmp_path / "run", steps=1, seed=0, progress=False)
    data = {"labels": torch.tensor([[1, -100], [2, 3]])}
    assert loop.processes == 1 and loop.share(data["labels"] != -100) == 1.0
    assert loop.shard(data) is data


@pytest.mark.parametrize("value, cuda, message", [
    ("fp32", False, "mixed_precision='fp32'; allowed: 'no', 'fp16', 'bf16'"),
    ("fp16", False, "mixed_precision='fp16' needs a CUDA GPU"),
])
def test_mixed_precision_is_refused_where_unsupported(value, cuda, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        check_mixed_precision(value, cuda=cuda)
    check_mixed_precision("bf16", cuda=False)  # CPU autocast
    check_mixed_precision("no", cuda=False)
