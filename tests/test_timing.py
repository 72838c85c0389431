import pandas as pd
import pytest
import torch

from nashlib import shapes as models
from nashlib.speed import timing


def test_measure_interleaves_and_rotates():
    order = []
    calls = {n: (lambda n=n: order.append(n)) for n in "ABC"}
    df = timing.measure(calls, warmup=1, repeats=3)
    assert order[:3] == ["A", "B", "C"]  # warm-up
    assert order[3:] == ["A", "B", "C", "B", "C", "A", "C", "A", "B"]
    assert len(df) == 9 and set(df.columns) >= {"config", "repeat", "position", "wall_s", "cpu_s", "inner", "threads"}
    assert (df.groupby("config").position.nunique() == 3).all()


@pytest.mark.parametrize("kwargs,match", [(dict(warmup=0, repeats=0), "repeats=0"),
                                          (dict(warmup=-1, repeats=1), "warmup=-1"),
                                          (dict(warmup=0, repeats=1.5), "repeats=1.5")])
def test_measure_rejects_bad_counts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        timing.measure({"a": lambda: None}, **kwargs)


def test_measure_needs_a_call():
    with pytest.raises(ValueError, match="calls is empty"):
        timing.measure({}, warmup=0, repeats=1)


def test_speedups_are_paired_within_rounds():
    df = pd.DataFrame(dict(config=["base", "fast"] * 3, repeat=[0, 0, 1, 1, 2, 2],
                           wall_s=[2.0, 1.0, 4.0, 1.0, 3.0, 2.0]))
    s = timing.speedups(df, "base").set_index("config")
    assert s.loc["fast", "speedup"] == pytest.approx(2.0)  # median of 2, 4, 1.5
    assert (s.loc["fast", "speedup_min"], s.loc["fast", "speedup_max"]) == (1.5, 4.0)
    assert s.loc["fast", "speedup_of_medians"] == pytest.approx(3.0 / 1.0)
    assert s.loc["base", "speedup"] == 1.0
    with pytest.raises(ValueError, match="baseline 'teacher' was not timed"):
        timing.speedups(df, "teacher")


def test_summarize_median_and_spread():
    df = pd.DataFrame(dict(config=["a"] * 4, wall_s=[1.0, 2.0, 3.0, 4.0], cpu_s=[2.0] * 4))
    s = timing.summarize(df).iloc[0]
    assert s.wall_median_s == 2.5 and s.cpu_median_s == 2.0 and s.repeats == 4
    assert s.spread == pytest.approx((3.25 - 1.75) / 2.5)


def test_calibrate_reaches_min_sample_time(monkeypatch):
    """With a call of a known cost (a fake clock: timing is not tested against a busy machine's real one)."""
    per_call = 1e-5
    monkeypatch.setattr(timing, "time_call", lambda fn, inner=1, device="cpu": (per_call, per_call))
    inner = timing.calibrate(lambda: None, 0.01)
    assert per_call * inner >= 0.01 and per_call * inner < 0.05  # long enough, not needlessly long
    assert timing.calibrate(lambda: None, 1e-6) == 1  # a call already longer than the minimum: one per sample


def test_generation_is_forced_to_the_requested_length():
    m = models.build_t5("tiny", seed=0)
    m.generation_config.eos_token_id = 1
    inputs = timing.random_inputs(512, 3, 5, seed=0)
    assert inputs["input_ids"].min() >= 2
    for beams in (1, 3):
        out = timing.generation_call(m, inputs, new_tokens=6, beams=beams)()
        assert out.shape == (3, 7)
    with pytest.raises(ValueError, match="new_tokens=0"):
        timing.generation_call(m, inputs, new_tokens=0, beams=1)


def test_until_done_stops_when_every_sequence_has_ended_and_forced_does_not():
    m = models.build_t5("tiny", seed=0)
    m.generation_config.eos_token_id = 1
    with torch.no_grad():
        m.lm_head.weight[1] = m.lm_head.weight.abs().max() * 50  # end-of-sequence always wins
    inputs = timing.random_inputs(512, 3, 5, seed=0)
    for beams in (1, 4):
        assert timing.generation_call(m, inputs, new_tokens=6, beams=beams, until_done=True)().shape == (3, 2)
        assert timing.generation_call(m, inputs, new_tokens=6, beams=beams)().shape == (3, 7)


def test_encoder_call_runs_the_encoder_alone():
    m = models.build_t5("tiny", seed=0)
    inputs = timing.random_inputs(512, 2, 5, seed=0)
    out = timing.encoder_call(m, inputs)()
    assert out.shape == (2, 5, m.config.d_model)


@pytest.mark.parametrize("decoder", [False, True])
def test_layer_call_runs_one_layer(decoder):
    block = models.build_layer("tiny", num_heads=2, d_ff=16, decoder=decoder)
    call = timing.layer_call(block, batch=2, seq_len=3, memory_len=5)
    first, second = call()[0], call()[0]
    assert first.shape == (2, 3, 64)
    assert torch.equal(first, second)  # no state carried between calls (the self-attention cache is fresh)
