import pytest
import torch
from torch import nn

from nashlib.training.batches import batches
from nashlib.training.loop import Loop, lr_factor
from nashlib.training.runs import CHECKPOINT, CorruptCheckpoint, Identity, RunMismatch, fingerprint


def _data(step):
    g = torch.Generator().manual_seed(step % 5)
    x = torch.randn(8, 4, generator=g)  # (B, 4)
    return {"x": x, "y": x.sum(1, keepdim=True)}  # (B, 1)


def _train(folder, *, steps=9, stop_after=None, max_grad_norm=0.0, schedule="constant", warmup_steps=0,
           optimizer=torch.optim.AdamW, lr=0.05, checkpoint_every=3, shift=0.0):
    """A dropout MLP trained by the loop; returns (model, history, learning rates seen)."""
    loop = Loop(folder, steps=steps, seed=0, checkpoint_every=checkpoint_every, max_grad_norm=max_grad_norm,
                schedule=schedule, warmup_steps=warmup_steps, progress=False)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 1))  # seeded by the loop
    with torch.no_grad():
        model[3].bias += shift  # another model: same settings, other initial weights
    model, = loop.prepare(model, optimizer=optimizer(model.parameters(), lr=lr))
    model.train()

    def step_fn(step, data):
        loss = ((model(data["x"]) - data["y"]) ** 2).mean()
        return loss, {"loss": loss}

    lrs = []
    hook = lambda step: lrs.append(loop.optimizer.param_groups[0]["lr"]) or {"lr": lrs[-1]}  # noqa: E731
    history = loop.run(_data, step_fn, stop_after=stop_after, after_step=[hook])
    return model, history, lrs


def test_resumed_run_equals_uninterrupted(tmp_path):
    whole, h_whole, _ = _train(tmp_path / "a")
    assert _train(tmp_path / "b", stop_after=4)[1] is None  # killed after 4 steps: checkpoint at 3 stays
    assert (tmp_path / "b" / CHECKPOINT / "progress.json").exists()
    resumed, h_resumed, _ = _train(tmp_path / "b")  # resumes at step 3 (dropout RNG restored too)
    assert [r["step"] for r in h_resumed] == list(range(1, 10))
    assert [r["loss"] for r in h_resumed] == [r["loss"] for r in h_whole]
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), resumed.parameters()))


def test_a_checkpoint_of_another_model_is_never_resumed(tmp_path):
    x, _, _ = _train(tmp_path)  # finished: its step-6 checkpoint is still in the folder
    assert (tmp_path / CHECKPOINT).exists()
    with pytest.raises(RunMismatch, match=r"checkpoint .* belongs to another run .*model: "):
        _train(tmp_path, shift=1.0)  # before: resumed X's weights and returned X
    y, _, _ = _train(tmp_path / "y", shift=1.0)  # in its own folder it trains from its own weights
    assert not torch.equal(x[3].bias, y[3].bias)
    with pytest.raises(RunMismatch, match=r"config\.loop\.steps: 9 != 12"):
        _train(tmp_path, steps=12)  # other settings: another run too


def _corrupt_rng(ckpt):
    (ckpt / "random_states_0.pkl").write_bytes(b"garbage")


def _truncate_weights(ckpt):
    path = ckpt / "pytorch_model.bin"
    path.write_bytes(path.read_bytes()[:100])


def _edit_progress(ckpt):
    path = ckpt / "progress.json"
    path.write_text(path.read_text().replace('"step": 3,', '"step": 999,', 1))


@pytest.mark.parametrize("damage, file, problem", [
    (lambda c: (c / "random_states_0.pkl").unlink(), "random_states_0.pkl", "missing"),
    (_corrupt_rng, "random_states_0.pkl", "bytes where"),
    (_truncate_weights, "pytorch_model.bin", "bytes where .*truncated"),
    (_edit_progress, "progress.json", "bytes where|SHA-256 differs"),
    (lambda c: (c / "manifest.json").unlink(), "manifest.json", "missing"),
    (lambda c: (c / "stray.bin").write_bytes(b"x"), "stray.bin", "not in manifest.json"),
])
def test_a_damaged_checkpoint_is_an_error_naming_the_file(tmp_path, damage, file, problem):
    assert _train(tmp_path, stop_after=4)[1] is None  # checkpoint at step 3
    damage(tmp_path / CHECKPOINT)
    with pytest.raises(CorruptCheckpoint, match=rf"{CHECKPOINT}/{file}: .*({problem}).* delete .*{CHECKPOINT}"):
        _train(tmp_path)


def test_a_same_size_change_is_caught_by_the_checksum_and_step_must_match_manifest(tmp_path):
    assert _train(tmp_path, stop_after=4)[1] is None
    progress = tmp_path / CHECKPOINT / "progress.json"
    progress.write_text(progress.read_text().replace('"step": 3,', '"step": 9,', 1))  # same size
    with pytest.raises(CorruptCheckpoint, match="progress.json: its SHA-256 differs"):
        _train(tmp_path)


def test_fingerprint_follows_the_weights():
    a = nn.Linear(3, 2)
    b = nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert fingerprint(a) == fingerprint(b) == fingerprint(a.state_dict()) and len(fingerprint(a)) == 16
    with torch.no_grad():
        b.weight[1, 2] += 1e-6
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(a.half()) != fingerprint(b.half().float())  # dtype enters
    assert Identity.of({"lr": 1}, model=a).key() != Identity.of({"lr": 1}, model=b).key()
    assert Identity.of({"lr": 1}, model=a) == Identity.of({"lr": 1}, model=fingerprint(a))


def test_stop_after_returns_none_and_a_finished_run_does_not_stop(tmp_path):
    assert _train(tmp_path, steps=4, stop_after=2, checkpoint_every=1)[1] is None
    history = _train(tmp_path, steps=4, stop_after=2, checkpoint_every=1)[1]  # steps 3, 4: the last one ends it
    assert [r["step"] for r in history] == [1, 2, 3, 4]


def test_gradients_are_clipped_to_max_grad_norm(tmp_path):
    def update_norm(clip):
        torch.manual_seed(0)
        model, _, _ = _train(tmp_path / str(clip), steps=1, optimizer=torch.optim.SGD, lr=1.0, max_grad_norm=clip,
                             checkpoint_every=0)
        torch.manual_seed(0)
        start = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 1))
        with torch.no_grad():
            return float(torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(model.parameters(), start.parameters()))))

    assert update_norm(0.01) == pytest.approx(0.01, rel=1e-3)  # SGD at lr 1: the step is the clipped gradient
    assert update_norm(0.0) > 0.1  # no clipping


def test_linear_schedule_warms_up_then_decays_to_zero(tmp_path):
    assert [lr_factor(s, steps=6, schedule="linear", warmup_steps=2) for s in range(6)] == \
        pytest.approx([0.5, 1.0, 1.0, 0.75, 0.5, 0.25])
    assert lr_factor(3, steps=6) == 1.0
    _, history, lrs = _train(tmp_path, steps=6, schedule="linear", warmup_steps=2, lr=0.1)
    assert lrs == pytest.approx([0.1, 0.1, 0.075, 0.05, 0.025, 0.0])  # after each step: the next step's rate
    assert [r["lr"] for r in history] == lrs
    with pytest.raises(ValueError, match="schedule='cosine'"):
        lr_factor(0, steps=3, schedule="cosine")


def test_run_before_prepare_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="Loop.run before Loop.prepare"):
        Loop(tmp_path, steps=2, seed=0, progress=False).run(_data, lambda s, d: (None, {}))


def test_batches_depend_on_the_step_only_and_pad():
    encoded = {"input_ids": [[5, 6, 1], [7, 1], [8, 9, 10, 1], [11, 1]], "labels": [[3, 1], [4, 1], [3, 1], [4, 4, 1]]}
    batch = batches(encoded, 2, seed=0)
    a, b = batch(3), batch(3)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert set(a) == {"input_ids", "attention_mask", "labels"}
    assert torch.equal(a["attention_mask"], (a["input_ids"] != 0).long())
    assert (a["labels"] == -100).any() or a["labels"].shape[1] == 2
    seen = torch.cat([batch(s)["input_ids"][:, 0] for s in (0, 1)])  # one epoch covers every row once
    assert sorted(seen.tolist()) == [5, 7, 8, 11]
    with pytest.raises(ValueError, match="cannot fill one batch of 8"):
        batches(encoded, 8, seed=0)


def test_batches_group_similar_lengths():
    rng = torch.Generator().manual_seed(0)
    lengths = torch.randint(2, 60, (400,), generator=rng).tolist()
    encoded = {"input_ids": [[5] * n for n in lengths], "labels": [[3, 1]] * 400}

    def padding(pool):
        batch = batches(encoded, 8, seed=0, pool=pool)
        return sum(int((batch(s)["attention_mask"] == 0).sum()) for s in range(50))

    assert padding(50) < padding(1) / 3
    firsts = [batches(encoded, 8, seed=0)(s)["input_ids"].shape[1] for s in range(50)]
    assert len(set(firsts)) > 10  # batch order is still shuffled, not sorted by length
