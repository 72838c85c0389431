"""Tasks: every local split parses in full into well-formed text pairs; the hub path runs through
``datasets.load_dataset`` on local files; offline errors, derived splits and malformed rows are explicit."""

import dataclasses
import json
import re
import warnings

import pytest

from nashlib.data import tasks
from nashlib.data.tasks import Derived, HubSource, MalformedRowsWarning, NoLocalCopyError, load_task

pytestmark = pytest.mark.skipif(tasks.data_dir() is None, reason="no local data folder (NASH_DATA_DIR)")

# (task, split): (pairs, malformed rows), from the row counts in shared/data/SOURCES.md
EXPECTED = {
    ("samsum", "train"): (14731, 1), ("samsum", "validation"): (818, 0), ("samsum", "test"): (819, 0),
    ("xsum", "train"): (1499, 1), ("xsum", "validation"): (500, 0),  # derived from 2 x 1000 test rows
    ("tweetqa", "train"): (10692, 0), ("tweetqa", "validation"): (1086, 0),
    ("cola", "train"): (8551, 0), ("cola", "validation"): (1043, 0),
    ("mrpc", "train"): (3668, 0), ("mrpc", "validation"): (408, 0),
    ("stsb", "train"): (5749, 0), ("stsb", "validation"): (1500, 0),
    ("rte", "train"): (2490, 0), ("rte", "validation"): (277, 0),
    ("sst2", "train"): (67349, 0), ("sst2", "validation"): (872, 0),
    ("qnli", "validation"): (5463, 0),
    ("cb", "train"): (250, 0), ("cb", "validation"): (56, 0),
    ("copa", "train"): (400, 0), ("copa", "validation"): (100, 0),
    ("wic", "train"): (5428, 0), ("wic", "validation"): (638, 0),
    ("boolq", "train"): (2770, 0), ("boolq", "validation"): (500, 0),  # derived from dev (3270)
}

# the first pair of a split, read by eye from the original files
FIRST = {
    ("rte", "validation"): ("rte sentence1: Dana Reeve,", "not_entailment"),
    ("cola", "train"): ("cola sentence: Our friends won't buy this analysis", "acceptable"),
    ("mrpc", "train"): ("mrpc sentence1: Amrozi accused his brother", "equivalent"),
    ("stsb", "train"): ("stsb sentence1: A plane is taking off. sentence2: An air plane", "5.0"),
    ("sst2", "train"): ("sst2 sentence: hide new secretions from the parental units", "negative"),
    ("qnli", "validation"): ("qnli question: What came into force after the new constitution", "entailment"),
    ("cb", "train"): ("cb hypothesis: the language was peeled down premise: It was a complex", "entailment"),
    ("copa", "train"): ("copa choice1: The sun was rising. choice2: The grass was cut. premise: My body", "choice1"),
    ("wic", "train"): ("wic word: place sentence1: Do you want to come over to my place later?", "false"),
    ("boolq", "train"): ("boolq question: does ethanol take more energy make that produces passage:", "false"),
    ("tweetqa", "validation"): ("question: who has the most to lose context: This forecast", "w nj"),
    ("samsum", "test"): ("summarize: Hannah: Hey, do you have Betty's number?", "Hannah needs Betty's number"),
}


@pytest.mark.parametrize("name,split", sorted(EXPECTED))
def test_every_local_split_gives_well_formed_pairs(name, split):
    task = tasks.get(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_task(name, split, source="local")
    assert data.source == "local" and (len(data), len(data.malformed)) == EXPECTED[name, split]
    assert sum(issubclass(w.category, MalformedRowsWarning) for w in caught) == min(len(data.malformed), 1)
    prefix = task.template.split("{")[0]
    rows = data.dataset.to_dict()
    for source, target, refs in zip(rows["source"], rows["target"], rows["references"]):
        assert source.startswith(prefix) and len(source) > len(prefix)
        assert target and target == refs[0] and all(r.strip() == r and r for r in refs)
    if task.labels:  # every label word occurs and nothing else does
        assert set(rows["target"]) == set(task.labels)
    if task.kind == "regression":
        values = [float(t) for t in rows["target"]]
        assert all(re.fullmatch(r"\d\.\d", t) for t in rows["target"]) and min(values) == 0 and max(values) == 5
        assert all(abs(v * 5 - round(v * 5)) < 1e-9 for v in values)
    if (name, split) in FIRST:
        head, target = FIRST[name, split]
        assert rows["source"][0].startswith(head) and rows["target"][0].startswith(target)


def test_malformed_rows_are_counted_named_and_warned():
    with pytest.warns(MalformedRowsWarning, match=r"samsum/train: 1 malformed row\(s\) of 14732 dropped"):
        data = load_task("samsum", "train", source="local")
    assert data.malformed == [(6054, "samsum/samsum.zip:samsum/train.json line 6055: empty field 'dialogue'")]
    assert "1 malformed rows dropped" in data.summary()


# ---- broken local files: malformed rows dropped with file and line, unreadable files a clear error -----

def _staged(tmp_path, monkeypatch, files: dict[str, bytes]):
    """A data folder holding only ``files`` (relative path -> bytes), set as NASH_DATA_DIR."""
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    monkeypatch.setenv("NASH_DATA_DIR", str(tmp_path))


def test_a_broken_jsonl_line_is_dropped_counted_and_warned_with_file_and_line(tmp_path, monkeypatch):
    good = json.dumps({"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 0})
    text = "\n".join([good, '{"premise": "cut off', "", "[1, 2]", good]).encode()
    _staged(tmp_path, monkeypatch, {"superglue_cb/val.jsonl": text})
    with pytest.warns(MalformedRowsWarning, match=r"cb/validation: 2 malformed row\(s\) of 4 dropped "
                      r"\(row 1: superglue_cb/val.jsonl line 2: invalid JSON"):
        data = load_task("cb", "validation", source="local")
    assert len(data) == 2 and list(data.dataset["target"]) == ["neutral", "neutral"]
    assert data.malformed[1] == (2, "superglue_cb/val.jsonl line 4: a JSON list, not an object")


def test_a_tsv_row_with_the_wrong_field_count_names_its_line(tmp_path, monkeypatch):
    _staged(tmp_path, monkeypatch, {"glue_sst2/dev.tsv": b"sentence\tlabel\ngood film\t1\nno label\nbad\t0\n"})
    with pytest.warns(MalformedRowsWarning, match="glue_sst2/dev.tsv line 3: 1 tab-separated fields, the header has 2"):
        data = load_task("sst2", "validation", source="local")
    assert list(data.dataset["target"]) == ["positive", "negative"]  # the good rows around it are kept


@pytest.mark.parametrize("content,error", [
    (b"", r"dev.tsv: empty file; expected tab-separated a header line and rows"),
    (b"sentence\tlabel\n", r"dev.tsv: a header line \(2 fields: \['sentence', 'label'\]\) and no rows"),
    (b"sentence\tlabel\n\x00\x01\x02", r"dev.tsv: a binary file \(NUL byte at offset 15\)"),
    (b"sentence\tlabel\ncaf\xe9\t1\n", r"dev.tsv: not UTF-8 text \(byte 0xe9 at offset 18, line 2\)"),
    (b"sentence\tlabel\n\t\n", r"sst2/validation: none of the 1 rows of glue_sst2/dev.tsv is well-formed "
                                  r"\(row 0: glue_sst2/dev.tsv line 2: empty field 'sentence'\)"),
])
def test_an_unreadable_tsv_is_an_error_naming_the_file(tmp_path, monkeypatch, content, error):
    _staged(tmp_path, monkeypatch, {"glue_sst2/dev.tsv": content})
    with pytest.raises(tasks.DataFileError, match=error) as info:
        load_task("sst2", "validation", source="local")
    assert "glue_sst2/dev.tsv" in str(info.value)


def test_an_unreadable_json_or_zip_is_an_error_naming_the_file(tmp_path, monkeypatch):
    _staged(tmp_path, monkeypatch, {"tweetqa/dev.json": b'[{"Question": "q",\n "Tweet": }]',
                                    "superglue_cb/val.jsonl": b"\n\n",
                                    "samsum/samsum.zip": b"not a zip"})
    with pytest.raises(tasks.DataFileError, match=r"tweetqa/dev.json: invalid JSON at line 2, column 11"):
        load_task("tweetqa", "validation", source="local")
    with pytest.raises(tasks.DataFileError, match=r"superglue_cb/val.jsonl: no JSON lines \(the file is empty\)"):
        load_task("cb", "validation", source="local")
    with pytest.raises(tasks.DataFileError, match=r"samsum/samsum.zip: not a zip file"):
        load_task("samsum", "validation", source="local")


def test_limit_takes_the_first_rows():
    data = load_task("rte", "train", source="local", limit=5)
    full = load_task("rte", "train", source="local")
    assert len(data) == 5 and list(data.dataset["source"]) == list(full.dataset["source"])[:5]
    with pytest.raises(ValueError, match="limit=0"):
        load_task("rte", "train", limit=0)


@pytest.mark.parametrize("name", ["xsum", "boolq"])
def test_derived_splits_are_disjoint_fixed_and_described(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MalformedRowsWarning)  # XSum's one empty document, tested above
        train, valid = (load_task(name, s, source="local") for s in ("train", "validation"))
        again = load_task(name, "validation", source="local")
    assert train.derived and "default_rng(0)" in train.derived and valid.derived == train.derived
    assert not set(list(train.dataset["source"])) & set(list(valid.dataset["source"]))
    assert list(again.dataset["source"]) == list(valid.dataset["source"])


def test_offline_errors_name_the_hub_dataset():
    for name, split, repo in [("cnn_dailymail", "validation", "abisee/cnn_dailymail"),
                              ("dolly", "train", "databricks/databricks-dolly-15k"),
                              ("qnli", "train", "nyu-mll/glue"), ("xsum", "test", "EdinburghNLP/xsum")]:
        with pytest.raises(NoLocalCopyError, match=re.escape(repo)):
            load_task(name, split, source="local")
    with pytest.raises(NoLocalCopyError, match=r"aps/super_glue.*|derive=True"):
        load_task("boolq", "train", source="local", derive=False)
    assert len(load_task("xsum", "test", source="local", derive=False, limit=3)) == 3  # the raw test rows


def test_bad_names_list_what_is_allowed(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unknown task 'nope'; known tasks: samsum, xsum, cnn_dailymail"):
        load_task("nope")
    with pytest.raises(ValueError, match=r"unknown split 'test' \(the official test split has no references\); "
                                         "allowed: train, validation"):
        load_task("rte", "test")
    with pytest.raises(ValueError, match="source='web'; allowed"):
        load_task("rte", source="web")
    monkeypatch.setenv("NASH_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(NotADirectoryError, match="NASH_DATA_DIR="):
        tasks.data_dir()


def test_registry_covers_the_paper():
    paper = [n for n in tasks.names() if tasks.get(n).kind != "derived"]
    assert set(paper) == {"samsum", "xsum", "cnn_dailymail", "tweetqa", "cola", "mrpc", "stsb", "rte",
                          "sst2", "qnli", "cb", "copa", "wic", "boolq", "dolly"}
    assert all("not the paper's task" in tasks.get(n).title for n in tasks.names() if n not in paper)
    assert tasks.get("rte").labels == ("entailment", "not_entailment")
    assert tasks.get("cola").labels == ("not_acceptable", "acceptable")
    assert [tasks.stsb_target(x) for x in (3.8, 1.3, 0.72, 0.0, 5.0)] == ["3.8", "1.2", "0.8", "0.0", "5.0"]


# ---- the hub path: datasets.load_dataset on local files, through the same code users run ----------

def _rte_rows():
    return [{"sentence1": "A man sleeps.", "sentence2": "Someone rests.", "label": 0, "idx": 0},
            {"sentence1": "It rains.", "sentence2": "It is dry.", "label": 1, "idx": 1},
            {"sentence1": "", "sentence2": "Empty premise.", "label": 0, "idx": 2},
            {"sentence1": "Odd label.", "sentence2": "x", "label": -1, "idx": 3}]


def test_hub_path_reads_through_datasets(tmp_path):
    import pandas as pd

    path = tmp_path / "validation.parquet"
    pd.DataFrame(_rte_rows()).to_parquet(path)
    task = dataclasses.replace(tasks.get("rte"), hub=HubSource("parquet", data_files={"validation": str(path)}))
    with pytest.warns(MalformedRowsWarning, match="2 malformed"):
        data = load_task(task, "validation", source="hub")
    assert data.source == "hub" and data.origin == "hub dataset 'parquet'"
    assert list(data.dataset["source"]) == ["rte sentence1: A man sleeps. sentence2: Someone rests.",
                                      "rte sentence1: It rains. sentence2: It is dry."]
    assert list(data.dataset["target"]) == ["entailment", "not_entailment"]
    assert data.malformed == [(2, "empty field 'sentence1'"), (3, "label -1 is not one of 0..1")]


def test_auto_falls_back_to_the_hub_without_a_local_copy(tmp_path, monkeypatch, caplog):
    path = tmp_path / "rte.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _rte_rows()[:2]))
    task = dataclasses.replace(tasks.get("rte"), hub=HubSource("json", data_files={"validation": str(path)}))
    monkeypatch.setenv("NASH_DATA_DIR", str(tmp_path))  # a data folder without glue_rte/
    with caplog.at_level("INFO", logger="nashlib.data.tasks"):
        data = load_task(task, "validation")
    assert data.source == "hub" and len(data) == 2 and "no local copy" in caplog.text
    monkeypatch.delenv("NASH_DATA_DIR")
    assert load_task(task, "validation").source == "local"  # the staged copy wins when present


def test_auto_reads_the_hub_when_it_answers_even_with_a_local_copy(tmp_path, monkeypatch, caplog):
    path = tmp_path / "rte.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _rte_rows()[:2]))
    task = dataclasses.replace(tasks.get("rte"), hub=HubSource("json", data_files={"validation": str(path)}))
    monkeypatch.setattr(tasks, "hub_reachable", lambda: True)  # online: the paper's real split, not the staged one
    with caplog.at_level("INFO", logger="nashlib.data.tasks"):
        data = load_task(task, "validation")
    assert data.source == "hub" and len(data) == 2 and "the hub answers" in caplog.text
    assert load_task(task, "validation", source="local").source == "local"  # asked for by name: the staged copy
    monkeypatch.setattr(tasks, "hub_reachable", lambda: False)
    assert load_task(task, "validation").source == "local"


def test_hub_reachable_is_false_offline_without_asking(monkeypatch):
    import huggingface_hub

    def no_request(*args, **kwargs):
        raise AssertionError("offline mode must not ask the network")

    monkeypatch.setattr(huggingface_hub, "get_session", no_request)
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        with monkeypatch.context() as m:
            m.setenv(var, "1")
            tasks.hub_reachable.cache_clear()
            assert tasks.hub_reachable() is False
    tasks.hub_reachable.cache_clear()


def test_hub_derivation_and_errors(tmp_path):
    path = tmp_path / "dolly.jsonl"
    rows = [{"instruction": f"Say {i}.", "context": "" if i % 2 else f"ctx {i}", "response": str(i),
             "category": "open_qa"} for i in range(10)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    hub = HubSource("json", data_files={"train": str(path)}, derive=Derived(("train",), held_out=3, seed=1))
    task = dataclasses.replace(tasks.get("dolly"), hub=hub)
    train, valid = (load_task(task, s, source="hub") for s in ("train", "validation"))
    assert (len(train), len(valid)) == (7, 3) and "holds out 3 rows" in train.derived
    assert sorted(list(train.dataset["target"]) + list(valid.dataset["target"]), key=int) == [str(i) for i in range(10)]
    assert "Say 0.\n\nctx 0" in list(train.dataset["source"]) + list(valid.dataset["source"])
    assert "Say 1." in list(train.dataset["source"]) + list(valid.dataset["source"])  # empty optional context
    broken = dataclasses.replace(task, hub=HubSource("json", data_files={"validation": str(tmp_path / "no.json")}))
    with pytest.raises(RuntimeError, match="could not load split 'validation' of the hub dataset 'json'"):
        load_task(broken, "validation", source="hub", derive=False)


def test_encode_truncates_to_profile_lengths():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    data = load_task("rte", "validation", source="local", limit=8)
    words = sorted({w for s in list(data.dataset["source"]) + list(data.dataset["target"]) for w in s.split()})
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(["<pad>", "<unk>", *words])}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>")
    enc = tasks.encode(data, tok, max_source_length=12, max_target_length=1)
    assert enc.column_names == ["input_ids", "attention_mask", "labels"] and len(enc) == 8
    assert max(map(len, enc["input_ids"])) == 12 and all(len(x) == 1 for x in enc["labels"])
    assert tok.decode(enc["labels"][0]) == list(data.dataset["target"])[0]
    with pytest.raises(ValueError, match="max_source_length=0"):
        tasks.encode(data, tok, 0, 4)


def test_samsum_turns_is_derived_from_the_dialogue():
    dialogue = "Ann: hi Bob\r\nBob: hey\r\nAnn: lunch?\r\nand a coffee\r\nBob: sure\r\nAnn: great"
    row = tasks.samsum_turns({"dialogue": dialogue, "summary": "x"})
    assert row["speaker"] in ("Ann", "Bob")
    assert row["turns"] == {"Ann": "hi Bob lunch? and a coffee", "Bob": "hey sure"}[row["speaker"]]
    assert tasks.samsum_turns({"dialogue": "no turns here", "summary": "x"}) == "no 'Name: text' turns in the dialogue"
    data = tasks.load_task("samsum_turns", "validation", limit=20)
    assert len(data) == 20 and all(s.startswith("turns of ") for s in data.dataset["source"])


def test_sst2_frequent_sorts_the_frequent_words():
    frequent = tasks.sst2_frequent_words()
    assert len(frequent) == 534  # words in at least 100 of SST-2's 67,349 training phrases
    assert {"charming", "journey", "often"} <= frequent and "affecting" not in frequent  # in 40-99 phrases
    assert not frequent & tasks.FUNCTION_WORDS
    assert all(w.isalpha() for w in frequent) and len(tasks.sst2_frequent_words(40)) == 1602
    row = tasks.sst2_frequent({"sentence": "it 's a film , charming and often affecting , a journey . film", "label": 1})
    assert row == {"sentence": "it 's a film , charming and often affecting , a journey . film",
                   "words": "charming film journey often"}  # each once, alphabetical
    assert tasks.sst2_frequent({"sentence": "it is , of all of them .", "label": 0})["words"] == "none"
    assert tasks.sst2_frequent({"sentence": "  ", "label": 0}) == "empty sentence"
    with pytest.raises(ValueError, match="min_phrases=0; allowed: an integer >= 1"):
        tasks.sst2_frequent_words(0)
    data = tasks.load_task("sst2_frequent", "validation", limit=50)
    assert len(data) == 50 and all(s.startswith("frequent words: ") for s in data.dataset["source"])
    for source, target in zip(data.dataset["source"], data.dataset["target"]):
        words = target.split()
        assert words == ["none"] or (words == sorted(set(words)) and set(words) <= set(source.split()[2:]) & frequent)


def test_sst2_content_keeps_content_words_in_order():
    row = tasks.sst2_content({"sentence": "it 's a charming and often affecting journey . ", "label": 1})
    assert row == {"sentence": "it 's a charming and often affecting journey .", "content": "charming often affecting journey"}
    assert tasks.sst2_content({"sentence": "it is , of all of them , .", "label": 0}) == "no content words in the sentence"
    data = tasks.load_task("sst2_content", "validation", limit=20)
    assert len(data) == 20 and all(s.startswith("content words: ") for s in data.dataset["source"])
    for source, target in zip(data.dataset["source"], data.dataset["target"]):
        words = source.split()[2:]
        assert [w for w in words if w in target.split()][:1] == target.split()[:1]
        assert not set(target.split()) & tasks.FUNCTION_WORDS
