import shutil
from collections import Counter

import pytest
import torch

from nashlib import tasks, teacher
from nashlib.teacher import TeacherConfig

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


def test_batches_depend_on_the_step_only_and_pad():
    encoded = {"input_ids": [[5, 6, 1], [7, 1], [8, 9, 10, 1], [11, 1]], "labels": [[3, 1], [4, 1], [3, 1], [4, 4, 1]]}
    batch = teacher.batches(encoded, 2, seed=0)
    a, b = batch(3), batch(3)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert set(a) == {"input_ids", "attention_mask", "labels"}
    assert torch.equal(a["attention_mask"], (a["input_ids"] != 0).long())
    assert (a["labels"] == -100).any() or a["labels"].shape[1] == 2
    seen = torch.cat([batch(s)["input_ids"][:, 0] for s in (0, 1)])  # one epoch covers every row once
    assert sorted(seen.tolist()) == [5, 7, 8, 11]
    with pytest.raises(ValueError, match="cannot fill one batch of 8"):
        teacher.batches(encoded, 8, seed=0)


def test_batches_group_similar_lengths():
    rng = torch.Generator().manual_seed(0)
    lengths = torch.randint(2, 60, (400,), generator=rng).tolist()
    encoded = {"input_ids": [[5] * n for n in lengths], "labels": [[3, 1]] * 400}

    def padding(pool):
        batch = teacher.batches(encoded, 8, seed=0, pool=pool)
        return sum(int((batch(s)["attention_mask"] == 0).sum()) for s in range(50))

    assert padding(50) < padding(1) / 3
    firsts = [teacher.batches(encoded, 8, seed=0)(s)["input_ids"].shape[1] for s in range(50)]
    assert len(set(firsts)) > 10  # batch order is still shuffled, not sorted by length


def test_train_cache_reload_and_resume(tmp_path):
    cfg = TeacherConfig("sst2", **TINY)
    assert teacher.get_teacher(cfg, tmp_path, progress=False, stop_after=3) is None  # interrupted
    folder = tmp_path / f"sst2-{cfg.key()}"
    assert not (folder / "teacher.json").exists() and any(folder.glob("finetune-*/checkpoint"))
    resumed = teacher.get_teacher(cfg, tmp_path, progress=False)  # resumes, finishes, scores
    assert (folder / "teacher.json").exists() and not any(folder.glob("finetune-*/checkpoint"))
    assert [h["step"] for h in resumed.info["curve"]] == list(range(1, 7))
    assert 0 <= resumed.scores["score"] <= 1 and len(resumed.info["predictions"]) == 8
    other = tmp_path / "fresh"  # the Unigram trainer is not bit-reproducible: start from the same vocabulary
    shutil.copytree(folder / "tokenizer", other / folder.name / "tokenizer")
    straight = teacher.get_teacher(cfg, other, progress=False)  # uninterrupted: the same curve
    assert [h["loss"] for h in straight.info["curve"]] == pytest.approx([h["loss"] for h in resumed.info["curve"]],
                                                                       rel=1e-5)
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
    assert tuned.info["vocab"] == first.info["vocab"] and tuned.info["config"]["init"] == cfg.init
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


def test_recipes_cover_every_profile_and_use_known_tasks():
    from nashlib import profiles

    assert set(teacher.RECIPES) == set(profiles.names())
    for name in profiles.names():
        for task, cfg in teacher.recipes(name).items():
            assert cfg.task == task
    assert all(cfg.decoder_layers == 12 for cfg in teacher.recipes("cpu").values())  # t5-base's depth
    with pytest.raises(ValueError, match="unknown profile 'gpu'; allowed: smoke, cpu, laptop, paper"):
        teacher.recipes("gpu")


def test_trivial_baselines():
    train, valid = (tasks.load_task("rte", s, limit=40) for s in ("train", "validation"))
    base = teacher.trivial_baselines("rte", train, valid)
    (name, preds), = base.items()
    majority = max(set(train.dataset["target"]), key=list(train.dataset["target"]).count)
    assert name == f"majority label ({majority!r})" and preds == [majority] * len(valid)
    turns = tasks.load_task("samsum_turns", "validation", limit=5)
    base = teacher.trivial_baselines("samsum_turns", turns, turns)
    assert set(base) == {"first line", "first 20 words", "first two lines"}
    first = turns.dataset[0]["source"].split(": ", 1)[1].splitlines()[0]  # "turns of X: A: text..."
    assert base["first line"][0] == first.split(":", 1)[1].strip()
    words = tasks.load_task("sst2_frequent", "validation", limit=5)
    base = teacher.trivial_baselines("sst2_frequent", words, words)
    (most,) = [name for name in base if name.startswith("most frequent target (")]
    counts = Counter(words.dataset["target"])  # with ties, any of the most frequent targets will do
    assert counts[base[most][0]] == max(counts.values()) and most == f"most frequent target ({base[most][0]!r})"
    assert set(base) == {"the sentence", "its first 4 words", "its words, each once, sorted", most}
    sentence = words.dataset[0]["source"].removeprefix("frequent words: ")
    assert base["the sentence"][0] == sentence and base["its first 4 words"][0] == " ".join(sentence.split()[:4])
    assert base["its words, each once, sorted"][0] == " ".join(sorted(set(sentence.split())))
