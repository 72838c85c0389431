"""Strict loading of compacted models: a config or a weights file that does not fit is an error, never a silent load."""

import json
import subprocess
import sys
import warnings

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSeq2SeqLM

from nashlib import shapes
from nashlib.pruning import seal
from nashlib.pruning.compact import NashT5Config, NashT5ForConditionalGeneration, compact
from nashlib.pruning.masks import PruningMasks


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A compacted tiny T5 (some heads and FFN units pruned) saved with save_pretrained."""
    model = shapes.build_t5("tiny", seed=0)
    masks = PruningMasks(model, types=("heads", "ffn_units"), parts=("encoder", "decoder"))
    with torch.no_grad():
        for m in masks.masks.values():
            m.log_alpha.copy_(torch.randn(m.n, generator=torch.Generator().manual_seed(7)) * 2.5 + 1.0)
    small = compact(model, masks.eval())
    path = tmp_path_factory.mktemp("saved")
    small.save_pretrained(path)
    rows = small.config.nash_layout["encoder"]
    assert any(0 < len(r["self"]) < 4 for r in rows), "the fixture needs a layer with some heads pruned"
    return path


def _copy(src, dst):
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def _load(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoModelForSeq2SeqLM.from_pretrained(path, **kwargs)


def _edit_layout(path, edit):
    cfg = json.loads((path / "config.json").read_text())
    edit(cfg["nash_layout"])
    (path / "config.json").write_text(json.dumps(cfg))


def _partly_pruned(layout):
    return next(r for r in layout["encoder"] if 0 < len(r["self"]) < 4)


def test_a_saved_model_loads_strictly_and_computes_the_same(saved):
    model, info = _load(saved, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    again = _load(saved)
    ids = torch.randint(2, 500, (2, 6), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids, decoder_input_ids=ids).logits,
                           again(input_ids=ids, decoder_input_ids=ids).logits)


@pytest.mark.parametrize("edit,match", [
    (lambda l: l["encoder"][0].update(d_ff=0), "unexpected keys: encoder.block.0.layer.1"),  # FFN gone: weights left
    (lambda l: l["encoder"][1].update(d_ff=7), "saved weights do not fit the per-layer layout"),
    (lambda l: l.update(full_d_model=63), r"full_d_model=63; allowed: an integer >= 64"),
    (lambda l: l["encoder"][0].update(d_ff=-1), r"\['d_ff'\]=-1; allowed: an integer >= 0"),
    (lambda l: _partly_pruned(l).update(self=[9]), "strictly increasing head indices from 0 to 3"),
    (lambda l: _partly_pruned(l).update(self=[0, 0]), "no duplicates"),
    (lambda l: l["decoder"][0].update(cross=[3, 2, 1, 0]), r"\['cross'\]=\[3, 2, 1, 0\]; allowed: strictly increasing"),
    (lambda l: l.update(decoder=l["decoder"][:3]), "layout lists 3 decoder layers, config has 4"),
    (lambda l: l.update(decoder_full_num_heads=0), "decoder_full_num_heads=0; allowed: an integer >= 1"),
    (lambda l: l["encoder"][0].pop("self"), "allowed: a dict with exactly the keys self, d_ff"),
])
def test_a_config_that_does_not_fit_is_refused(saved, tmp_path, edit, match):
    _edit_layout(_copy(saved, tmp_path), edit)
    with pytest.raises(ValueError, match=match):
        _load(tmp_path)


def test_an_inconsistent_layout_is_refused_when_the_config_is_made(saved):
    cfg = json.loads((saved / "config.json").read_text())
    cfg["nash_layout"]["encoder"][0]["self"] = [1, 0]
    with pytest.raises(ValueError, match=r"nash_layout\['encoder'\]\[0\]\['self'\]=\[1, 0\]; allowed: strictly"):
        NashT5Config.from_dict(cfg)


@pytest.mark.parametrize("key", ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                 "decoder.block.2.layer.2.DenseReluDense.wo.weight"])
def test_a_weights_file_with_a_tensor_removed_is_refused(saved, tmp_path, key):
    _copy(saved, tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    del tensors[key]
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match=f"missing keys: {key}"):
        _load(tmp_path)


def test_a_weights_file_with_an_extra_tensor_is_refused(saved, tmp_path):
    _copy(saved, tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["encoder.block.0.layer.0.SelfAttention.extra.weight"] = torch.zeros(3, 3)
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match="unexpected keys: encoder.block.0.layer.0.SelfAttention.extra.weight"):
        _load(tmp_path)


def test_overwritten_bytes_that_are_not_finite_are_refused(saved, tmp_path):
    """Random bytes read as float32 hold NaN/inf with high probability (exponent all ones: 1/256 per value);
    finite values written in place of others cannot be told from real weights."""
    _copy(saved, tmp_path)
    file = tmp_path / "model.safetensors"
    tensors = load_file(file)
    key = "encoder.block.1.layer.1.DenseReluDense.wi.weight"
    raw = torch.randint(0, 256, (tensors[key].numel() * 4,), dtype=torch.uint8,
                        generator=torch.Generator().manual_seed(0))
    tensors[key] = raw.view(torch.float32).view_as(tensors[key]).clone()
    save_file(tensors, file, metadata={"format": "pt"})
    with pytest.raises(ValueError, match=f"weight '{key}' holds NaN or infinite values"):
        _load(tmp_path)


def _swap_kept_heads(layout):
    """Another valid choice of kept heads for a partly pruned layer: every shape stays the same."""
    row = _partly_pruned(layout)
    missing = next(h for h in range(4) if h not in row["self"])
    row["self"] = sorted(row["self"][:-1] + [missing])  # one kept head traded for a pruned one


def test_a_layout_edit_that_keeps_every_shape_is_refused(saved, tmp_path):
    """Kept heads swapped for other valid ones (or a wider full_d_model): every shape fits, the seal does not."""
    _copy(saved, tmp_path)
    before = _partly_pruned(json.loads((tmp_path / "config.json").read_text())["nash_layout"])["self"]
    _edit_layout(tmp_path, _swap_kept_heads)
    assert _partly_pruned(json.loads((tmp_path / "config.json").read_text())["nash_layout"])["self"] != before
    with pytest.raises(ValueError, match="model.safetensors: the layout in config.json .* is not the one these "
                                         "weights were saved with"):
        _load(tmp_path)
    _copy(saved, tmp_path)
    _edit_layout(tmp_path, lambda l: l.update(full_d_model=l["full_d_model"] + 8))
    with pytest.raises(ValueError, match="is not the one these weights were saved with"):
        _load(tmp_path)


def test_finite_bytes_overwritten_in_place_are_refused(saved, tmp_path):
    """Finite values written over a weight (the header and its seals kept) are caught by the data digest."""
    _copy(saved, tmp_path)
    file = tmp_path / "model.safetensors"
    with safe_open(file, "pt") as f:
        meta = f.metadata()
    tensors = load_file(file)
    tensors["decoder.block.0.layer.2.DenseReluDense.wo.weight"] *= 1.001
    save_file(tensors, file, metadata=meta)
    with pytest.raises(ValueError, match="model.safetensors: the weights' bytes changed after saving"):
        _load(tmp_path)


def test_a_weights_file_without_seals_is_refused_and_resaving_mends_it(saved, tmp_path):
    _copy(saved, tmp_path)
    file = tmp_path / "model.safetensors"
    save_file(load_file(file), file, metadata={"format": "pt"})
    with pytest.raises(ValueError, match="no nashlib seal .* re-save the model with save_pretrained"):
        _load(tmp_path)
    again = tmp_path / "again"
    NashT5ForConditionalGeneration.from_pretrained(saved).save_pretrained(again)
    with safe_open(again / "model.safetensors", "pt") as f:
        assert f.metadata()[seal.DATA_KEY] == seal.data_digest(again / "model.safetensors")
    _load(again)


def test_sharded_weights_are_sealed_and_checked(saved, tmp_path):
    model = _load(saved)
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    shards = seal.weight_files(tmp_path)
    assert len(shards) > 1
    _load(tmp_path)
    tensors = load_file(shards[-1])
    with safe_open(shards[-1], "pt") as f:
        meta = f.metadata()
    save_file({k: v + 1 for k, v in tensors.items()}, shards[-1], metadata=meta)
    with pytest.raises(ValueError, match=f"{shards[-1].name}: the weights' bytes changed"):
        _load(tmp_path)


def test_saving_as_pickle_is_refused(saved, tmp_path):
    with pytest.raises(ValueError, match="safe_serialization=False; a compacted model saves only as safetensors"):
        _load(saved).save_pretrained(tmp_path, safe_serialization=False)


def test_only_safetensors_are_read(saved, tmp_path):
    with pytest.raises(ValueError, match="use_safetensors=False; a compacted model loads only with use_safetensors=True"):
        _load(saved, use_safetensors=False)
    _copy(saved, tmp_path)
    torch.save(load_file(tmp_path / "model.safetensors"), tmp_path / "pytorch_model.bin")
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(OSError, match="model.safetensors"):
        _load(tmp_path)


def test_without_import_nashlib_the_folder_names_the_fix(saved):
    """transformers reads no plugin entry points. A saved compacted model carries ``modeling_nash.py`` and an
    ``auto_map``: without ``import nashlib`` transformers refuses with its "custom code" error pointing at the
    folder, whose shim names the fix; with ``trust_remote_code=True`` the shim imports nashlib and the model
    loads through the same strict class."""
    shim = (saved / "modeling_nash.py").read_text()
    assert "import nashlib" in shim and "trust_remote_code=True" in shim
    code = ("import sys\nfrom transformers import AutoModelForSeq2SeqLM\n"
            "try:\n    AutoModelForSeq2SeqLM.from_pretrained(sys.argv[1])\n"
            "except ValueError as e:\n    print('refused:', e)\n"
            "m = AutoModelForSeq2SeqLM.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
            "print('loaded:', type(m).__module__, type(m).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code, str(saved)], capture_output=True, text=True, timeout=180,
                         stdin=subprocess.DEVNULL)
    assert f"refused: The repository {saved} contains custom code" in out.stdout, out.stdout + out.stderr
    assert "loaded: nashlib.pruning.compact NashT5ForConditionalGeneration" in out.stdout, out.stdout + out.stderr


def test_nashlib_loader_names_the_fix_for_an_unknown_model_type(saved, tmp_path):
    _copy(saved, tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["model_type"] = "nash_t9"
    del cfg["auto_map"]  # a type no shim names either
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"model type 'nash_t9' .*`import nashlib`, which registers nash_t5, nash_bart"):
        shapes.load(str(tmp_path))
    assert isinstance(shapes.load(str(saved)), NashT5ForConditionalGeneration)
