"""Table 2's instruction tuning: the evaluation sets read as the hub lays them out, the judge, the lineup scored."""

import dataclasses
import json

import numpy as np
import pytest

from nashlib import settings
from nashlib.experiments import instruct_sets as data
from nashlib.data import tasks
from nashlib.experiments import instruct
from nashlib.experiments import teachers as teacher
from nashlib.settings import TeacherConfig

TINY = dict(d_model=32, d_kv=8, num_heads=4, d_ff=64, encoder_layers=2, decoder_layers=4, vocab_size=300,
            train_examples=64, eval_examples=8, max_source_len=24, max_target_len=6, batch=8, steps=6,
            warmup_steps=2, beams=2)

# rows as Gu et al.'s valid.jsonl holds them: instruction, input (often empty), their prompt, output (text or list)
ROWS = [dict(instruction="Name a colour.", input="", prompt="Below is ...", output="blue"),
        dict(instruction="Translate to French.", input="good morning", prompt="...", output=["bonjour", "salut"]),
        dict(instruction="", input="x", prompt="...", output="y"),  # malformed: no instruction
        dict(instruction="Say hi.", input="", prompt="...", output="hi there")]


def standin(tmp_path, task=data.SELF_INSTRUCT, rows=ROWS):
    """``task`` read through the hub code path from a local valid.jsonl laid out as the hub repository's."""
    path = tmp_path / "valid.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dataclasses.replace(task, hub=tasks.HubSource("json", data_files={"validation": str(path)}))


def test_eval_sets_read_gu_et_al_rows_as_dolly_prompts_with_every_reference(tmp_path):
    with pytest.warns(tasks.MalformedRowsWarning):
        d = tasks.load_task(standin(tmp_path), "validation", source="hub")
    assert list(d.dataset["source"]) == ["Name a colour.", "Translate to French.\n\ngood morning", "Say hi."]
    assert [list(r) for r in d.dataset["references"]] == [["blue"], ["bonjour", "salut"], ["hi there"]]
    assert d.malformed == [(2, "empty field 'instruction'")]  # counted and named, not dropped silently
    assert [s.name for s in data.EVAL_SETS] == ["Dolly", "Self-Instruct", "Vicuna"]
    assert data.EVAL_SETS[0].task is tasks.get("dolly") and data.VICUNA.hub.repo == "MiniLLM/Vicuna"
    dolly = tasks.get("dolly")  # the same input format, so a Dolly-tuned model reads them as it was tuned
    assert dolly.template.replace("context", "input") == data.SELF_INSTRUCT.template == data.VICUNA.template
    with pytest.raises(ValueError, match="unknown split 'train'"):
        tasks.load_task(data.SELF_INSTRUCT, "train")  # evaluation only


def test_judge_prompt_reply_and_score_follow_appendix_e():
    prompt = instruct.judge_prompt("Q?", "the reference", "the answer")
    assert prompt.index("Q?") < prompt.index("the reference") < prompt.index("the answer") < prompt.index(
        instruct.JUDGE_SYSTEM)  # Assistant 1: the reference; Assistant 2: the model
    assert instruct.parse_reply("8 6\nbecause ...") == (8.0, 6.0)
    assert instruct.parse_reply(" 7.5, 9 ") == (7.5, 9.0)
    for bad in ("", "8", "eight six", "0 5", "8 11", "8 6 4"):
        with pytest.raises(instruct.JudgeReplyError, match="two scores from 1 to 10"):
            instruct.parse_reply(bad)
    replies = iter(["8 6", "10 5", "4 4"])
    score = instruct.judge_score(lambda p: next(replies), ["a", "b", "c"], ["r"] * 3, ["x"] * 3)
    assert score == pytest.approx(100 * 15 / 22)  # the ratio of the summed scores, not a mean of ratios
    with pytest.raises(instruct.JudgeReplyError):
        instruct.judge_score(lambda p: "no scores here", ["a"], ["r"], ["x"])  # never a silent zero
    with pytest.raises(ValueError, match="the same positive number"):
        instruct.judge_score(lambda p: "8 6", ["a"], [], ["x"])


def test_load_judge_names_what_is_wrong():
    assert instruct.load_judge("") is None
    assert instruct.load_judge("json:dumps") is json.dumps
    for spec, match in (("json.dumps", "allowed: '' \\(no judge\\) or 'module:function'"),
                        ("no_such_module_x:f", "cannot import"), ("json:no_such", "cannot import"),
                        ("json:__doc__", "is not callable")):
        with pytest.raises(ValueError, match=match):
            instruct.load_judge(spec)


def test_profiles_with_a_dolly_teacher_do_not_prune_it_elsewhere():
    for name in settings.names():
        p = settings.get(name)
        cfg = instruct.dolly_teacher(p)
        assert (cfg is not None) == (name in ("laptop", "paper", "rehearsal")), name  # the hub profiles (+ stand-ins)
        if cfg is not None:
            assert p.pruning_tasks and "dolly" not in p.pruning_tasks  # only Table 2 prunes it
    assert instruct.paper_rows().groupby("model").size().to_dict() == dict.fromkeys(instruct.PAPER_ROW.values(), 3)


def test_lineup_is_trained_per_seed_and_scored_row_by_row_on_every_set(tmp_path, monkeypatch):
    monkeypatch.setenv("NASH_RUN_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("NASH_TEACHER_DIR", str(tmp_path / "teachers"))
    t = teacher.get_teacher(TeacherConfig("sst2_content", **TINY), progress=False)  # stands for a Dolly teacher
    recipe = dataclasses.replace(settings.get("smoke").student, paired_seeds=(0, 1))
    lineup = instruct.train_lineup(t, recipe, [0, 1], workers=1)
    assert set(lineup.runs) == set(instruct.LABELS) and all(len(v) == 2 for v in lineup.runs.values())
    assert [s.model.config.num_decoder_layers for s in lineup.runs["NASH-3"]] == [3, 3]
    assert lineup.runs["small dense"][0].model is not lineup.runs["small dense"][1].model  # one per seed
    sets = {"Dolly": tasks.load_task("sst2_content", "validation", limit=8),
            "Self-Instruct": tasks.load_task(standin(tmp_path, rows=[r for r in ROWS if r["instruction"]]),
                                             "validation", source="hub")}
    scores, answers = instruct.score_lineup(lineup, t.config, sets)
    assert scores["Dolly"]["NASH-3"].shape == (2, 8) and scores["Self-Instruct"]["NASH-2"].shape == (2, 3)
    assert np.array_equal(scores["Dolly"]["teacher"][0], scores["Dolly"]["teacher"][1])  # trained once
    rows, said = instruct.row_scores(t.model, t.tokenizer, t.config, sets["Dolly"])
    assert np.allclose(scores["Dolly"]["teacher"][0], rows) and answers["Dolly"]["teacher"] == said
    assert np.isclose(rows.mean(), t.scores.main * 100)  # the teacher's own score, row by row
    assert ((0 <= scores["Self-Instruct"]["NASH-4"]) & (scores["Self-Instruct"]["NASH-4"] <= 100)).all()
