import json
import re
import warnings

import pytest
import torch

from _tiny import random_batches as _batches
from nashlib import shapes as models
from nashlib.pruning.compact import NashT5ForConditionalGeneration
from nashlib.pruning.prune import PruneConfig, PruneReport, prune, run_folder


@pytest.fixture(scope="module")
def teacher():
    return models.build_t5("tiny", seed=0).eval()




# a tiny model on random tokens: a short warm-up, then time for the multipliers to settle
FAST = dict(steps=300, warmup_steps=100, lr=1e-4, checkpoint_every=0)


def test_nash_prunes_the_encoder_and_drops_decoder_layers(teacher, tmp_path):  # target: test_controller.py
    cfg = PruneConfig(method="nash", target_sparsity=0.3, decoder_layers=2, mask_lr=0.1, reg_lr=0.1, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prune(teacher, _batches(), cfg, tmp_path, progress=False)
    rep = result.report
    assert rep.encoder_actual > 0.1 and rep.reached == rep.encoder_actual and rep.scope == "encoder", rep
    assert rep.missed == (abs(rep.reached - 0.3) > rep.tolerance)
    assert rep.decoder_actual == pytest.approx(0.5)  # 2 of 4 decoder layers kept, nothing else pruned
    assert result.decoder_map == [0, 3]
    assert isinstance(result.model, NashT5ForConditionalGeneration)
    assert len(result.model.decoder.block) == 2
    saved = json.loads((run_folder(cfg, tmp_path) / "report.json").read_text())
    assert PruneReport.from_json(saved) == rep and saved["encoder_actual"] == rep.encoder_actual


def test_cofi_reaches_the_whole_model_target(teacher, tmp_path):
    cfg = PruneConfig(method="cofi", target_sparsity=0.5, mask_lr=0.2, reg_lr=0.2, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prune(teacher, _batches(), cfg, tmp_path, progress=False)
    assert abs(result.report.model_actual - 0.5) <= 0.02, result.report


@pytest.mark.parametrize("method, target", [("cofi-encoder", 0.4), ("cofi-encoder-width", 0.4),
                                            ("cofi-decoder", 0.6), ("cofi-decoder-width", 0.6)])
def test_cofi_on_one_part_prunes_that_part_only(teacher, tmp_path, method, target):
    """Figure 2's sweeps: CoFi-T5 on the encoder or the decoder alone reaches the part's target, leaves the other
    part whole, and learns whole sub-layer masks (depth) only when asked to."""
    part = method.split("-")[1]
    other = {"encoder": "decoder", "decoder": "encoder"}[part]
    cfg = PruneConfig(method=method, target_sparsity=target, decoder_layers=None, mask_lr=0.2, reg_lr=0.2,
                      steps=150, warmup_steps=50, lr=1e-4, checkpoint_every=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prune(teacher, _batches(), cfg, tmp_path, progress=False)
    rep = result.report
    # whole sub-layers of the tiny model are large steps of sparsity: near the target, and a miss says so
    assert rep.scope == part and abs(getattr(rep, f"{part}_actual") - target) <= 0.05, rep
    assert rep.missed == (abs(rep.reached - target) > rep.tolerance)
    assert rep.reached == getattr(rep, f"{part}_actual") and getattr(rep, f"{other}_actual") == 0.0
    assert all(k.startswith(part) for k in result.masks.masks)
    assert any(k.endswith("_layer") for k in result.masks.masks) == (not method.endswith("-width"))
    x = _batches()(0)
    out = result.model.generate(input_ids=x["input_ids"], attention_mask=x["attention_mask"], max_new_tokens=3)
    assert out.shape[0] == x["input_ids"].shape[0]


def test_interrupted_and_resumed_equals_uninterrupted(teacher, tmp_path):
    cfg = PruneConfig(method="nash", target_sparsity=0.3, decoder_layers=2, steps=12, warmup_steps=6,
                      mask_lr=0.1, reg_lr=0.1, checkpoint_every=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = prune(teacher, _batches(), cfg, tmp_path / "a", progress=False)
        assert prune(teacher, _batches(), cfg, tmp_path / "b", stop_after=6, progress=False) is None
        run = run_folder(cfg, tmp_path / "b")
        assert (run / "checkpoint" / "progress.json").exists() and not (run / "checkpoint.tmp").exists()
        resumed = prune(teacher, _batches(), cfg, tmp_path / "b", progress=False)
    assert len(resumed.history) == 12
    for key, m in whole.masks.masks.items():
        assert torch.equal(m.log_alpha, resumed.masks.masks[key].log_alpha), key
    assert whole.history[-1]["loss"] == resumed.history[-1]["loss"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(target_sparsity=1.0), "target_sparsity=1.0; allowed: 0 <= target < 1"),
    (dict(target_sparsity=True), "target_sparsity=True"),
    (dict(method="movement"), "method='movement'; allowed: 'nash', 'cofi'"),
    (dict(selection="middle"), "selection='middle'; allowed: 'uniform'"),
    (dict(steps=0), "steps=0; allowed: an integer >= 1"),
    (dict(warmup_steps=300), "warmup_steps=300; allowed: an integer from 0 to steps=200"),
    *[(dict(decoder_layers=v), f"decoder_layers={v!r}; allowed: None or an integer >= 1")
      for v in (0, -1, 2.5, "3", True)],
    (dict(encoder_layers=0), "encoder_layers=0; allowed"),
    (dict(method="cofi", encoder_layers=2), "encoder_layers=2; allowed: None with method='cofi'"),
    (dict(selection="l0", decoder_layers=0), "decoder_layers=0"),
    (dict(lr=float("nan")), "lr=nan; allowed: a finite number >= 0"),
    (dict(mask_lr=-1.0), "mask_lr=-1.0"),
    (dict(reg_lr="0.01"), "reg_lr='0.01'"),
    (dict(temperature=0), "temperature=0; allowed: None or a finite number > 0"),
    (dict(seed="a"), "seed='a'; allowed: an integer >= 0"),
    (dict(droprate_init=1.0), "droprate_init=1.0"),
    (dict(checkpoint_every=-1), "checkpoint_every=-1"),
    (dict(mixed_precision="fp8"), "mixed_precision='fp8'; allowed: 'no', 'fp16', 'bf16'"),
    (dict(mask_init="zeros"), "mask_init='zeros'; allowed: 'released', 'droprate'"),
    (dict(eval_mask="layer"), "eval_mask='layer'; allowed: 'per_layer', 'global'"),
    (dict(distill="kd"), "distill='kd'; allowed: 'paper', 'released', 'none'"),
    (dict(layer_loss=1), "layer_loss=1; allowed: True or False"),
    (dict(high_bias="keep"), "high_bias='keep'; allowed: 'move', 'zero'"),
    (dict(tolerance=0), "tolerance=0; allowed: 0 < tolerance < 1"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        PruneConfig(**kwargs)


def test_distill_none_has_no_layer_loss():
    assert PruneConfig(distill="none").layer_loss is False
    assert PruneConfig(distill="none") == PruneConfig(distill="none", layer_loss=False)
    assert PruneConfig().distill == "paper" and PruneConfig().layer_loss and PruneConfig().high_bias == "move"


@pytest.mark.parametrize("kwargs,match", [(dict(decoder_layers=99), "decoder_layers=99; allowed: None or 1 to 4, "
                                                                   "the teacher's decoder layers"),
                                          (dict(encoder_layers=99), "encoder_layers=99; allowed: None or 1 to 4, "
                                                                    "the teacher's encoder layers")])
def test_too_many_layers_fail_before_any_folder(teacher, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        prune(teacher, _batches(), PruneConfig(**kwargs), tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("distill,layer_loss,terms", [("released", True, {"kl", "hidden_enc"}),
                                                      ("paper", False, {"kl", "hidden_enc"}),
                                                      ("none", False, {"ce"})])
def test_distillation_variants_train(teacher, tmp_path, distill, layer_loss, terms):
    cfg = PruneConfig(decoder_layers=2, steps=2, warmup_steps=1, checkpoint_every=0, distill=distill,
                      layer_loss=layer_loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = prune(teacher, _batches(), cfg, tmp_path, progress=False).history
    assert terms <= set(rows[-1]) and rows[-1]["loss"] > 0
    if distill == "paper" and not layer_loss:  # the layer loss is traced but not trained
        assert rows[0]["loss"] == pytest.approx(rows[0]["kl"])
    if distill == "released":
        assert rows[0]["loss"] == pytest.approx(0.5 * rows[0]["kl"] + 1e-3 * (rows[0]["hidden_enc"] +
                                                                               rows[0]["hidden_dec"]))


def test_high_selection_with_zero_bias_prunes(teacher, tmp_path):
    cfg = PruneConfig(decoder_layers=2, selection="high", high_bias="zero", steps=2, warmup_steps=1,
                      checkpoint_every=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prune(teacher, _batches(), cfg, tmp_path, progress=False)
    table = result.model.decoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight
    assert result.decoder_map == [2, 3] and float(table.detach().abs().max()) == 0.0


def test_pipeline_select_prune_compact_finetune_save_load(teacher, tmp_path):
    from transformers import AutoModelForSeq2SeqLM

    from nashlib.training.finetune import FinetuneConfig, finetune

    batches = _batches()
    cfg = PruneConfig(method="nash", target_sparsity=0.3, decoder_layers=2, steps=20, warmup_steps=10,
                      mask_lr=0.1, reg_lr=0.1, checkpoint_every=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prune(teacher, batches, cfg, tmp_path, progress=False)
        small = result.model
        before = [p.detach().clone() for p in small.parameters()]
        history = finetune(small, batches, FinetuneConfig(steps=6, lr=1e-3, distill_weight=0.5, checkpoint_every=3),
                           tmp_path, teacher=teacher, progress=False)
        assert len(history) == 6 and all("kl" in row and row["loss"] > 0 for row in history)
        assert any(not torch.equal(a, b) for a, b in zip(before, small.parameters()))
        small.save_pretrained(tmp_path / "model")
        loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "model")
    ids = batches(0)["input_ids"]
    assert torch.equal(loaded.generate(input_ids=ids, num_beams=4, max_new_tokens=5),
                       small.generate(input_ids=ids, num_beams=4, max_new_tokens=5))
    with pytest.raises(ValueError, match="distill_weight=0.5 needs a teacher"):
        finetune(small, batches, FinetuneConfig(distill_weight=0.5), tmp_path)


def test_checkpoint_whose_layout_does_not_match_its_weights(teacher, tmp_path):
    from transformers import AutoModelForSeq2SeqLM

    from nashlib.pruning.compact import compact

    compact(teacher).save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["nash_layout"]["encoder"][0]["d_ff"] = 7  # the weights still have 256 units
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    before = sorted(p.name for p in tmp_path.iterdir())
    with warnings.catch_warnings(), pytest.raises(ValueError, match="saved weights do not fit the per-layer layout"):
        warnings.simplefilter("ignore")
        AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_learned_layer_selection_keeps_the_asked_number_of_layers(teacher, tmp_path):
    cfg = PruneConfig(method="nash", selection="l0", decoder_layers=2, target_sparsity=0.3, mask_lr=0.1,
                      reg_lr=0.1, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = prune(teacher, _batches(), cfg, tmp_path, progress=False)
    rep = result.report
    assert rep.decoder_layers_hit_target, rep
    assert len(result.model.decoder.block) == 2 and result.decoder_map == rep.decoder_layers_kept
    assert abs(rep.encoder_actual - 0.3) <= 0.02, rep
    assert {"layer_target", "expected_decoder_layers", "layer_lambda_1"} <= set(result.history[-1])
    with pytest.raises(ValueError, match="selection='l0' learns which decoder layers NASH keeps"):
        PruneConfig(method="cofi", selection="l0")


def test_sparsity_constraints_give_their_penalty_and_trace(teacher):
    from nashlib.pruning import constraints
    from nashlib.pruning.masks import PruningMasks
    from nashlib.pruning.prune import METHODS

    masks = PruningMasks(teacher, types=("heads", "ffn_units"), parts=("encoder",))
    c = constraints.encoder_sparsity(masks, 0.4, warmup_steps=4)
    with torch.no_grad():
        c.lagrangian.lambda_1.fill_(0.5)
        c.lagrangian.lambda_2.fill_(2.0)
    s = float(masks.expected_sparsity("encoder").detach())
    penalty = c.penalty(2)  # half-way through the warm-up: target 0.2
    gap = s - 0.2
    assert float(penalty) == pytest.approx(0.5 * gap + 2.0 * gap ** 2)
    assert c.trace() == pytest.approx({"target": 0.2, "expected_sparsity": s, "lambda_1": 0.5, "lambda_2": 2.0,
                                       "deterministic_sparsity": masks.sparsity_report()["encoder_actual"]})
    penalty.backward()
    assert masks.masks["encoder_self_heads"].log_alpha.grad.abs().sum() > 0
    assert c.finish(teacher, [0, 1]) == (teacher, [0, 1]) and c.report() == {}
    whole = PruningMasks(teacher, types=METHODS["cofi"]["types"], parts=("encoder", "decoder"))
    m = constraints.model_sparsity(whole, 0.5, warmup_steps=0)
    assert float(m.penalty(0)) == 0.0  # multipliers start at 0
    expected = float(whole.expected_sparsity("model").detach())
    assert m.trace() == pytest.approx({"target": 0.5, "expected_sparsity": expected, "lambda_1": 0.0, "lambda_2": 0.0,
                                       "deterministic_sparsity": whole.sparsity_report()["model_actual"]})


def test_layer_count_constraint_keeps_the_open_layers(teacher):
    from nashlib.pruning import constraints
    from nashlib.pruning.masks import PruningMasks

    layers = PruningMasks(teacher, types=("layer",), parts=("decoder",))
    c = constraints.LayerCount(layers, keep=2, warmup_steps=0)
    with torch.no_grad():
        layers.masks["decoder_layer"].log_alpha.copy_(torch.tensor([4.0, -4.0, 4.0, -4.0]))
        c.lagrangian.lambda_1.fill_(1.0)
    kept = float(layers.expected_layers("decoder").detach())
    assert float(c.penalty(0)) == pytest.approx((1 - kept / 4) - 0.5)
    assert c.trace() == pytest.approx({"layer_target": 0.5, "dropped_layers_share": 1 - kept / 4,
                                       "layer_lambda_1": 1.0, "layer_lambda_2": 0.0, "expected_decoder_layers": kept,
                                       "deterministic_dropped_layers_share": 0.5})  # layers 1 and 3 closed
    student, decoder_map = c.finish(teacher, [0, 1, 2, 3])
    assert decoder_map == [0, 2] and len(student.decoder.block) == 2 and len(teacher.decoder.block) == 4
    assert c.report() == {"decoder_layers_kept": [0, 2], "decoder_layers_target": 2, "decoder_layers_hit_target": True}


@pytest.mark.parametrize("kwargs,match", [(dict(steps=0), "steps=0; allowed: an integer >= 1"),
                                          (dict(lr=float("nan")), "lr=nan; allowed: a finite number >= 0"),
                                          (dict(temperature=0), "temperature=0; allowed: a finite number > 0"),
                                          (dict(seed="a"), "seed='a'"), (dict(steps=True), "steps=True"),
                                          (dict(distill_weight=-1), "distill_weight=-1"),
                                          (dict(schedule="cosine"), "schedule='cosine'; allowed: 'constant', 'linear'"),
                                          (dict(warmup_steps=200), "warmup_steps=200"),
                                          (dict(mixed_precision="fp8"), "mixed_precision='fp8'"),
                                          (dict(checkpoint_every=1.5), "checkpoint_every=1.5")])
def test_bad_finetune_config(kwargs, match):
    from nashlib.training.finetune import FinetuneConfig

    with pytest.raises(ValueError, match=re.escape(f"FinetuneConfig: {match}")):
        FinetuneConfig(**kwargs)


# --- select="at_target": keep the latest on-target snapshot ------------------------------------------------

SELECT = dict(method="nash", target_sparsity=0.3, decoder_layers=2, steps=80, warmup_steps=40, mask_lr=0.1,
              reg_lr=0.1, lr=1e-4, select="at_target", select_every=5, checkpoint_every=20)


def test_at_target_keeps_a_step_whose_deterministic_sparsity_is_on_target(teacher, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        last = prune(teacher, _batches(), PruneConfig(**{**SELECT, "select": "last"}), tmp_path / "last",
                     progress=False)
        sel = prune(teacher, _batches(), PruneConfig(**SELECT), tmp_path / "sel", progress=False)
    assert last.report.selected_step is None and sel.history == last.history  # selection only reads the run
    rows = {r["step"]: r["deterministic_sparsity"] for r in sel.history}
    on_target = [s for s, v in rows.items() if s >= 40 and (s % 5 == 0 or s == 80) and abs(v - 0.3) <= 0.01]
    step = sel.report.selected_step
    if on_target:  # the checked step closest to the target is kept (the later on a tie); the report measures it
        best = min(abs(rows[s] - 0.3) for s in on_target)
        assert step == max(s for s in on_target if abs(rows[s] - 0.3) == best) and not sel.report.missed
        assert sel.report.reached == pytest.approx(rows[step], abs=1e-12)
    else:  # never on target: the last step, marked missed
        assert step == 80 and sel.report.missed and sel.report.reached == pytest.approx(rows[80])
    # a copy taken since the last checkpoint is written at the next one (every 20 steps), for a restart
    assert (run_folder(PruneConfig(**SELECT), tmp_path / "sel") / "selected.pt").exists() == bool(on_target)


def test_at_target_selection_survives_a_restart(teacher, tmp_path):
    cfg = PruneConfig(**SELECT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = prune(teacher, _batches(), cfg, tmp_path / "a", progress=False)
        assert prune(teacher, _batches(), cfg, tmp_path / "b", stop_after=70, progress=False) is None
        resumed = prune(teacher, _batches(), cfg, tmp_path / "b", progress=False)
    assert resumed.report.selected_step == whole.report.selected_step
    assert resumed.report.reached == whole.report.reached
    for key, m in whole.masks.masks.items():
        assert torch.equal(m.log_alpha, resumed.masks.masks[key].log_alpha), key


def test_unreadable_snapshot_names_its_file(teacher, tmp_path):
    cfg = PruneConfig(**{**SELECT, "steps": 4, "warmup_steps": 2})
    folder = run_folder(cfg, tmp_path)
    folder.mkdir(parents=True)
    (folder / "selected.pt").write_bytes(b"not a torch file")
    with warnings.catch_warnings(), pytest.raises(Exception, match="selected.pt"):
        warnings.simplefilter("ignore")
        prune(teacher, _batches(), cfg, tmp_path, progress=False)
