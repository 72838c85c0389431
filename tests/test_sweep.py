"""speed.sweep: every model at every forced length and its encoder alone, in the same interleaved rounds."""

import numpy as np
import pytest

from nashlib import shapes
from nashlib.speed import sweep, timing


def test_a_sweep_gives_paired_speedups_and_splits_encoder_from_decoder():
    full = shapes.build_t5("tiny", seed=0)
    models = {"T": full, "T dec 1": shapes.share_view(full, decoder_layers=1)}
    inputs = timing.random_inputs(full.config.vocab_size, 2, 8, seed=0)
    got = sweep.length_sweep(models, inputs, [2, 6], baseline="T", beams=2, warmup=0, repeats=3, progress=False)
    assert len(got.data) == 4 and set(got.data.new_tokens) == {2, 6}
    assert np.allclose(got.data[got.data.model == "T"].speedup, 1.0)
    assert (got.data.decoder_median_s == got.data.wall_median_s - got.data.encoder_median_s).all()
    ratios = got.round_speedups("T dec 1", "T", 6)
    assert ratios.shape == (3,) and np.median(ratios) == pytest.approx(
        got.data.set_index(["model", "new_tokens"]).speedup[("T dec 1", 6)])
    with pytest.raises(ValueError, match="baseline='X'; allowed: one of the models \\(T, T dec 1\\)"):
        sweep.length_sweep(models, inputs, [2], baseline="X", beams=2, warmup=0, repeats=1)
