"""Does the compacted model decode as fast as a dense model of the same shape? (run by hand)

    python benchmarks/compact_latency.py [--shape t5-small] [--heads 6] [--d-ff 1434]

Masks keep ``--heads`` heads and ``--d-ff`` FFN units in every encoder layer, but *different* ones in
each layer, so the compacted model must slice T5's position bias per layer (NashT5Attention). A stock
T5 built directly with that width has the same shape and no slicing. Both generate the same number of
tokens with beam 4, interleaved in one process. The target: within 3 %.
"""

import argparse

import torch

from nashlib import env
from nashlib import shapes
from nashlib.speed import timing
from nashlib.pruning.compact import compact
from nashlib.pruning.masks import PruningMasks


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="t5-small")
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--d-ff", type=int, default=1434)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--src", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    env.seed_everything(0)
    threads = env.set_threads(2)
    s = shapes.shape(args.shape)
    model = shapes.build_t5(args.shape)
    masks = PruningMasks(model, types=("heads", "ffn_units"), parts=("encoder",))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # keep a different random subset of the same size in every layer
        for key, keep in (("encoder_self_heads", args.heads), ("encoder_ffn_ffn_units", args.d_ff)):
            la = masks.masks[key].log_alpha.view(s.num_layers, -1)
            la.fill_(-100.0)
            for layer in range(s.num_layers):
                la[layer, torch.randperm(la.shape[1], generator=g)[:keep]] = 100.0
    small = compact(model, masks.eval())
    rows = small.config.nash_layout["encoder"]
    assert all(len(r["self"]) == args.heads and r["d_ff"] == args.d_ff for r in rows), rows
    assert len({tuple(r["self"]) for r in rows}) > 1, "every layer kept the same heads; nothing to slice"
    dense = shapes.build_t5(args.shape, encoder_heads=args.heads, encoder_d_ff=args.d_ff)
    # the same but for layer 0's position-bias table, which the compacted model keeps for all heads
    extra = (s.num_heads - args.heads) * model.config.relative_attention_num_buckets
    assert shapes.count_parameters(small) - shapes.count_parameters(dense) == extra
    inputs = timing.random_inputs(s.vocab_size, args.batch, args.src)
    calls = {"dense, same shape": timing.generation_call(dense, inputs, new_tokens=args.new_tokens, beams=4),
             "compacted (NashT5)": timing.generation_call(small, inputs, new_tokens=args.new_tokens, beams=4)}
    samples = timing.measure(calls, warmup=1, repeats=args.repeats)
    summary = timing.summarize(samples).merge(timing.speedups(samples, "dense, same shape"), on="config")
    summary["slower_%"] = 100 * (1 / summary.speedup - 1)  # paired within rounds
    summary["slower_of_medians_%"] = 100 * (1 / summary.speedup_of_medians - 1)
    print(f"{args.shape}, encoder {args.heads} heads / d_ff {args.d_ff} per layer, batch {args.batch}, "
          f"source {args.src}, {args.new_tokens} new tokens, beam 4, {threads} threads, {args.repeats} repeats")
    print(summary[["config", "wall_median_s", "spread", "slower_%", "slower_of_medians_%"]].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
