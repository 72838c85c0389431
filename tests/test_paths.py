"""speed.paths: stock, fast, grouped and CTranslate2 decoding of the same models, side by side."""

import pytest

from nashlib import shapes
from nashlib.speed import paths, timing


def _family():
    full = shapes.build_t5("tiny", seed=0)
    narrow = shapes.build_t5("tiny", encoder_heads=2, seed=1)
    return {"T": full, "NASH-2": shapes.share_view(full, decoder_layers=2, encoder_from=narrow),
            "T dec 2": shapes.share_view(full, decoder_layers=2)}


def test_every_path_is_timed_with_its_agreement_and_ctranslate2_only_where_it_fits():
    models = _family()
    inputs = timing.random_inputs(models["T"].config.vocab_size, 2, 12, seed=0)
    pc = paths.path_calls(models, inputs, new_tokens=5, beams=3, threads=1)
    assert set(pc.skipped) == {"NASH-2 / ctranslate2"} and "encoder's heads" in pc.skipped["NASH-2 / ctranslate2"]
    assert len(pc.calls) == 3 * 4 - 1
    agree = paths.agreement(pc)
    assert all(agree[f"{m} / {p}"] == 1.0 for m in models for p in ("stock", "fast", "grouped"))
    assert 0.0 <= agree["T / ctranslate2"] <= 1.0
    samples = timing.measure(pc.calls, warmup=0, repeats=2)
    table = paths.compare(samples, pc, agree, teacher="T")
    assert len(table) == len(pc.calls) and set(table.path) == set(paths.PATHS)
    stock = table[table.path == "stock"].set_index("model")
    assert (stock.x_own_stock == 1.0).all() and stock.x_teacher_stock["T"] == 1.0


def test_paths_are_checked():
    models = {"T": shapes.build_t5("tiny", seed=0)}
    inputs = timing.random_inputs(models["T"].config.vocab_size, 1, 4)
    for bad in (("fast",), ("stock", "sampled")):
        with pytest.raises(ValueError, match="allowed: 'stock' and any of fast, grouped, ctranslate2"):
            paths.path_calls(models, inputs, new_tokens=2, beams=2, threads=1, paths=bad)
