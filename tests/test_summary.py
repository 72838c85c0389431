import dataclasses

import pytest

from nashlib import settings
from nashlib.experiments import lineup, summary
from nashlib.experiments import students as ex
from nashlib.experiments import teachers as teacher
from nashlib.settings import TeacherConfig

TINY = dict(d_model=32, d_kv=8, num_heads=4, d_ff=64, encoder_layers=2, decoder_layers=4, vocab_size=300,
            train_examples=64, eval_examples=8, max_source_len=24, max_target_len=6, batch=8, steps=4,
            warmup_steps=1, beams=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    t = teacher.get_teacher(TeacherConfig("sst2", **TINY), tmp_path_factory.mktemp("teachers"), progress=False)
    recipe = dataclasses.replace(settings.get("smoke").student, steps=4, warmup_steps=2, finetune_steps=1)
    s = ex.student(t, lineup.nash(2, recipe), recipe, tmp_path_factory.mktemp("runs"), progress=False)
    return t, s


def test_rows_carry_reached_sparsities_and_sizes(trained):
    t, s = trained
    assert summary.check_student(s, t, decoder_layers=2) is s
    row = summary.student_row("NASH-2", s, t)
    assert (row.model, row.task, row.decoder_layers, row.encoder_layers) == ("NASH-2", "sst2", 2, 2)
    assert row.target_sparsity == 0.3 and row.encoder_sparsity == s.report.encoder_actual  # reached, not the target
    assert row.quality == pytest.approx(100 * s.scores.main) and row.eval_rows == len(t.info.predictions)
    base = summary.dense_row("teacher", t.model, t.scores, t)
    assert base.model_sparsity == 0.0 and base.decoder_layers == base.decoder_layers_nonempty == 4
    assert base.params_M > row.params_M > 0 and base.params_total_M > base.params_M
    other = summary.dense_row("small dense", s.model, t.scores, t)  # a dense model that is not the teacher
    assert other.model_sparsity is None
    table = summary.frame([base, row, other])
    assert list(table.model) == ["teacher", "NASH-2", "small dense"] and table.model_sparsity.isna().tolist() == [
        False, False, True]


def test_check_student_names_what_is_wrong(trained):
    t, s = trained
    with pytest.raises(AssertionError, match="2 decoder layers, asked for 3"):
        summary.check_student(s, t, decoder_layers=3)
    fewer = dataclasses.replace(s.info, predictions=s.info.predictions[:-1])
    with pytest.raises(AssertionError, match="scored on other rows than its teacher"):
        summary.check_student(dataclasses.replace(s, info=fewer), t)
    bigger = dataclasses.replace(s.info, parameters=s.info.teacher_parameters + 1)
    with pytest.raises(AssertionError, match="more weights than its teacher"):
        summary.check_student(dataclasses.replace(s, info=bigger), t)
