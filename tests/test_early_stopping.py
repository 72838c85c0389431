"""Early stopping in fine-tuning (teachers and the small dense baseline): the best dev score's weights are kept."""

import re

import pytest
import torch

from _tiny import random_batches as _batches
from nashlib import settings, shapes
from nashlib.training.finetune import FinetuneConfig, finetune

STOP = dict(steps=40, lr=1e-3, eval_every=4, patience=2, checkpoint_every=4)


class Scripted:
    """A dev score read from a script of values (one per call), remembering the weights it saw."""

    def __init__(self, values):
        self.values, self.seen = list(values), []

    def __call__(self, model) -> float:
        assert not model.training, "evaluation runs in eval mode"
        self.seen.append([p.detach().clone() for p in model.parameters()])
        return self.values[len(self.seen) - 1]


def _model():
    return shapes.build_t5("tiny", seed=0)


def test_stops_after_patience_and_keeps_the_best_weights(tmp_path):
    model, dev = _model(), Scripted([0.1, 0.5, 0.4, 0.5, 0.3, 0.9])  # best at the 2nd score; 2 without a new best
    history = finetune(model, _batches(), FinetuneConfig(**STOP), tmp_path, evaluate=dev, progress=False)
    assert [r["step"] for r in history if "dev" in r] == [4, 8, 12, 16]  # stopped after step 16, not 40
    assert len(history) == 16 and [r["dev"] for r in history if "dev" in r] == [0.1, 0.5, 0.4, 0.5]
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), dev.seen[1]))  # step 8's weights
    assert not all(torch.equal(a, b) for a, b in zip(model.parameters(), dev.seen[3]))


def test_a_run_that_keeps_improving_trains_every_step_and_ends_with_its_last_weights(tmp_path):
    model, dev = _model(), Scripted([i / 10 for i in range(10)])
    history = finetune(model, _batches(), FinetuneConfig(**STOP), tmp_path, evaluate=dev, progress=False)
    assert len(history) == 40
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), dev.seen[-1]))


def test_an_interrupted_run_resumes_to_the_same_stop_and_weights(tmp_path):
    script = [0.1, 0.5, 0.4, 0.6, 0.3, 0.2, 0.9]
    whole, dev = _model(), Scripted(script)
    h1 = finetune(whole, _batches(), FinetuneConfig(**STOP), tmp_path / "a", evaluate=dev, progress=False)
    part = _model()
    assert finetune(part, _batches(), FinetuneConfig(**STOP), tmp_path / "b", evaluate=Scripted(script),
                    stop_after=9, progress=False) is None
    again = _model()  # a new process: the checkpoint at step 8 and best.pt are read back
    scores = Scripted(script[2:])  # the scores after step 8 (the script stands for the model's real dev score)
    h2 = finetune(again, _batches(), FinetuneConfig(**STOP), tmp_path / "b", evaluate=scores, progress=False)
    assert [r["step"] for r in h1] == [r["step"] for r in h2] and len(h1) == 24
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), again.parameters()))


@pytest.mark.parametrize("kwargs,match", [
    (dict(eval_every=5, patience=0), "patience=0; allowed: an integer >= 1 with eval_every, 0 without"),
    (dict(patience=2), "patience=2; allowed: an integer >= 1 with eval_every, 0 without"),
    (dict(eval_every=500, patience=1), "eval_every=500; allowed: an integer from 0 (no early stopping) to steps"),
])
def test_bad_stopping_config(kwargs, match):
    with pytest.raises(ValueError, match=re.escape(f"FinetuneConfig: {match}")):
        FinetuneConfig(steps=100, **kwargs)


def test_evaluate_and_eval_every_come_together(tmp_path):
    with pytest.raises(ValueError, match="eval_every=4 needs evaluate"):
        finetune(_model(), _batches(), FinetuneConfig(**STOP), tmp_path, progress=False)
    with pytest.raises(ValueError, match="eval_every=0 needs evaluate"):
        finetune(_model(), _batches(), FinetuneConfig(steps=4), tmp_path, evaluate=lambda m: 0.0, progress=False)


@pytest.mark.parametrize("kwargs", [dict(eval_every=10), dict(eval_every=10, patience=2),
                                    dict(eval_every=0, patience=0, dev_examples=5),
                                    dict(eval_every=5000, patience=1, dev_examples=5)])
def test_teacher_stopping_fields_come_together(kwargs):
    with pytest.raises(ValueError, match=r"TeacherConfig: eval_every=.*allowed: all three 0 \(no early stopping\)"):
        settings.TeacherConfig("sst2", steps=100, **kwargs)
