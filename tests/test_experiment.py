import dataclasses
import json

import numpy as np
import pytest
import torch
from transformers import AutoModelForSeq2SeqLM

from nashlib import settings
from nashlib.experiments import baselines, generation, lineup
from nashlib.experiments import students as ex
from nashlib.experiments import teachers as teacher
from nashlib.experiments.students import StudentInfo
from nashlib.pruning import layers as select
from nashlib.pruning.distill import BlockOutputs, distillation_loss
from nashlib.pruning.prune import PruneConfig, mask_types
from nashlib.pruning.structure import structure
from nashlib.settings import TeacherConfig
from nashlib.shapes import build_t5

TINY = dict(d_model=32, d_kv=8, num_heads=4, d_ff=64, encoder_layers=2, decoder_layers=4, vocab_size=300,
            train_examples=64, eval_examples=8, max_source_len=24, max_target_len=6, batch=8, steps=6,
            warmup_steps=2, beams=2)


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory):
    return teacher.get_teacher(TeacherConfig("sst2_content", **TINY), tmp_path_factory.mktemp("teachers"),
                               progress=False)


def recipe(**changes):
    return dataclasses.replace(settings.get("smoke").student, **changes)


def test_student_key_is_what_makes_the_student():
    t = teacher.Teacher(TeacherConfig("sst2", **TINY), None, None, None, None)
    folder = lambda r, **kw: ex.student_run(t, lineup.nash(2, r, **kw), r, "/runs").folder  # noqa: E731
    assert folder(recipe()) == folder(recipe(seeds=(5,), high_sparsity=0.5, timing_batch=9))  # not in the student
    assert len({folder(recipe()), folder(recipe(steps=7)), folder(recipe(finetune_lr=0.5)), folder(recipe(batch=4)),
                folder(recipe(), seed=1)}) == 5
    with pytest.raises(ValueError, match="steps=0"):
        recipe(steps=0)


def test_student_is_compacted_saved_reloaded_and_cached(tiny_teacher, tmp_path):
    cfg = lineup.nash(2, recipe())
    assert ex.student(tiny_teacher, cfg, recipe(), tmp_path, progress=False, stop_after=2) is None  # interrupted
    assert not ex.student_run(tiny_teacher, cfg, recipe(), tmp_path).finished
    s = ex.student(tiny_teacher, cfg, recipe(), tmp_path, progress=False)  # resumes
    assert s.model.config.model_type == "nash_t5" and s.model.config.num_decoder_layers == 2
    assert s.report.decoder_map == [0, 3] and 0 <= s.scores.main <= 1
    assert [r.step for r in s.info.prune_curve] == list(range(1, 7))
    assert [r.step for r in s.info.finetune_curve] == [1, 2]
    assert s.info.parameters < s.info.teacher_parameters
    reloaded = AutoModelForSeq2SeqLM.from_pretrained(s.folder / "model")
    assert all(torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), s.model.state_dict().values()))
    assert not list(s.folder.glob("checkpoint*"))
    again = ex.student(tiny_teacher, cfg, recipe(), tmp_path, progress=False)
    assert again.info == s.info and again.folder == s.folder
    assert StudentInfo.from_json(json.loads((s.folder / "info.json").read_text())) == s.info


def test_structure_lists_what_survived(tiny_teacher, tmp_path):
    s = ex.student(tiny_teacher, lineup.cofi(0.5, recipe()), recipe(), tmp_path, progress=False)
    table = structure(s.model)
    assert set(table.block) == {"self", "cross", "ffn"} and set(table.part) == {"encoder", "decoder"}
    assert (table.kept <= table.full).all() and (table[table.block == "ffn"].full == 64).all()
    assert len(table[(table.part == "decoder") & (table.block == "cross")]) == 4
    nash2 = structure(ex.student(tiny_teacher, lineup.nash(2, recipe()), recipe(), tmp_path, progress=False).model)
    assert sorted(set(nash2[nash2.part == "decoder"].layer)) == [0, 3]  # teacher layer indices
    with pytest.raises(ValueError, match="no nash_layout"):
        structure(tiny_teacher.model)


def test_layer_selection_only_and_uniform_encoder_layers(tiny_teacher, tmp_path):
    cfg = lineup.nash(2, recipe(), sparsity=0.0, encoder_layers=1)
    assert mask_types(cfg) == () and mask_types(lineup.nash(2, recipe())) == ("heads", "ffn_units")
    s = ex.student(tiny_teacher, cfg, recipe(), tmp_path, progress=False)
    assert s.model.config.num_layers == 1 and s.report.encoder_map == [0]
    assert s.report.encoder_actual == pytest.approx(0.5) and s.report.decoder_actual == pytest.approx(0.5)
    with pytest.raises(ValueError, match="encoder_layers=0"):
        PruneConfig(encoder_layers=0)
    with pytest.raises(ValueError, match="encoder_layers=1; allowed: None with method='cofi'"):
        PruneConfig(method="cofi", encoder_layers=1)


def test_encoder_map_matches_student_layers_to_teacher_layers():
    t = build_t5("tiny", seed=0).eval()
    s = select.keep_encoder_layers(t, [0, 3])
    assert len(s.encoder.block) == 2 and s.encoder.block[0].layer[0].SelfAttention.has_relative_attention_bias
    x = {"input_ids": torch.randint(2, 500, (2, 7)), "labels": torch.randint(2, 500, (2, 3))}
    with torch.no_grad(), BlockOutputs(t) as tb, BlockOutputs(s) as sb:
        tl, sl = t(**x).logits, s(**x).logits
    terms = distillation_loss(sl, tl, sb, tb, decoder_map=[0, 1, 2, 3], encoder_map=[0, 3])
    # the student's first layer is the teacher's first layer, on the same input: no error there
    assert torch.allclose(sb.outputs["encoder"][0], tb.outputs["encoder"][0], atol=1e-6)
    assert terms["hidden_enc"] > 0
    with pytest.raises(ValueError, match="encoder_map"):
        distillation_loss(sl, tl, sb, tb, decoder_map=[0, 1, 2, 3])


def test_cofi_target_is_nash3_budget_and_small_model_proportions(tiny_teacher):
    full_enc, full_dec = 2 * (4 * 4 * 8 * 32 + 2 * 64 * 32), 4 * (2 * 4 * 4 * 8 * 32 + 2 * 64 * 32)
    kept = 0.7 * full_enc + 3 / 4 * full_dec
    assert lineup.model_sparsity_of_nash(tiny_teacher.model, 3, 0.3) == pytest.approx(
        1 - kept / (full_enc + full_dec), abs=1e-4)
    line = lineup.nash_lineup(recipe(), seed=3)
    assert list(line) == ["NASH-2", "NASH-3", "NASH-4"] and {c.seed for c in line.values()} == {3}
    assert all(c.target_sparsity == 0.3 and c.select == recipe().select for c in line.values())
    cofi = lineup.cofi_matched(0.612345678, recipe(), seed=3)  # NASH-3's reached sparsity, not its target
    assert cofi.method == "cofi" and cofi.target_sparsity == 0.6123 and cofi.seed == 3
    with pytest.raises(ValueError, match="nash3_reached_model_sparsity=1.2"):
        lineup.cofi_matched(1.2, recipe())
    small = lineup.small_config(TeacherConfig("sst2", d_model=256, d_kv=32, num_heads=8, d_ff=1024, encoder_layers=4,
                                          decoder_layers=12))
    assert (small.d_model, small.num_heads, small.d_ff, small.encoder_layers, small.decoder_layers) == \
        (160, 5, 683, 2, 6)
    assert lineup.small_config(TeacherConfig("sst2", init="t5-base")).init == "t5-small"
    with pytest.raises(ValueError, match="no small baseline known for init='my/model'"):
        lineup.small_config(TeacherConfig("sst2", init="my/model"))


def test_time_generation_pairs_models_against_the_teacher(tiny_teacher, tmp_path):
    s = ex.student(tiny_teacher, lineup.nash(2, recipe()), recipe(), tmp_path, progress=False)
    tokenizers = {"teacher": tiny_teacher.tokenizer, "NASH-2": tiny_teacher.tokenizer}
    out = generation.time_generation({"teacher": tiny_teacher.model, "NASH-2": s.model}, tokenizers,
                                     ["content words: a fine film", "content words: the dull plot ."],
                                     max_source_len=24, new_tokens=4, beams=2, warmup=1, repeats=2)
    assert set(out.model) == {"teacher", "NASH-2"} and (out.speedup > 0).all()
    assert out.source_tokens.nunique() == 1 and out.source_tokens.iloc[0] > 3
    assert out.set_index("model").speedup["teacher"] == 1.0
    assert (out.new_tokens_mean == 4).all()  # forced: every sequence writes exactly 4 tokens
    assert (out.encoder_median_s > 0).all() and (out.decoder_median_s > 0).all()
    assert np.allclose(out.encoder_median_s + out.decoder_median_s, out.wall_median_s)
    rounds = out.set_index("model").speedup_rounds  # one ratio per timed round, the same rounds for both models
    assert rounds["teacher"] == (1.0, 1.0) and len(rounds["NASH-2"]) == 2
    assert np.median(rounds["NASH-2"]) == pytest.approx(out.set_index("model").speedup["NASH-2"])
    done = generation.time_generation({"teacher": tiny_teacher.model, "NASH-2": s.model}, tokenizers,
                                      ["content words: a fine film"], max_source_len=24, new_tokens=30, beams=2,
                                      warmup=0, repeats=1, until_done=True)
    assert (done.new_tokens_mean <= 30).all() and (done.new_tokens_mean >= 1).all()
    with pytest.raises(ValueError, match=r"no tokenizer given for \['NASH-2'\]"):
        generation.time_generation({"teacher": tiny_teacher.model, "NASH-2": s.model},
                                   {"teacher": tiny_teacher.tokenizer}, ["a"], max_source_len=8, new_tokens=2, beams=1,
                                   warmup=0, repeats=1)
    with pytest.raises(ValueError, match="baseline 'teacher' is not among"):
        generation.time_generation({"x": s.model}, tiny_teacher.tokenizer, ["a"], max_source_len=8, new_tokens=2,
                                   beams=1, warmup=0, repeats=1)


def test_usable_compares_the_teacher_with_every_trivial_baseline(tiny_teacher):
    check = baselines.usable(tiny_teacher, margin=0.10)
    assert set(check.baselines) == {"first line", "first 20 words", "first two lines"}
    assert check.best_baseline == max(check.baselines.values()) > 0.5  # copying the sentence scores well
    assert check.teacher == tiny_teacher.scores.main
    assert check.usable == (check.teacher >= check.best_baseline + 0.10) and not check.usable


def test_pruning_teachers_keeps_usable_ones_and_refuses_none(monkeypatch):
    cfgs = (TeacherConfig("sst2", **TINY), TeacherConfig("sst2_frequent", **TINY))
    cpu, smoke = (dataclasses.replace(settings.get(name), teachers=cfgs, pruning_tasks=()) for name in ("cpu", "smoke"))
    verdicts = {"sst2": True, "sst2_frequent": False}
    trained = []
    monkeypatch.setattr(baselines, "get_teacher", lambda cfg, progress=True: trained.append(cfg.task) or cfg.task)
    monkeypatch.setattr(baselines, "usable", lambda t, margin: baselines.TeacherCheck(
        usable=verdicts[t], teacher=0.8, best_baseline=0.5, baselines={}))
    kept, table = baselines.pruning_teachers(cpu)
    assert kept == {"sst2": "sst2"} and table.used.tolist() == [True, False]
    assert baselines.pruning_teachers(smoke)[0] == {"sst2": "sst2", "sst2_frequent": "sst2_frequent"}  # waived
    chosen = dataclasses.replace(smoke, pruning_tasks=("sst2_frequent",))  # the profile prunes one task only
    kept, table = baselines.pruning_teachers(chosen)
    assert list(kept) == ["sst2_frequent"] and table.chosen.tolist() == [False, True]
    assert trained[-1] == "sst2_frequent" and trained.count("sst2") == 2  # the unchosen teacher is not trained
    assert table.teacher.isna().tolist() == [True, False] and table.used.tolist() == [False, True]
    with pytest.raises(ValueError, match="pruning_tasks=\\['rte'\\] names \\['rte'\\], which have no teacher"):
        dataclasses.replace(smoke, pruning_tasks=("rte",))
    verdicts["sst2"] = False
    with pytest.raises(RuntimeError, match="profile cpu: no teacher passed the rule"):
        baselines.pruning_teachers(cpu)


def test_pruning_trace_is_saved_and_loaded_with_the_student(tiny_teacher, tmp_path):
    from nashlib.experiments import traces

    cfg = lineup.nash(2, recipe())
    s = ex.student(tiny_teacher, cfg, recipe(), tmp_path, progress=False)
    trace = s.info.prune_curve
    assert [p.step for p in trace] == list(range(1, recipe().steps + 1))
    assert [p.target for p in trace[:2]] == pytest.approx([0.0, cfg.target_sparsity / cfg.warmup_steps])
    assert all(0 <= p.deterministic_sparsity < 1 and p.lambda_2 >= 0 for p in trace)
    assert {"kl", "hidden_enc", "hidden_dec"} <= set(trace[-1].terms)
    assert trace[-1].deterministic_sparsity == pytest.approx(s.report.reached)
    assert traces.trace_of(tiny_teacher, cfg, recipe(), tmp_path) == trace  # read back from info.json
    fig = traces.trace_figure({"NASH-2": trace}, tolerance=cfg.tolerance)
    assert len(fig.axes) == 2  # the sparsity axis and the multipliers' twin
    with pytest.raises(ValueError, match="not finished"):
        traces.trace_of(tiny_teacher, lineup.nash(3, recipe()), recipe(), tmp_path)


def test_prefetch_in_two_worker_processes_gives_the_students_trained_here(tiny_teacher, tmp_path):
    r = recipe(threads=1)
    cfgs = [lineup.nash(2, r, seed=s) for s in (0, 1)]
    assert ex.prefetch(tiny_teacher, cfgs, r, workers=2, root=tmp_path / "pool") == 2  # two spawned processes
    assert ex.prefetch(tiny_teacher, cfgs, r, workers=2, root=tmp_path / "pool") == 0  # cached: nothing to do
    for cfg in cfgs:
        pooled = ex.student(tiny_teacher, cfg, r, tmp_path / "pool", progress=False)
        here = ex.student(tiny_teacher, cfg, r, tmp_path / "here", progress=False)
        assert pooled.info.predictions == here.info.predictions
        for (k, a), b in zip(pooled.model.state_dict().items(), here.model.state_dict().values()):
            assert torch.equal(a, b), k  # the same threads, the same float sums: the same weights


def test_student_fine_tuned_until_convergence_keeps_its_best_validation_step(tiny_teacher, tmp_path):
    r = recipe(finetune_steps=6, finetune_eval_every=2, finetune_patience=1)
    s = ex.student(tiny_teacher, lineup.nash(2, r), r, tmp_path, progress=False)
    curve = s.info.finetune_dev_curve
    assert [c.step for c in curve][:1] == [2] and all(c.step % 2 == 0 for c in curve)
    assert s.info.finetune_best_step == max(curve, key=lambda c: c.loss).step
    assert len(s.info.finetune_curve) in (4, 6)  # stopped after one score without a new best, or ran all 6
    plain = ex.student(tiny_teacher, lineup.nash(2, recipe()), recipe(), tmp_path, progress=False)
    assert plain.info.finetune_dev_curve == [] and plain.info.finetune_best_step == 0
