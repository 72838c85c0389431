"""The hub path rehearsed offline: stand-in checkpoints in a local Hugging Face cache, loaded by hub name.

A subprocess sets ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE=1`` before anything imports huggingface_hub (it reads
them at import), then runs nashlib's ordinary code with ``"t5-small"`` and ``"google/t5-v1_1-small"``: loading,
tokenizing with task prefixes, generation, a teacher fine-tuned from the checkpoint on real SAMSum rows, and a
NASH student pruned, compacted, fine-tuned, saved and loaded again.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from safetensors.torch import load_file

from nashlib import standins

NAMES = ["t5-small", "google/t5-v1_1-small"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return standins.build_cache(tmp_path_factory.mktemp("hf"), NAMES)


def _snapshot(cache, name):
    repo = cache / f"models--{name.replace('/', '--')}"
    return repo / "snapshots" / (repo / "refs" / "main").read_text()


def test_the_cache_has_the_hub_layout_and_is_rebuilt_byte_for_byte(cache, tmp_path):
    small, v11 = (_snapshot(cache, n) for n in NAMES)
    assert {p.name for p in small.iterdir()} == {"config.json", "generation_config.json", "model.safetensors",
                                                 "spiece.model", "tokenizer.json"}
    assert {p.name for p in v11.iterdir()} == {"config.json", "generation_config.json", "model.safetensors",
                                               "spiece.model", "special_tokens_map.json", "tokenizer_config.json"}
    assert json.loads((v11 / "config.json").read_text())["tie_word_embeddings"] is False
    assert "lm_head.weight" in load_file(v11 / "model.safetensors")
    assert "lm_head.weight" not in load_file(small / "model.safetensors")  # tied on the hub
    again = standins.build_cache(tmp_path, NAMES)
    for name in NAMES:
        a, b = _snapshot(cache, name), _snapshot(again, name)
        assert a.name == b.name and all((a / f.name).read_bytes() == f.read_bytes() for f in b.iterdir())


def test_unknown_names_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match=r"names=\['t5-huge'\]; allowed: t5-small"):
        standins.build_cache(tmp_path / "c", ["t5-huge"])
    assert not (tmp_path / "c").exists()


REHEARSAL = textwrap.dedent('''
    import json, sys, torch
    from safetensors.torch import load_file
    import nashlib
    from nashlib import settings, shapes
    from nashlib.data.tokenizer import load_tokenizer
    from nashlib.experiments import lineup, students, teachers
    from transformers import AutoModelForSeq2SeqLM
    out = {}
    for name in ("t5-small", "google/t5-v1_1-small"):
        model, tok = shapes.load(name), load_tokenizer(name)
        params = getattr(model.config, "task_specific_params", None)  # v1.0 has the prefixes, v1.1 none
        prefix = params["summarization"]["prefix"] if params else "summarize: "
        ids = tok([prefix + "Amanda: cookies?"], return_tensors="pt")
        out[name] = dict(
            gated=model.config.is_gated_act, scaled=model.config.scale_decoder_outputs,
            head_is_embedding=model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr(),
            last_id=int(ids.input_ids[0, -1]), extra0=tok.convert_tokens_to_ids("<extra_id_0>"), tokens=len(tok),
            vocab=model.config.vocab_size, generated=list(model.generate(**ids, num_beams=4, max_new_tokens=4).shape),
            lm_head_sum=float(model.lm_head.weight.detach().double().sum()), prefix=prefix)
    cfg = settings.TeacherConfig("samsum", init="t5-small", train_examples=16, eval_examples=4, max_source_len=48,
                                 max_target_len=8, batch=4, steps=3, warmup_steps=1, beams=2)
    teacher = teachers.get_teacher(cfg, progress=False)
    recipe = settings.get("smoke").student
    st = students.student(teacher, lineup.nash(2, recipe), recipe, progress=False)
    again = AutoModelForSeq2SeqLM.from_pretrained(st.folder / "model")
    out["teacher"] = dict(score=teacher.scores.main, train=teacher.info.train)
    out["student"] = dict(decoder_layers=again.config.num_decoder_layers, type=again.config.model_type,
                          reached=st.info.report.encoder_actual)
    print("RESULT " + json.dumps(out))
''')


def test_hub_names_resolve_offline_and_run_the_whole_pipeline(cache, tmp_path):
    env = dict(os.environ, HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1", NASH_TEACHER_DIR=str(tmp_path / "t"),
               NASH_RUN_DIR=str(tmp_path / "r"), TRANSFORMERS_VERBOSITY="error")
    done = subprocess.run([sys.executable, "-c", REHEARSAL, str(cache)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.split("RESULT ", 1)[1])
    v10, v11 = out["t5-small"], out["google/t5-v1_1-small"]
    assert (v10["gated"], v10["scaled"], v10["head_is_embedding"]) == (False, True, True)  # v1.0: tied, rescaled
    assert (v11["gated"], v11["scaled"], v11["head_is_embedding"]) == (True, False, False)  # v1.1: its own head
    file_head = load_file(_snapshot(cache, "google/t5-v1_1-small") / "model.safetensors")["lm_head.weight"]
    assert v11["lm_head_sum"] == pytest.approx(float(file_head.double().sum()), rel=1e-12)
    assert v10["prefix"] == "summarize: "
    for r in (v10, v11):  # T5's conventions: eos 1 appended, extra ids at the top, a padded config vocabulary
        assert r["last_id"] == 1 and r["extra0"] == r["tokens"] - 1 == 1099 and r["vocab"] == 1152
        assert r["generated"][0] == 1 and r["generated"][1] <= 5
    assert out["teacher"]["train"].startswith("samsum/train: 16 pairs from local")
    assert out["student"]["type"] == "nash_t5" and out["student"]["decoder_layers"] == 2


DATASETS = """
import json
from nashlib.data import tasks
from nashlib.experiments import instruct_sets
sets = instruct_sets.load_eval_sets()
train = tasks.load_task("dolly", "train")
cnn = {s: tasks.load_task("cnn_dailymail", s) for s in ("train", "validation", "test")}
qnli = tasks.load_task("qnli", "train")
print("RESULT " + json.dumps({**{k: [v.source, v.origin, len(v.dataset), v.derived] for k, v in sets.items()},
                              "train": [train.source, len(train.dataset)], "first": sets["Dolly"].dataset[0],
                              "cnn": {s: [d.source, d.origin, len(d.dataset), d.dataset[0]] for s, d in cnn.items()},
                              "qnli": [qnli.source, qnli.origin, len(qnli.dataset), qnli.dataset[0]]}))
"""


def test_hub_only_datasets_resolve_offline_from_a_datasets_cache_by_hub_name(tmp_path):
    cache = standins.build_datasets_cache(tmp_path / "datasets")
    commits = sorted(p.name for p in cache.glob("*/*/0.0.0/*"))
    assert [p.name for p in sorted(cache.iterdir())] == ["MiniLLM___self-inst", "MiniLLM___vicuna",
                                                         "abisee___cnn_dailymail", "databricks___databricks-dolly-15k",
                                                         "nyu-mll___glue"]
    assert [p.name for p in (cache / "abisee___cnn_dailymail").iterdir()] == ["3.0.0"]  # loaded by config name
    assert commits == sorted(p.name for p in standins.build_datasets_cache(tmp_path / "again").glob("*/*/0.0.0/*"))
    (tmp_path / "empty").mkdir()  # no local copies: every set must come through the hub path
    env = dict(os.environ, HF_DATASETS_CACHE=str(cache), HF_HUB_OFFLINE="1", NASH_DATA_DIR=str(tmp_path / "empty"))
    done = subprocess.run([sys.executable, "-c", DATASETS], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert out["Dolly"][:3] == ["hub", "hub dataset 'databricks/databricks-dolly-15k'", 1000]
    assert "1100 rows" in out["Dolly"][3] and out["train"] == ["hub", 100]  # the registry's cut of the one split
    assert out["Self-Instruct"][:3] == ["hub", "hub dataset 'MiniLLM/self-inst'", 40]
    assert out["Vicuna"][:3] == ["hub", "hub dataset 'MiniLLM/Vicuna'", 20]
    assert out["first"]["source"].startswith("question: ") and out["first"]["target"]  # TweetQA's rows, Dolly's form
    origin = "hub dataset 'abisee/cnn_dailymail' (config '3.0.0')"
    assert {s: v[:3] for s, v in out["cnn"].items()} == {"train": ["hub", origin, 96], "validation": ["hub", origin, 24],
                                                          "test": ["hub", origin, 24]}
    first = out["cnn"]["train"][3]  # a SAMSum dialogue as an article, under CNN/DailyMail's own template, once
    assert first["source"].startswith("summarize: ") and not first["source"].startswith("summarize: summarize:")
    assert out["cnn"]["train"][3] != out["cnn"]["validation"][3]  # each split its own rows
    assert out["qnli"][:3] == ["hub", "hub dataset 'nyu-mll/glue' (config 'qnli')", 96]
    assert out["qnli"][3]["source"].startswith("qnli question: ") and out["qnli"][3]["target"] in (
        "entailment", "not_entailment")
