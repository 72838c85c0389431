import json
import os

import pytest
import torch

from nashlib import env, profiles


def test_seed_everything_repeats_draws():
    env.seed_everything(3)
    a = torch.rand(3)
    env.seed_everything(3)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(TypeError, match="seed='3'"):
        env.seed_everything("3")


def test_run_info_has_what_a_reader_needs():
    info = env.run_info(profile="smoke")
    for key in ("git_commit", "packages", "cpu", "torch_threads", "time_utc", "allocator_env"):
        assert key in info
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


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_gpu_profile_fails_clearly_without_gpu():
    with pytest.raises(RuntimeError, match="profile 'paper' runs on a CUDA GPU"):
        env.start("paper", seed=0, out_dir="x")


def test_start_sets_threads_and_applies_overrides():
    p, run = env.start("smoke", seed=1, out_dir="x", overrides={"repeats": 4})
    assert p == profiles.get("smoke", repeats=4)
    assert run["threads"] == torch.get_num_threads() == 2


@pytest.mark.parametrize("kwargs,match", [
    (dict(seed="1", out_dir="x"), "SEED='1' has type str; expected int"),
    (dict(seed=1, out_dir=3), "OUT_DIR=3 has type int; expected str"),
    (dict(seed=1, out_dir="x", overrides="repeats=3"), "OVERRIDES='repeats=3' has type str; expected dict"),
    (dict(seed=1, out_dir="x", overrides={"repeats": "3"}), "repeats='3' has type str; expected int"),
])
def test_start_rejects_wrongly_typed_parameters(kwargs, match):
    with pytest.raises(TypeError, match=match):
        env.start("smoke", **kwargs)
