import pytest
import torch

from nashlib import shapes as models
from nashlib.pruning.layers import keep_decoder_layers, select_layers


def test_uniform_as_in_the_official_code():
    assert [select_layers(12, d) for d in (2, 3, 4)] == [[0, 11], [0, 5, 11], [0, 3, 7, 11]]


def test_uniform_as_printed_in_the_paper():
    assert [select_layers(12, d, "uniform-paper") for d in (2, 3, 4)] == [[0, 11], [0, 5, 10], [0, 3, 6, 9]]


def test_low_high_and_one_layer():
    assert select_layers(12, 3, "low") == [0, 1, 2]
    assert select_layers(12, 3, "high") == [9, 10, 11]
    assert select_layers(12, 1) == select_layers(12, 1, "uniform-paper") == [0]
    assert select_layers(12, 1, "high") == [11]
    assert select_layers(12, 12) == list(range(12))


@pytest.mark.parametrize("args,match", [((12, 0), "keep=0 decoder layers of 12; allowed: 1 to 12"),
                                        ((12, 13), "keep=13"),
                                        ((12, 3, "random"), "unknown selection strategy 'random'"),
                                        ((12, 3, "l0"), "'l0' is learned")])
def test_bad_selection(args, match):
    with pytest.raises(ValueError, match=match):
        select_layers(*args)


def test_kept_layers_are_copies_renumbered_and_generate():
    teacher = models.build_t5("tiny", seed=0)
    student = keep_decoder_layers(teacher, [1, 3])
    assert len(student.decoder.block) == 2 and len(teacher.decoder.block) == 4
    assert [b.layer[0].SelfAttention.layer_idx for b in student.decoder.block] == [0, 1]
    assert torch.equal(student.decoder.block[1].layer[2].DenseReluDense.wo.weight,
                       teacher.decoder.block[3].layer[2].DenseReluDense.wo.weight)
    assert student.decoder.block[1].layer[2].DenseReluDense.wo.weight.data_ptr() != \
        teacher.decoder.block[3].layer[2].DenseReluDense.wo.weight.data_ptr()
    ids = torch.randint(2, 500, (2, 6))
    cached = student.generate(input_ids=ids, num_beams=2, max_new_tokens=5, min_new_tokens=5)
    uncached = student.generate(input_ids=ids, num_beams=2, max_new_tokens=5, min_new_tokens=5, use_cache=False)
    assert torch.equal(cached, uncached)


def test_high_selection_keeps_the_position_bias():
    teacher = models.build_t5("tiny", seed=0)
    student = keep_decoder_layers(teacher, select_layers(4, 2, "high"))
    first = student.decoder.block[0].layer[0].SelfAttention
    assert first.has_relative_attention_bias
    assert torch.equal(first.relative_attention_bias.weight,
                       teacher.decoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight)
    # the bias is used: zeroing the carried table changes the decoder's output
    enc, dec = torch.randint(2, 500, (1, 5)), torch.randint(2, 500, (1, 6))
    with torch.no_grad():
        with_bias = student(input_ids=enc, decoder_input_ids=dec).logits
        first.relative_attention_bias.weight.zero_()
        without = student(input_ids=enc, decoder_input_ids=dec).logits
    assert (with_bias - without).abs().max() > 1e-3


def test_bad_indices():
    teacher = models.build_t5("tiny", seed=0)
    for idx in ([], [2, 1], [0, 4], [1, 1]):
        with pytest.raises(ValueError, match="allowed: increasing, distinct decoder layer indices from 0 to 3"):
            keep_decoder_layers(teacher, idx)


def test_high_selection_with_zero_position_bias_as_the_released_code():
    teacher = models.build_t5("tiny", seed=0)
    moved = keep_decoder_layers(teacher, [2, 3])
    zero = keep_decoder_layers(teacher, [2, 3], position_bias="zero")
    first = zero.decoder.block[0].layer[0].SelfAttention
    table = first.relative_attention_bias.weight
    assert torch.equal(table, torch.zeros_like(table)) and not table.requires_grad  # no position bias, frozen
    assert float(first.compute_bias(5, 5).abs().max()) == 0.0
    assert all(not b.layer[0].SelfAttention.has_relative_attention_bias for b in zero.decoder.block[1:])
    enc, dec = torch.randint(2, 500, (1, 5)), torch.randint(2, 500, (1, 6))
    with torch.no_grad():
        a = moved(input_ids=enc, decoder_input_ids=dec).logits
        b = zero(input_ids=enc, decoder_input_ids=dec).logits
    assert (a - b).abs().max() > 1e-3
    kept_zero = keep_decoder_layers(teacher, [0, 3], position_bias="zero")  # layer 0 kept: its own table
    assert torch.equal(kept_zero.decoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight,
                       teacher.decoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight)
    with pytest.raises(ValueError, match="position_bias='none'; allowed: 'move', 'zero'"):
        keep_decoder_layers(teacher, [2, 3], position_bias="none")
