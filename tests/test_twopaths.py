"""speed.twopaths: each model's speedup against the teacher under stock generation and on the grouped path."""

import matplotlib.pyplot as plt
import pytest

from nashlib import shapes
from nashlib.speed import timing, twopaths


def _models():
    full = shapes.build_t5("tiny", seed=0)
    narrow = shapes.build_t5("tiny", encoder_heads=2, seed=1)
    return {"T": full, "NASH-2": shapes.share_view(full, decoder_layers=2, encoder_from=narrow)}


def test_both_paths_are_timed_against_the_teacher_on_the_same_path():
    models = _models()
    inputs = timing.random_inputs(models["T"].config.vocab_size, 2, 12, seed=0)
    table = twopaths.two_paths(models, inputs, teacher="T", new_tokens=4, beams=3, warmup=1, repeats=3)
    assert list(table.model) == ["T", "NASH-2"]
    t = table.set_index("model")
    assert t.x_stock["T"] == 1.0 and t.x_grouped["T"] == 1.0  # the teacher against itself, per round
    assert (t.same_tokens == 1.0).all() and (t.rounds == 3).all() and (t.new_tokens == 4).all()
    assert (t[["stock_s", "grouped_s", "x_stock", "x_grouped", "grouped_gain"]] > 0).all().all()
    fig, ax = plt.subplots()
    twopaths.markers(ax, table, title="t")
    assert len(ax.patches) == 2 * len(table)
    plt.close(fig)


def test_the_teacher_must_be_one_of_the_models():
    models = _models()
    inputs = timing.random_inputs(models["T"].config.vocab_size, 1, 4)
    with pytest.raises(ValueError, match=r"teacher='X'; allowed: one of \['T', 'NASH-2'\]"):
        twopaths.two_paths(models, inputs, teacher="X", new_tokens=2, beams=2, warmup=0, repeats=1)
