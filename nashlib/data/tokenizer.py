"""Tokenizers of the from-scratch teachers: a SentencePiece Unigram vocabulary (like T5's), trained reproducibly.

Why SentencePiece's trainer and not ``tokenizers``' ``UnigramTrainer``: the latter keeps word counts and
seed pieces in Rust hash maps whose iteration order is randomised per map (``AHashMap``), and pieces of
equal score keep that order when sorted and pruned. So three calls on the same texts, in one process,
give three vocabularies; neither ``TOKENIZERS_PARALLELISM=false`` nor ``RAYON_NUM_THREADS=1`` helps
(measured: 3 calls, 3 hashes, with and without them). ``sentencepiece``'s trainer with ``num_threads=1``,
no input sampling and no shuffling is a pure function of the texts (the EM sums run in one fixed order).

Its pieces and scores are then put into a ``tokenizers`` Unigram model with the same normaliser and
pre-tokeniser as before, wrapped as a ``PreTrainedTokenizerFast``: ``save_pretrained`` writes
``tokenizer.json``, and :func:`load_tokenizer` (``AutoTokenizer``) reads it back; ``sentencepiece`` is
needed to train only, never to load.
"""

from __future__ import annotations

import io

__all__ = ["SPECIALS", "LINE_BREAK", "train_tokenizer", "load_tokenizer"]

SPECIALS = ("<pad>", "</s>", "<unk>")  # ids 0, 1, 2, as in T5
LINE_BREAK = "\n"  # a piece of its own (id 3): dialogues are line-structured


def _pipeline():
    """The empty Unigram tokenizer's text pipeline: NFKC, line breaks without spaces around them, then
    line breaks isolated and spaces turned into ``▁`` (prepended to each word, SentencePiece's convention)."""
    from tokenizers import Regex, normalizers, pre_tokenizers

    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(r"[ \t]*\r?\n[ \t]*"), "\n")])
    pre = pre_tokenizers.Sequence([pre_tokenizers.Split(LINE_BREAK, "isolated"), pre_tokenizers.Metaspace()])
    return normalizer, pre


def _check(texts, vocab_size) -> list[str]:
    if isinstance(texts, str) or not hasattr(texts, "__iter__"):
        raise TypeError(f"texts must be a list of strings, not {type(texts).__name__}")
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"texts[{bad}] is {texts[bad]!r} ({type(texts[bad]).__name__}); allowed: strings")
    if not any(t.strip() for t in texts):
        raise ValueError(f"texts hold no non-blank text ({len(texts)} given); a vocabulary needs some")
    if not isinstance(vocab_size, int) or isinstance(vocab_size, bool) or vocab_size < 16:
        raise ValueError(f"vocab_size={vocab_size!r}; allowed: an integer >= 16")
    return texts


def _sentencepiece_pieces(lines: list[str], vocab_size: int) -> list[tuple[str, float]]:
    """``(piece, score)`` by id from SentencePiece's Unigram trainer: deterministic (one thread, every line)."""
    try:
        import sentencepiece as spm
    except ImportError as err:
        raise ImportError("training a from-scratch tokenizer needs the 'sentencepiece' package "
                          "(pip install sentencepiece); loading a saved one does not") from err
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="unigram", vocab_size=vocab_size,
        hard_vocab_limit=False,  # a small text may hold fewer pieces than asked for
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, user_defined_symbols=[LINE_BREAK],
        character_coverage=1.0, normalization_rule_name="identity",  # normalised before, by _pipeline
        remove_extra_whitespaces=False, add_dummy_prefix=True, split_by_whitespace=True,
        num_threads=1, input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return [(sp.id_to_piece(i), 0.0 if sp.is_control(i) or sp.is_unknown(i) else float(sp.get_score(i)))
            for i in range(sp.get_piece_size())]


def train_tokenizer(texts: list[str], vocab_size: int):
    """A Unigram tokenizer trained on ``texts``; the same texts give the same vocabulary, bit for bit.

    ``<pad>`` is id 0, ``</s>`` id 1 (appended to every encoded text), ``<unk>`` id 2, as in T5;
    a line break is id 3, its own piece. At most ``vocab_size`` pieces (fewer when the texts are small).
    """
    from tokenizers import Tokenizer, decoders, models, processors
    from transformers import PreTrainedTokenizerFast

    texts = _check(texts, vocab_size)
    normalizer, pre = _pipeline()
    # SentencePiece sees what the pipeline would: normalised text, one line per sentence
    lines = [line for t in texts for line in normalizer.normalize_str(t).split(LINE_BREAK) if line.strip()]
    chars = set("".join(lines).replace(" ", "▁")) | {"▁"}  # every character is a piece of its own
    if vocab_size < len(chars) + len(SPECIALS) + 1:
        raise ValueError(f"vocab_size={vocab_size} is below the {len(chars)} characters of the texts + "
                         f"{len(SPECIALS) + 1} special pieces; allowed: >= {len(chars) + len(SPECIALS) + 1}")
    pieces = _sentencepiece_pieces(lines, vocab_size)
    tok = Tokenizer(models.Unigram(pieces, unk_id=2, byte_fallback=False))
    tok.normalizer, tok.pre_tokenizer, tok.decoder = normalizer, pre, decoders.Metaspace()
    tok.add_special_tokens(list(SPECIALS))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    ids = (fast.pad_token_id, fast.eos_token_id, fast.unk_token_id, fast.convert_tokens_to_ids(LINE_BREAK))
    if ids != (0, 1, 2, 3):
        raise RuntimeError(f"trained tokenizer has <pad>, </s>, <unk>, line break at ids {ids}, not (0, 1, 2, 3)")
    return fast


def load_tokenizer(name_or_path: str):
    """``AutoTokenizer.from_pretrained`` with an error that says what to do offline."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as err:
        raise OSError(f"could not load the tokenizer of {name_or_path!r} from a folder or the Hugging Face hub "
                      f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). Without "
                      "internet, pass a folder written by save_pretrained (model and tokenizer), or use the "
                      "'cpu' profile, whose teachers are trained here from scratch.") from err
