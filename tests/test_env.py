import json
import os

import pytest
import torch

from nashlib import env


def test_seed_everything_repeats_draws():
    env.seed_everything(3)
    a = torch.rand(3)
    env.seed_everything(3)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(TypeError, match="seed='3'"):
        env.seed_everything("3")


def test_run_info_has_what_a_reader_needs():
    info = env.run_info(profile="smoke")
    for key in ("git_commit", "packages", "cpu", "torch_threads", "time_utc", "allocator_env", "kernel_env"):
        assert key in info
    assert info["cpu_capability"] == torch.backends.cpu.get_cpu_capability()  # e.g. "AVX2", "AVX512"
    assert info["packages"]["torch"] == torch.__version__.split("+")[0] or info["packages"]["torch"].startswith(
        torch.__version__.split("+")[0])
    json.dumps(info, default=str)


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "x.txt"
    env.atomic_write_text(target, "hello")
    assert target.read_text() == "hello"
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]
    umask = os.umask(0o022)
    try:
        env.atomic_write_text(target, "again")
    finally:
        os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o644  # readable by others, like any file written with open()
