"""Stand-ins for hub checkpoints: tiny T5s laid out as the hub's, in a local Hugging Face cache.

The ``laptop`` and ``paper`` profiles load ``t5-small`` / ``t5-base`` (and T5 v1.1) from the hub. The hub
cannot be reached here, but its conventions can be rehearsed: this module writes, for each name of
:data:`STANDINS`, a model repository as the hub serves it (``config.json`` in the checkpoint's own older
format, ``generation_config.json``, ``model.safetensors``, a SentencePiece ``spiece.model`` trained here on
the tasks' real text, and ``tokenizer.json`` where the hub repository has one) into a Hugging Face cache
folder (``models--<org>--<name>/refs/main`` and ``snapshots/<commit>/``). With ``HF_HUB_CACHE`` pointing
there and ``HF_HUB_OFFLINE=1``, ``from_pretrained("t5-small")`` resolves exactly as it would online from the
hub's cache; nothing in nashlib knows these are stand-ins. Their widths are tiny and their depths, head
counts, vocabulary conventions (pad 0, eos 1, unk 2, 100 ``<extra_id_*>`` tokens at the top, a config
vocabulary padded past the tokenizer's) and config quirks (v1.0: ReLU FFN, tied embeddings, task prefixes in
``task_specific_params``; v1.1: gated-GELU FFN, ``tie_word_embeddings: false``, no ``tokenizer.json``) are the
checkpoints'. Weights are random (seeded): the rehearsal proves the code path, not quality.

``python -m nashlib.standins build --cache DIR`` writes them (deterministically: the same bytes every time).

**Datasets.** Some of the paper profile's data exist on the hub only: Table 2's (databricks-dolly-15k and Gu et al.'s
``MiniLLM/self-inst`` / ``MiniLLM/Vicuna``), CNN/DailyMail 3.0.0 (Table 1) and QNLI's training split (Table 11).
:func:`build_datasets_cache` writes each, as :data:`DATASET_STANDINS` describes, into a ``datasets`` cache folder laid
out as ``datasets`` leaves a dataset it has loaded once online (``<org>___<name>/<config id>/0.0.0/<commit>/`` with
``dataset_info.json`` and one Arrow file per split). With ``HF_DATASETS_CACHE`` pointing there and the hub offline,
``load_dataset("databricks/databricks-dolly-15k")`` or ``load_dataset("abisee/cnn_dailymail", "3.0.0")`` reads that
copy, as it would on a user's machine after a first online load; the loader (``nashlib.data.tasks``) is the hub path
unchanged. The rows are real rows from ``NASH_DATA_DIR`` written in each repo's schema (a stand-in's content, not the
dataset's): TweetQA's questions and answers for Table 2's sets, SAMSum's dialogues and summaries as CNN/DailyMail's
articles and highlights, QNLI dev rows as its training rows; enough rows for the registry's cuts (Dolly holds out
1000).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StandIn", "STANDINS", "build_cache", "spiece_texts", "train_spiece", "DatasetStandIn",
           "DATASET_STANDINS", "build_datasets_cache"]

PIECES = 1000  # SentencePiece vocabulary of every stand-in; + 100 extra ids = 1100 tokens; configs say 1152
EXTRA_IDS = 100


@dataclass(frozen=True)
class StandIn:
    """One hub repository's layout at a tiny width."""

    name: str  # the hub name users pass to from_pretrained
    v11: bool  # T5 v1.1 (gated-GELU, untied LM head, no tokenizer.json on the hub) or v1.0
    num_layers: int  # as the real checkpoint
    num_heads: int  # as the real checkpoint
    d_kv: int = 4  # tiny (the real: 64)
    d_ff: int = 64  # tiny
    seed: int = 0
    decoder_layers: int | None = None  # Tay et al.'s DL variants (t5-efficient-base-dl*): a decoder of its own depth

    @property
    def d_model(self) -> int:
        return self.num_heads * self.d_kv


STANDINS = {s.name: s for s in (
    StandIn("t5-small", v11=False, num_layers=6, num_heads=8),
    StandIn("google-t5/t5-small", v11=False, num_layers=6, num_heads=8),
    StandIn("t5-base", v11=False, num_layers=12, num_heads=12, seed=1),
    StandIn("google-t5/t5-base", v11=False, num_layers=12, num_heads=12, seed=1),
    StandIn("google/t5-v1_1-small", v11=True, num_layers=8, num_heads=6, d_ff=48, seed=2),
    *(StandIn(f"google/t5-efficient-base-dl{d}", v11=False, num_layers=12, num_heads=12, seed=10 + d,
              decoder_layers=d) for d in (2, 4, 6, 8)),  # Table 10's shallow-decoder checkpoints
)}

_V10_TASKS = {  # t5-small's and t5-base's task_specific_params, as on the hub
    "summarization": {"early_stopping": True, "length_penalty": 2.0, "max_length": 200, "min_length": 30,
                      "no_repeat_ngram_size": 3, "num_beams": 4, "prefix": "summarize: "},
    "translation_en_to_de": {"early_stopping": True, "max_length": 300, "num_beams": 4,
                             "prefix": "translate English to German: "},
}


def spiece_texts(limit: int = 3000) -> list[str]:
    """Real text of the tasks the profiles use (SAMSum, TweetQA, SST-2 from ``NASH_DATA_DIR``), with prefixes."""
    from nashlib.data import tasks

    texts = []
    for name in ("samsum", "tweetqa", "sst2"):
        data = tasks.load_task(name, "train", limit=limit, source="local")
        texts += list(data.dataset["source"]) + list(data.dataset["target"])
    return texts


def train_spiece(texts: list[str], pieces: int = PIECES) -> bytes:
    """A Unigram SentencePiece model with T5's ids (pad 0, eos 1, unk 2, no bos), trained on one thread."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=buffer, vocab_size=pieces, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        character_coverage=0.9995, num_threads=1, minloglevel=2)
    return buffer.getvalue()


def _config(s: StandIn) -> dict:
    """``config.json`` as the hub repository has it (older keys included: transformers must read them)."""
    cfg = {"architectures": ["T5ForConditionalGeneration"], "d_ff": s.d_ff, "d_kv": s.d_kv, "d_model": s.d_model,
           "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1, "initializer_factor": 1.0,
           "is_encoder_decoder": True, "layer_norm_epsilon": 1e-06, "model_type": "t5", "num_heads": s.num_heads,
           "num_layers": s.num_layers, "pad_token_id": 0, "relative_attention_num_buckets": 32,
           "vocab_size": PIECES + EXTRA_IDS + 52}
    if s.decoder_layers is not None:  # the t5-efficient configs: 4.17-era keys, no task prefixes
        return cfg | {"feed_forward_proj": "relu", "n_positions": 512, "num_decoder_layers": s.decoder_layers,
                      "torch_dtype": "float32", "transformers_version": "4.17.0.dev0", "use_cache": True}
    if s.v11:
        return cfg | {"feed_forward_proj": "gated-gelu", "num_decoder_layers": s.num_layers,
                      "tie_word_embeddings": False, "output_past": True, "transformers_version": "4.10.0.dev0"}
    return cfg | {"n_positions": 512, "output_past": True, "task_specific_params": _V10_TASKS,
                  "transformers_version": "4.27.0.dev0"}


def _weights(s: StandIn, cfg: dict) -> bytes:
    """``model.safetensors``: seeded random weights; v1.1's LM head is its own tensor (untied on the hub)."""
    import torch
    from safetensors.torch import save
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(s.seed)
    model = T5ForConditionalGeneration(T5Config(**{k: v for k, v in cfg.items() if k != "architectures"}))
    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    if s.v11:
        tensors["lm_head.weight"] = torch.randn(tensors["shared.weight"].shape, generator=torch.Generator()
                                                .manual_seed(s.seed + 100)) * 0.05
    else:
        tensors.pop("lm_head.weight", None)  # tied to shared.weight
    return save(tensors, metadata={"format": "pt"})


def _tokenizer_files(s: StandIn, spiece: bytes) -> dict[str, bytes]:
    special = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
               "additional_special_tokens": [f"<extra_id_{i}>" for i in range(EXTRA_IDS)]}
    files = {"spiece.model": spiece}
    if s.v11:  # the v1.1 repositories ship the SentencePiece model and two small JSON files, no tokenizer.json
        files["special_tokens_map.json"] = json.dumps(special).encode()
        files["tokenizer_config.json"] = json.dumps(special | {"extra_ids": EXTRA_IDS, "model_max_length": 512,
                                                               "tokenizer_class": "T5Tokenizer"}).encode()
        return files
    from transformers import T5Tokenizer

    with tempfile.TemporaryDirectory() as tmp:  # tokenizer.json as transformers converts spiece.model
        (Path(tmp) / "spiece.model").write_bytes(spiece)
        tok = T5Tokenizer.from_pretrained(tmp, extra_ids=EXTRA_IDS, model_max_length=512)
        files["tokenizer.json"] = tok.backend_tokenizer.to_str().encode()
    return files


def _repository(s: StandIn, spiece: bytes) -> dict[str, bytes]:
    cfg = _config(s)
    generation = {"decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0,
                  "transformers_version": cfg["transformers_version"]}
    return {"config.json": json.dumps(cfg, indent=2).encode(), "generation_config.json": json.dumps(generation).encode(),
            "model.safetensors": _weights(s, cfg), **_tokenizer_files(s, spiece)}


def build_cache(cache: str | os.PathLike, names: list[str] | None = None, *, texts: list[str] | None = None) -> Path:
    """Write the stand-ins ``names`` (default: all) into the Hugging Face cache folder ``cache``; returns it.

    Each repository's commit is the SHA-1 of its files, so rebuilding gives the same folders; an existing
    snapshot is replaced whole (written beside, then renamed).
    """
    unknown = sorted(set(names or []) - set(STANDINS))
    if unknown:
        raise ValueError(f"names={unknown}; allowed: {', '.join(STANDINS)}")
    cache = Path(cache)
    spiece = train_spiece(texts if texts is not None else spiece_texts())
    for name in names or list(STANDINS):
        files = _repository(STANDINS[name], spiece)
        commit = hashlib.sha1(b"".join(hashlib.sha256(files[k]).digest() for k in sorted(files))).hexdigest()
        repo = cache / f"models--{name.replace('/', '--')}"
        snapshot = repo / "snapshots" / commit
        if not snapshot.exists():
            tmp = repo / "snapshots" / f".{commit}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for fname, data in files.items():
                (tmp / fname).write_bytes(data)
            os.replace(tmp, snapshot)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    return cache


@dataclass(frozen=True)
class DatasetStandIn:
    """One hub dataset as a ``datasets`` cache holds it: the repo, its splits, and its rows' schema."""

    task: str  # whose HubSource (repo, config, data_files, split names) the loader passes: "dolly", "cnn_dailymail"
    splits: tuple[tuple[str, int], ...]  # (our split name, rows the stand-in holds), each its own rows
    schema: tuple[str, str, str] = ("", "", "")  # the repo's (source, context, target) columns; context "" if none
    extra: tuple[tuple[str, str], ...] = ()  # constant columns the repo also has
    offset: int = 0  # the first real row used (each stand-in its own rows)
    rows_from: str = "tweetqa"  # the local task whose real rows fill it
    strip: str = ""  # taken off the front of each source (the template's own prefix, e.g. "summarize: ")
    raw: str = ""  # a split of the task's own local files whose rows are copied as they are (schema unused)


DATASET_STANDINS = (  # Dolly: the registry holds 1000 of "train" out, so the stand-in needs more than that
    DatasetStandIn("dolly", (("validation", 1100),), ("instruction", "context", "response"), (("category", "open_qa"),)),
    DatasetStandIn("self_instruct", (("validation", 40),), ("instruction", "input", "output"), (("prompt", ""),), 1100),
    DatasetStandIn("vicuna", (("validation", 20),), ("instruction", "input", "output"), (("prompt", ""),), 1140),
    # QNLI's training split (Table 11) is not staged locally: rows of its local dev file as they are, from row
    # 1000 on (the rehearsal scores the first few dev rows)
    DatasetStandIn("qnli", (("train", 96),), offset=1000, raw="validation"),
    # CNN/DailyMail 3.0.0 (Table 1; the paper profile's teacher): SAMSum's dialogues and summaries in its schema
    DatasetStandIn("cnn_dailymail", (("train", 96), ("validation", 24), ("test", 24)), ("article", "", "highlights"),
                   (("id", "stand-in"),), rows_from="samsum", strip="summarize: "),
)


def _dataset_task(name: str):
    from nashlib.data import tasks
    from nashlib.experiments import instruct_sets

    extra = {t.name: t for t in (instruct_sets.SELF_INSTRUCT, instruct_sets.VICUNA)}
    return extra[name] if name in extra else tasks.get(name)


def _dataset_rows(d: DatasetStandIn) -> dict[str, bytes]:
    """Per split, JSON lines in the repo's schema from ``d.rows_from``'s real training rows (consecutive slices)."""
    from nashlib.data import tasks

    total = sum(n for _, n in d.splits)
    if d.raw:  # the loader's own reading of the local file (a test-support module may use tasks' internals)
        task, root = tasks.get(d.task), tasks.data_dir()
        plan, why = tasks._local_plan(task, d.raw, root, False)
        if plan is None:
            raise ValueError(f"dataset stand-in {d.task!r}: no local {d.raw!r} split ({why})")
        rows = list(tasks._load_local(task, d.raw, root, plan)[0])[d.offset:d.offset + total]
    else:
        data = tasks.load_task(d.rows_from, "train", limit=d.offset + total + 50, source="local").dataset
        source, context, target = d.schema
        rows = [{source: src.removeprefix(d.strip), **({context: ""} if context else {}), target: tgt,
                 **dict(d.extra)} for src, tgt in zip(data["source"], data["target"])][d.offset:d.offset + total]
    if len(rows) < total:
        raise ValueError(f"dataset stand-in {d.task!r}: {len(rows)} rows; needs {total}")
    out, start = {}, 0
    for split, n in d.splits:
        out[split] = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows[start:start + n]).encode()
        start += n
    return out


def build_datasets_cache(cache: str | os.PathLike, standins: tuple[DatasetStandIn, ...] = DATASET_STANDINS) -> Path:
    """Write each dataset stand-in into the ``datasets`` cache folder ``cache`` (use it as ``HF_DATASETS_CACHE``).

    The folder of a repo loaded with ``data_files`` is named by ``datasets``' own config id of those files, one
    loaded by config name (CNN/DailyMail's "3.0.0") by that name, so the loader's call finds it; the commit is the
    SHA-1 of the rows. An existing copy is replaced whole.
    """
    import datasets
    from datasets.naming import camelcase_to_snakecase
    from datasets.packaged_modules.json.json import Json

    cache = Path(cache)
    for d in standins:
        hub = _dataset_task(d.task).hub
        texts = {}
        for split, text in _dataset_rows(d).items():  # by the repo's split names (a derived task: its one pool)
            split = hub.derive.pool[0] if hub.derive else split
            texts[(hub.splits or {}).get(split, split)] = text
        commit = hashlib.sha1(b"".join(texts[k] for k in sorted(texts))).hexdigest()
        org, name = hub.repo.split("/")
        config = (hub.config or "default") if hub.data_files is None else \
            datasets.BuilderConfig("default").create_config_id(config_kwargs={"data_files": hub.data_files})
        final = cache / f"{org}___{camelcase_to_snakecase(name)}" / config / "0.0.0" / commit
        with tempfile.TemporaryDirectory() as tmp:
            files = {}
            for split, text in texts.items():
                files[split] = [str(Path(tmp) / f"{split}.jsonl")]
                Path(files[split][0]).write_bytes(text)
            builder = Json(cache_dir=str(Path(tmp) / "build"), dataset_name=name, hash=commit, data_files=files,
                           config_name="default" if hub.data_files else config)  # datasets checks the info's name
            builder.download_and_prepare()
            staged = final.parent / f".{commit}.{os.getpid()}.tmp"
            shutil.rmtree(staged, ignore_errors=True)
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(builder.cache_dir, staged)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staged, final)
    return cache


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nashlib.standins", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write the stand-ins into a Hugging Face cache folder")
    build.add_argument("--cache", required=True, help="the folder; then run with HF_HUB_CACHE=<it> HF_HUB_OFFLINE=1")
    build.add_argument("--names", nargs="*", default=None, help=f"default: all of {', '.join(STANDINS)}")
    build.add_argument("--datasets-cache", default=None,
                       help="also write the stand-ins of the hub-only datasets there (Table 2's, CNN/DailyMail, "
                            "QNLI's train split); run with HF_DATASETS_CACHE=<it>")
    args = parser.parse_args(argv)
    print(build_cache(args.cache, args.names))
    if args.datasets_cache:
        print(build_datasets_cache(args.datasets_cache))


if __name__ == "__main__":
    main()
