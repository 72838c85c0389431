import shutil
from collections import Counter

import pytest
import torch

from nashlib.data import tasks, tokenizer
from nashlib.experiments import baselines
from nashlib.experiments import teachers as teacher
from nashlib.experiments.teachers import TeacherConfig

TINY = dict(d_model=32, d_kv=8, num_heads=4, d_ff=64, encoder_layers=2, decoder_layers=4, vocab_size=300,
            train_examples=64, eval_examples=8, max_source_len=24, max_target_len=4, batch=8, steps=6,
            warmup_steps=2, beams=1)


def test_tokenizer_has_t5_special_ids_and_keeps_line_breaks():
    tok = teacher.train_tokenizer(["Amanda: hi there\nTom: hello Amanda", "a positive review"] * 20, 60)
    ids = tok("Tom: hi\nAmanda: hello")["input_ids"]
    assert (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2)
    assert ids[-1] == 1 and 1 not in ids[:-1]
    text = tok.decode(ids, skip_special_tokens=True)  # Metaspace marks the word after a line break with a space
    assert text.replace(" \n ", "\n") == "Tom: hi\nAmanda: hello"
    assert tok.convert_tokens_to_ids("\n") == 3 and 3 in ids  # the line break is a piece of its own


def test_tokenizer_is_reproducible_and_round_trips_through_save_pretrained(tmp_path):
    texts = [f"Amanda: film {i} was {'fine' if i % 2 else 'long'}\nTom: ok {i % 5}" for i in range(200)]
    tok = teacher.train_tokenizer(texts, 80)
    again = tokenizer.train_tokenizer(list(reversed(texts[::-1])), 80)  # same texts, another list object
    assert tok.backend_tokenizer.to_str() == again.backend_tokenizer.to_str()
    assert len(tok) <= 80  # the comparison can fail: another size gives another vocabulary
    assert tokenizer.train_tokenizer(texts, 40).backend_tokenizer.to_str() != tok.backend_tokenizer.to_str()
    tok.save_pretrained(tmp_path)
    loaded = teacher.load_tokenizer(str(tmp_path))
    sample = "Tom: film 7 was long\nAmanda: ok"
    assert loaded(sample)["input_ids"] == tok(sample)["input_ids"] and loaded.pad_token_id == 0


@pytest.mark.parametrize("texts,size,error", [
    ("one string", 60, "texts must be a list of strings, not str"),
    (["ok", None], 60, r"texts\[1\] is None \(NoneType\); allowed: strings"),
    (["", "  "], 60, "texts hold no non-blank text"),
    (["some text"], 8, "vocab_size=8; allowed: an integer >= 16"),
    (["abcdefghijklmnopqrstuvwxyz"], 20, r"vocab_size=20 is below the 27 characters .* allowed: >= 31"),
])
def test_tokenizer_bad_input_is_named(texts, size, error):
    with pytest.raises((TypeError, ValueError), match=error):
        tokenizer.train_tokenizer(texts, size)


def test_train_cache_reload_and_resume(tmp_path):
    cfg = TeacherConfig("sst2", **TINY)
    assert teacher.get_teacher(cfg, tmp_path, progress=False, stop_after=3) is None  # interrupted
    folder = teacher.teacher_run(cfg, tmp_path).folder
    assert not (folder / "info.json").exists() and any(folder.glob("finetune-*/checkpoint"))
    resumed = teacher.get_teacher(cfg, tmp_path, progress=False)  # resumes, finishes, scores
    assert (folder / "info.json").exists() and not any(folder.glob("finetune-*/checkpoint"))
    assert [h.step for h in resumed.info.curve] == list(range(1, 7))
    assert 0 <= resumed.scores.main <= 1 and len(resumed.info.predictions) == 8
    assert resumed.scores.main == resumed.scores.metrics["accuracy"]
    other = tmp_path / "fresh"  # the Unigram trainer is not bit-reproducible: start from the same vocabulary
    shutil.copytree(folder / "tokenizer", other / folder.name / "tokenizer")
    straight = teacher.get_teacher(cfg, other, progress=False)  # uninterrupted: the same curve
    assert [h.loss for h in straight.info.curve] == pytest.approx([h.loss for h in resumed.info.curve], rel=1e-5)
    cached = teacher.get_teacher(cfg, tmp_path, progress=False)  # loaded, not trained again
    assert cached.info == resumed.info
    ids = torch.tensor([[5, 6, 7, 1]])
    with torch.no_grad():
        assert torch.allclose(cached.model(input_ids=ids, decoder_input_ids=ids).logits,
                              resumed.model(input_ids=ids, decoder_input_ids=ids).logits, atol=1e-6)


def test_a_pretrained_folder_is_the_laptop_and_paper_path(tmp_path):
    """init=<folder>: the from_pretrained path hub models take, here on a teacher saved locally."""
    first = teacher.get_teacher(TeacherConfig("rte", **TINY), tmp_path, progress=False)
    cfg = TeacherConfig("rte", init=str(first.folder / "model"), **{**TINY, "steps": 3, "warmup_steps": 1})
    tuned = teacher.get_teacher(cfg, tmp_path, progress=False)
    assert tuned.info.vocab == first.info.vocab and tuned.info.config.init == cfg.init
    assert not torch.equal(tuned.model.shared.weight, first.model.shared.weight)  # it was fine-tuned


def test_hub_model_offline_fails_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="Without internet, pass a folder written by save_pretrained"):
        teacher.get_teacher(TeacherConfig("rte", init="t5-small", **TINY), tmp_path, progress=False)
    assert not list(tmp_path.iterdir())  # failed before reading data or making a folder


@pytest.mark.parametrize("kwargs, match", [
    (dict(task="nope"), "unknown task 'nope'; known tasks: samsum"),
    (dict(task="sst2", steps=0), "steps=0; allowed: an integer >= 1"),
    (dict(task="sst2", lr=0.0), "lr=0.0; allowed: a number > 0"),
    (dict(task="sst2", batch="8"), "batch='8' has type str; expected int"),
])
def test_bad_config(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TeacherConfig(**kwargs)


def test_every_profile_names_teachers_of_known_tasks():
    from nashlib import settings

    for name in settings.names():
        for cfg in settings.get(name).teachers:
            assert tasks.get(cfg.task).name == cfg.task
    assert all(cfg.decoder_layers == 12 for cfg in settings.get("cpu").teachers)  # t5-base's depth


def test_a_changed_config_never_reuses_an_old_teacher(tmp_path):
    cfg = TeacherConfig("sst2", **TINY)
    assert teacher.teacher_run(cfg, tmp_path).folder != teacher.teacher_run(
        TeacherConfig("sst2", **{**TINY, "dropout": 0.0}), tmp_path).folder


def test_trivial_baselines():
    train, valid = (tasks.load_task("rte", s, limit=40) for s in ("train", "validation"))
    base = baselines.trivial_baselines("rte", train, valid)
    (name, preds), = base.items()
    majority = max(set(train.dataset["target"]), key=list(train.dataset["target"]).count)
    assert name == f"majority label ({majority!r})" and preds == [majority] * len(valid)
    turns = tasks.load_task("samsum_turns", "validation", limit=5)
    base = baselines.trivial_baselines("samsum_turns", turns, turns)
    assert set(base) == {"first line", "first 20 words", "first two lines"}
    first = turns.dataset[0]["source"].split(": ", 1)[1].splitlines()[0]  # "turns of X: A: text..."
    assert base["first line"][0] == first.split(":", 1)[1].strip()
    words = tasks.load_task("sst2_frequent", "validation", limit=5)
    base = baselines.trivial_baselines("sst2_frequent", words, words)
    (most,) = [name for name in base if name.startswith("most frequent target (")]
    counts = Counter(words.dataset["target"])  # with ties, any of the most frequent targets will do
    assert counts[base[most][0]] == max(counts.values()) and most == f"most frequent target ({base[most][0]!r})"
    assert set(base) == {"the sentence", "its first 4 words", "its words, each once, sorted", most}
    sentence = words.dataset[0]["source"].removeprefix("frequent words: ")
    assert base["the sentence"][0] == sentence and base["its first 4 words"][0] == " ".join(sentence.split()[:4])
    assert base["its words, each once, sorted"][0] == " ".join(sorted(set(sentence.split())))


@pytest.mark.parametrize("teacher_score, usable", [(0.6, True), (0.75, True), (0.59, False)])
def test_teacher_check_verdict_is_the_usable_rule(teacher_score, usable):
    """The verdict the teachers notebook reports holds exactly when the rule said usable (ties included)."""
    check = baselines.TeacherCheck(usable=teacher_score >= 0.5 + 0.1, teacher=teacher_score, best_baseline=0.5,
                                   baselines={"majority": 0.5}, margin=0.1)
    assert check.usable is usable
    v = check.verdict("SST-2: the teacher beats its trivial baselines", name="sst2 teacher")
    assert v.holds is usable and v.outcome == ("holds" if usable else "does not hold")
    assert "best trivial baseline 0.5 + margin 0.1" in v.rule and dict(v.values)["sst2 teacher"] == teacher_score


def test_usable_refuses_predictions_of_other_validation_rows():
    from types import SimpleNamespace

    stale = SimpleNamespace(config=TeacherConfig("rte", **TINY), folder="cached", scores=None,
                            info=SimpleNamespace(predictions=["entailment"] * 3))  # TINY scores 8 rows
    with pytest.raises(ValueError, match="3 cached predictions, 8 validation rows"):
        baselines.usable(stale)
