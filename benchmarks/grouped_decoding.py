"""Stock, fast (no cross-cache copies), grouped (cross keys once per example) and CTranslate2 decoding (run by hand)

    python benchmarks/grouped_decoding.py [--shape t5-base] [--decoder-layers 12] [--batch 8] [--src 512]
                                          [--new-tokens 64] [--beams 4] [--rounds 3]

One random-weight T5, forced to ``--new-tokens`` tokens, timed under the notebooks' protocol (nashlib.speed.timing:
one warm-up, interleaved rounds, medians) in one process: transformers' ``generate`` (stock), ``speed.fastgen``
(fast), ``speed.grouped`` (grouped) and the same weights converted to CTranslate2 float32 (``speed.ct2``). Prints
median seconds, each against stock, and token agreement with stock (fast and grouped must be identical; CTranslate2's
beam search is another implementation, so its agreement is reported, not required).
"""

import argparse

import torch

from nashlib import env, shapes
from nashlib.speed import ct2, grouped, timing
from nashlib.speed.fastgen import generate_fast


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="t5-base")
    ap.add_argument("--decoder-layers", type=int, default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--src", type=int, default=512)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--beams", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    env.seed_everything(0)
    threads = env.set_threads(args.threads)
    model = shapes.build_t5(args.shape, decoder_layers=args.decoder_layers)
    inputs = timing.random_inputs(model.config.vocab_size, args.batch, args.src)  # (B, T_src)
    kw = dict(num_beams=args.beams, do_sample=False, min_new_tokens=args.new_tokens, max_new_tokens=args.new_tokens)
    tr = ct2.translator(model, threads=threads)

    def run(how):
        with torch.inference_mode():
            if how == "stock":
                return model.generate(**inputs, **kw)[:, 1:]
            if how == "fast":
                return generate_fast(model, **inputs, **kw)[:, 1:]
            if how == "grouped":
                return grouped.generate_grouped(model, **inputs, **kw)[:, 1:]
            return ct2.generate(tr, inputs["input_ids"], inputs["attention_mask"], num_beams=args.beams,
                                max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens)

    hows = ["stock", "fast", "grouped", "ctranslate2"]
    tokens = {h: run(h) for h in hows}
    samples = timing.measure({h: (lambda h=h: run(h)) for h in hows}, warmup=0, repeats=args.rounds)
    summary = timing.summarize(samples).merge(timing.speedups(samples, "stock"), on="config")
    summary["same_tokens"] = [float((tokens[h] == tokens["stock"]).float().mean()) if tokens[h].shape ==
                              tokens["stock"].shape else float("nan") for h in summary.config]
    print(f"{args.shape}, {model.config.num_decoder_layers} decoder layers, batch {args.batch}, source {args.src}, "
          f"{args.new_tokens} new tokens, beam {args.beams}, {threads} threads, {args.rounds} interleaved rounds "
          f"(the token pass above was the warm-up)")
    print(summary[["config", "wall_median_s", "spread", "speedup", "same_tokens"]].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
