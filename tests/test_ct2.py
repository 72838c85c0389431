"""speed.ct2: our random-weight T5s converted to CTranslate2 decode the tokens transformers does (greedy)."""

import pytest
import torch

from _tiny import padded_inputs, tiny_nash
from nashlib import shapes
from nashlib.speed import ct2


@pytest.mark.parametrize("name", ["tiny", "tiny-gated"])  # T5 v1.0 (tied, scaled head) and v1.1 (gated, untied)
def test_converted_model_decodes_the_transformers_tokens(name, tmp_path):
    model = shapes.build_t5(name, seed=0)
    inputs = padded_inputs(model)  # padding dropped per example before CTranslate2 sees it
    tr = ct2.translator(model, threads=1, folder=tmp_path / "ct2")
    assert (tmp_path / "ct2" / "model.bin").exists()
    with torch.inference_mode():
        ours = model.generate(**inputs, num_beams=1, do_sample=False, min_new_tokens=6, max_new_tokens=6)[:, 1:]
    theirs = ct2.generate(tr, inputs["input_ids"], inputs["attention_mask"], num_beams=1, max_new_tokens=6,
                          min_new_tokens=6)
    assert torch.equal(ours, theirs)
    beam = ct2.generate(tr, inputs["input_ids"], inputs["attention_mask"], num_beams=4, max_new_tokens=6,
                        min_new_tokens=6)
    assert beam.shape == (3, 6) and int(beam.max()) < model.config.vocab_size


def test_what_ctranslate2_cannot_represent_is_said_and_refused(tmp_path):
    nash = tiny_nash()  # uneven heads per layer, a decoder layer with no cross-attention heads
    assert "one of each per stack" in ct2.unsupported(nash)
    with pytest.raises(ValueError, match="CTranslate2 cannot represent this model"):
        ct2.convert(nash, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert ct2.unsupported(shapes.build_t5("tiny", decoder_layers=3)) is None  # a shallower dense decoder fits
    narrow = shapes.build_t5("tiny", encoder_heads=2)
    assert "encoder's heads" in ct2.unsupported(narrow)
