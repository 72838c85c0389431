"""What the masks cost in training: one optimizer step with and without L0 masks (run by hand).

    python benchmarks/masked_step_overhead.py [--shape t5-small] [--batch 8] [--src 128] [--tgt 32]

Times a full training step (forward, backward, AdamW) of the same model, interleaved in one process
(nashlib.speed.timing): dense, with NASH's masks (encoder heads + FFN units) and with CoFi-T5's masks (every
type on encoder and decoder). The target: masks add at most 15 % to a step.
"""

import argparse

import torch

from nashlib import env
from nashlib import shapes
from nashlib.speed import timing
from nashlib.pruning.masks import PruningMasks


def step_call(model, masks, batch):
    params = list(model.parameters()) + (list(masks.parameters()) if masks is not None else [])
    opt = torch.optim.AdamW(params, lr=1e-5)

    def call():
        if masks is not None:
            masks.attach()
        loss = model(**batch).loss
        if masks is not None:
            loss = loss + masks.expected_sparsity("encoder")
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if masks is not None:
            masks.detach()
    return call


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="t5-small")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--src", type=int, default=128)
    ap.add_argument("--tgt", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    env.seed_everything(0)
    threads = env.set_threads(2)
    model = shapes.build_t5(args.shape).train()
    g = torch.Generator().manual_seed(0)
    batch = dict(input_ids=torch.randint(2, 32000, (args.batch, args.src), generator=g),
                 labels=torch.randint(2, 32000, (args.batch, args.tgt), generator=g))
    nash = PruningMasks(model, types=("heads", "ffn_units"), parts=("encoder",)).train()
    cofi = PruningMasks(model, types=("heads", "ffn_units", "mha_layer", "ffn_layer", "hidden"),
                        parts=("encoder", "decoder")).train()
    calls = {"dense": step_call(model, None, batch), "NASH masks": step_call(model, nash, batch),
             "CoFi masks": step_call(model, cofi, batch)}
    samples = timing.measure(calls, warmup=1, repeats=args.repeats)
    summary = timing.summarize(samples).merge(timing.speedups(samples, "dense"), on="config")
    summary["overhead_%"] = 100 * (1 / summary.speedup - 1)
    print(f"{args.shape}, batch {args.batch}, source {args.src}, target {args.tgt}, {threads} threads, "
          f"{args.repeats} interleaved repeats")
    print(summary[["config", "wall_median_s", "spread", "overhead_%"]].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
