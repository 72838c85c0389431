"""The paper-vs-released variants: configurations one switch from the default, pairing by seed, verdicts."""

import dataclasses

import pandas as pd
import pytest

from nashlib import settings
from nashlib.experiments import lineup, variants
from nashlib.results import verdicts as V

R = settings.get("smoke").student


def test_each_variant_is_the_default_with_its_changes_only():
    default = variants.config(variants.VARIANTS[0], R, seed=3)
    assert default == lineup.nash(3, R, seed=3)  # Table 1's NASH-3 at that seed: one cached student
    for v in variants.VARIANTS[1:]:
        cfg = variants.config(v, R, seed=3)
        base = lineup.nash(v.decoder_layers, R, selection=v.selection, seed=3)
        changed = {f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name)}
        none = v.changes.get("distill") == "none"  # the released step's objective: no layer loss either
        assert changed == set(v.changes) | ({"layer_loss"} if none else set()), v.name
        assert v.against in {"", *(w.name for w in variants.VARIANTS)}, v.name


def _data(q_default, q_variant, seeds=(0, 1, 2)):
    rows = [dict(task="t", title="T", variant=name, seed=s, quality=q)
            for name, qs in ((variants.DEFAULT, q_default), ("v", q_variant)) for s, q in zip(seeds, qs)]
    return pd.DataFrame(rows)


V_ONLY = (variants.Variant(variants.DEFAULT, "", ""), variants.Variant("v", "", variants.DEFAULT))


def test_effects_pair_by_seed_and_verdicts_follow_the_interval():
    eff = variants.effects(_data([70.0, 72.0, 71.0], [70.2, 71.9, 71.3]), V_ONLY)
    assert list(eff["diff"].round(6)) == [0.2, -0.1, 0.3]
    same = variants.effect_verdicts(eff, tie=1.0)[("T", "v")]
    assert same.outcome == V.HOLDS and same.n == 3
    far = variants.effect_verdicts(variants.effects(_data([70.0, 72.0, 71.0], [75.0, 77.5, 76.0]), V_ONLY), tie=1.0)
    assert far[("T", "v")].outcome == V.DOES_NOT_HOLD
    noisy = variants.effects(_data([70.0, 72.0, 71.0, 70.0], [70.0, 76.0, 67.0, 71.0], seeds=(0, 1, 2, 3)), V_ONLY)
    assert variants.effect_verdicts(noisy, tie=1.0)[("T", "v")].outcome == V.INCONCLUSIVE


def test_unpaired_seeds_are_refused():
    data = _data([70.0, 72.0, 71.0], [70.2, 71.9, 71.3])
    data = data[~((data.variant == "v") & (data.seed == 1))]
    with pytest.raises(ValueError, match="paired by seed"):
        variants.effects(data, V_ONLY)
