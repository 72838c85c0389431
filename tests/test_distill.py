import numpy as np
import pytest
import torch

from nashlib import shapes as models
from nashlib.pruning.distill import DISTILL, KD, BlockOutputs, distillation_loss, kl_logits, logit_distillation
from nashlib.pruning.layers import keep_decoder_layers


def test_kl_by_hand():
    s = torch.tensor([[[0.0, 1.0]]])
    t = torch.tensor([[[1.0, 0.0]]])
    ps, pt = torch.softmax(s, -1), torch.softmax(t, -1)
    by_hand = (ps * (ps.log() - pt.log())).sum()
    assert kl_logits(s, t).item() == pytest.approx(by_hand.item())
    assert kl_logits(s, t, direction="teacher||student").item() == pytest.approx((pt * (pt.log() - ps.log())).sum().item())
    assert kl_logits(s, s).item() == pytest.approx(0.0, abs=1e-7)
    assert kl_logits(s, t, temperature=2.0).item() == pytest.approx(
        4 * kl_logits(s / 2, t / 2).item())
    with pytest.raises(ValueError, match="direction='both'"):
        kl_logits(s, t, direction="both")


def test_kl_ignores_padded_targets():
    s, t = torch.randn(1, 3, 5), torch.randn(1, 3, 5)
    mask = torch.tensor([[True, True, False]])
    assert kl_logits(s, t, mask).item() == pytest.approx(kl_logits(s[:, :2], t[:, :2]).item())


def _setup():
    teacher = models.build_t5("tiny", seed=0).eval()
    student = keep_decoder_layers(teacher, [0, 3]).train()
    with torch.no_grad():
        for p in student.parameters():
            p.add_(torch.randn_like(p) * 0.01)  # so that every term is non-zero
    ids = torch.randint(2, 500, (2, 7))
    labels = torch.randint(2, 500, (2, 4))
    labels[1, 3] = -100
    return teacher, student, dict(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels)


def _terms(teacher, student, batch, **kw):
    with torch.no_grad(), BlockOutputs(teacher) as tb:
        t = teacher(**batch).logits
    with BlockOutputs(student) as sb:
        s = student(**batch).logits
    assert len(sb.outputs["decoder"]) == 2 and len(tb.outputs["decoder"]) == 4
    return distillation_loss(s, t, sb, tb, decoder_map=[0, 3], labels=batch["labels"],
                             attention_mask=batch["attention_mask"], **kw)


def test_every_term_moves_the_gradient():
    torch.manual_seed(0)
    teacher, student, batch = _setup()
    student.eval()  # no dropout: the same forward for every term
    w = student.encoder.block[0].layer[0].SelfAttention.q.weight
    grads = {}
    for name in ("kl", "hidden_enc", "hidden_dec"):
        terms = _terms(teacher, student, batch)
        assert terms[name].item() > 0
        (g,) = torch.autograd.grad(terms[name], w)
        grads[name] = g
        assert g.abs().sum() > 0, name
    terms = _terms(teacher, student, batch, lambda_enc=0.5, lambda_dec=0.25)
    (total,) = torch.autograd.grad(terms["loss"], w)
    assert torch.allclose(total, grads["kl"] + 0.5 * grads["hidden_enc"] + 0.25 * grads["hidden_dec"], atol=1e-6)


def test_decoder_map_is_checked():
    teacher, student, batch = _setup()
    with torch.no_grad(), BlockOutputs(teacher) as tb, BlockOutputs(student) as sb:
        t, s = teacher(**batch).logits, student(**batch).logits
    with pytest.raises(ValueError, match="decoder_map=\\[0, 9\\] does not map 2 student layers onto 4"):
        distillation_loss(s, t, sb, tb, decoder_map=[0, 9])


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_each_distillation_variant_by_hand():
    s, t = np.array([0.0, 1.0, 3.0]), np.array([2.0, 0.0, 1.0])  # one token's logits
    ps, pt = _softmax(s), _softmax(t)
    paper = (ps * np.log(ps / pt)).sum()  # KL(student || teacher), T = 1, weight 1
    ps2, pt2 = _softmax(s / 2), _softmax(t / 2)
    released = 0.5 * 2 ** 2 * (pt2 * np.log(pt2 / ps2)).sum()  # 0.5 * T^2 * KL(teacher || student), T = 2
    S, T = torch.tensor(s)[None, None], torch.tensor(t)[None, None]  # (1, 1, V)
    assert logit_distillation(S, T, variant="paper").item() == pytest.approx(paper, rel=1e-6)
    assert logit_distillation(S, T, variant="released").item() == pytest.approx(released, rel=1e-6)
    assert logit_distillation(S, T, variant="none").item() == 0.0
    assert paper != pytest.approx(released, rel=1e-2)  # the two readings differ on these logits
    assert DISTILL["released"] == KD("teacher||student", 2.0, 0.5) and DISTILL["none"] is None
    with pytest.raises(ValueError, match="variant='kd'; allowed: 'paper', 'released', 'none'"):
        logit_distillation(S, T, variant="kd")


def test_kl_weight_scales_only_the_logit_term():
    torch.manual_seed(0)
    teacher, student, batch = _setup()
    student.eval()
    one, half = _terms(teacher, student, batch), _terms(teacher, student, batch, kl_weight=0.5)
    assert half["kl"].item() == pytest.approx(one["kl"].item())
    assert (one["loss"] - half["loss"]).item() == pytest.approx(0.5 * one["kl"].item(), rel=1e-5)
