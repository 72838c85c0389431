"""Stock against fast generation timed in a fresh process: glibc reads the allocator settings at start-up.

``time_in_subprocess`` starts ``python -m nashlib.speed.bench`` with or without ``env.ALLOCATOR_SETTINGS``
and returns the child's JSON: what its allocator read, and the samples of ``timing.measure``. It lives
apart from ``fastgen`` (the cache) and ``timing`` (the protocol), which it uses, so neither imports the other.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

import pandas as pd
import torch

__all__ = ["time_in_subprocess", "allocator_comparison", "allocator_ratios", "main"]


def _bench(args) -> dict:
    from nashlib import env
    from nashlib import shapes as models
    from nashlib.speed import timing

    env.seed_everything(args.seed)
    threads = env.set_threads(args.threads)
    model = models.build_t5(args.shape, decoder_layers=args.decoder_layers, seed=args.seed)
    inputs = timing.random_inputs(model.config.vocab_size, args.batch, args.src_len, seed=args.seed)
    stock = timing.generation_call(model, inputs, new_tokens=args.new_tokens, beams=args.beams)
    fast = timing.generation_call(model, inputs, new_tokens=args.new_tokens, beams=args.beams, fast=True)
    if not torch.equal(stock(), fast()):
        raise RuntimeError(f"fast generation gave other tokens than stock generation ({args.shape})")
    samples = timing.measure({"stock": stock, "fast": fast}, warmup=args.warmup, repeats=args.repeats)
    return {"allocator": env.allocator_settings(), "threads": threads, "samples": samples.to_dict("records")}


def time_in_subprocess(*, allocator: bool, shape: str, batch: int, src_len: int, new_tokens: int, beams: int,
                       warmup: int, repeats: int, threads: int, seed: int = 0, decoder_layers: int | None = None,
                       timeout_s: float = 1800) -> dict:
    """Time stock and fast generation of ``shape`` in a fresh Python process; return its JSON result.

    With ``allocator=True`` the child starts with ``env.ALLOCATOR_SETTINGS`` (Linux), otherwise with
    every allocator variable removed. The result holds ``allocator`` (what the child's glibc read)
    and ``samples`` (rows of ``timing.measure``).
    """
    from nashlib import env

    child_env = {k: v for k, v in os.environ.items() if k not in env.ALLOCATOR_VARS}
    if allocator:
        child_env = env.allocator_env(child_env)
    cmd = [sys.executable, "-m", "nashlib.speed.bench", "--shape", shape, "--batch", str(batch), "--src-len", str(src_len),
           "--new-tokens", str(new_tokens), "--beams", str(beams), "--warmup", str(warmup), "--repeats", str(repeats),
           "--threads", str(threads), "--seed", str(seed)]
    if decoder_layers is not None:
        cmd += ["--decoder-layers", str(decoder_layers)]
    done = subprocess.run(cmd, env=child_env, capture_output=True, text=True, timeout=timeout_s, cwd=env.REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def allocator_comparison(**kwargs) -> pd.DataFrame:
    """Stock and fast generation timed in two fresh processes, glibc defaults and ``env.ALLOCATOR_SETTINGS``.

    ``kwargs`` go to :func:`time_in_subprocess` (all but ``allocator``). One row per process x path:
    ``allocator`` ("glibc defaults" | "settings"), ``path``, median wall and CPU seconds, and whether
    the child's glibc read the settings. Raises if the defaults' child saw an allocator variable, or
    (on Linux) the settings' child did not read the settings.
    """
    rows = []
    for on in (False, True):
        res = time_in_subprocess(allocator=on, **kwargs)
        seen = res["allocator"]
        if (not on and seen["values"]) or (on and platform.system() == "Linux" and not seen["active"]):
            raise RuntimeError(f"the child started with allocator={on} read {seen}")
        for path, grp in pd.DataFrame(res["samples"]).groupby("config"):
            rows.append(dict(allocator="settings" if on else "glibc defaults", path=path,
                             wall_median_s=grp.wall_s.median(), cpu_median_s=grp.cpu_s.median(),
                             allocator_active=seen["active"]))
    return pd.DataFrame(rows)


def allocator_ratios(alloc: pd.DataFrame) -> dict[str, float]:
    """Speedups against stock generation under glibc's defaults, from :func:`allocator_comparison`'s table."""
    t = alloc.set_index(["allocator", "path"]).wall_median_s
    return {
        "cache change alone": t[("glibc defaults", "stock")] / t[("glibc defaults", "fast")],
        "allocator settings alone": t[("glibc defaults", "stock")] / t[("settings", "stock")],
        "both": t[("glibc defaults", "stock")] / t[("settings", "fast")],
        "cache change with the settings": t[("settings", "stock")] / t[("settings", "fast")],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nashlib.speed.bench",
                                description="time stock against fast generation; print one JSON line")
    p.add_argument("--shape", default="t5-base")
    p.add_argument("--decoder-layers", type=int, default=None)
    for name, default in (("batch", 4), ("src-len", 256), ("new-tokens", 32), ("beams", 4), ("warmup", 1),
                          ("repeats", 3), ("threads", 2), ("seed", 0)):
        p.add_argument(f"--{name}", type=int, default=default)
    print(json.dumps(_bench(p.parse_args(argv)), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
