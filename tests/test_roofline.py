"""The roofline's counts (nashlib.speed.roofline): checked by hand on T5-base, and its measured phases add up."""

import pytest
import torch
from transformers import T5ForConditionalGeneration

from nashlib import shapes
from nashlib.shapes import t5_config
from nashlib.speed import roofline, timing


@pytest.fixture(scope="module")
def t5_base():
    with torch.device("meta"):  # shapes only: no memory, no init
        return T5ForConditionalGeneration(t5_config("t5-base"))


def test_t5_base_counts_by_hand(t5_base):
    enc, first, step = roofline.phases(t5_base, batch=8, src_len=512, beams=4, new_tokens=64)
    d, f, L, V = 768, 3072, 12, 32128
    w_layer_enc = 4 * d * d + 2 * d * f
    assert enc.flops == 2 * L * w_layer_enc * 8 * 512 + L * 4 * 8 * 12 * 64 * 512 ** 2
    kv = L * 2 * d  # cross keys + values per source token, all layers (12 heads x 64)
    w_step = L * (4 * d * d + 2 * d * d + 2 * d * f) + d * V  # self q,k,v,o; cross q,o; FFN; LM head
    rows = 8 * 4
    assert step.flops == pytest.approx(2 * w_step * rows + 2 * rows * (kv * 512 + kv * 32.5))
    assert step.bytes == pytest.approx(4 * (w_step + rows * kv * 512 + rows * kv * 32.5))
    assert first.flops == pytest.approx(step.flops + 2 * kv * d * rows * 512)
    shared = roofline.phases(t5_base, batch=8, src_len=512, beams=4, new_tokens=64, shared_cross=True)
    assert shared[2].bytes < step.bytes and shared[1].flops == pytest.approx(step.flops + 2 * kv * d * 8 * 512)


def test_estimate_takes_the_slower_of_compute_and_memory(t5_base):
    work = roofline.phases(t5_base, batch=8, src_len=512, beams=4, new_tokens=64)
    slow_memory = roofline.estimate(work, roofline.Machine(1e6, 1e6, 1.0, 32, 1), new_tokens=64)
    assert slow_memory["later step"] == pytest.approx(work[2].bytes / 1e9)
    slow_gemm = roofline.estimate(work, roofline.Machine(1.0, 1.0, 1e6, 32, 1), new_tokens=64)
    assert slow_gemm["encoder"] == pytest.approx(work[0].flops / 1e9)
    assert slow_gemm["total"] == pytest.approx(slow_gemm["encoder"] + slow_gemm["first step"]
                                               + 63 * slow_gemm["later step"])


def test_measured_phases_add_up_and_the_machine_is_measured():
    m = {"tiny": shapes.build_t5("tiny", seed=0)}
    inputs = timing.random_inputs(512, 2, 8, seed=0)
    got = roofline.measure_phases(m, inputs, beams=2, new_tokens=4, warmup=1, repeats=1).set_index("model")
    row = got.loc["tiny"]
    assert row.total == pytest.approx(row.encoder + row["first step"] + 3 * row["later step"])
    machine = roofline.measure_machine(64, 128, rows=4, repeats=1)
    assert machine.gemm_gflops > 0 and machine.gemm_rows_gflops > 0 and machine.copy_gbs > 0
    with pytest.raises(ValueError, match="new_tokens=1; allowed: an integer >= 2"):
        roofline.measure_phases(m, inputs, beams=2, new_tokens=1, warmup=0, repeats=1)
    grouped = roofline.measure_phases(m, inputs, beams=2, new_tokens=4, warmup=0, repeats=1, path="grouped")
    assert grouped.set_index("model").loc["tiny", "total"] > 0  # a fallback to the stock path would raise
    with pytest.raises(ValueError, match="path='ct2'; allowed: 'stock', 'fast', 'grouped'"):
        roofline.measure_phases(m, inputs, beams=2, new_tokens=4, warmup=0, repeats=1, path="ct2")


def test_op_shares_name_the_operators_and_the_rest():
    m = shapes.build_t5("tiny", seed=0)
    ops = roofline.op_shares(timing.generation_call(m, timing.random_inputs(512, 2, 8), new_tokens=3, beams=2), top=4)
    assert len(ops) == 5 and ops.op.iloc[-1].startswith("outside operators")
    assert (ops.self_s >= 0).all() and ops.attrs["allocations"] > 0 and ops.share_of_wall.sum() <= 1.0 + 1e-9
