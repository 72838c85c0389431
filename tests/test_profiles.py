import pytest

from nashlib import profiles


def test_every_profile_is_valid_and_named():
    for name in profiles.names():
        p = profiles.get(name)
        assert p.name == name
        assert p.repeats >= 1 and p.batch >= 1
    assert profiles.names() == ["smoke", "cpu", "laptop", "paper"]


def test_defaults_match_the_paper_protocol():
    paper = profiles.get("paper")
    assert (paper.batch, paper.beams, paper.device) == (32, 4, "cuda")
    cpu = profiles.get("cpu")
    assert cpu.teacher_shape == "t5-base" and cpu.small_shape == "t5-small"
    assert set(cpu.decoder_depths) >= {12, 4, 3, 2} and cpu.encoder_sparsity == 0.3


def test_unknown_profile_names_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown profile 'fast'; allowed: smoke, cpu, laptop, paper"):
        profiles.get("fast")


def test_profile_name_of_wrong_type():
    with pytest.raises(TypeError, match="PROFILE=3 has type int; expected str"):
        profiles.get(3)


def test_unknown_override_lists_fields():
    with pytest.raises(ValueError, match=r"unknown profile field\(s\) \['repeat'\]; allowed: .*repeats"):
        profiles.get("smoke", repeat=3)


@pytest.mark.parametrize("field,value,expected", [
    ("repeats", "3", "repeats='3' has type str; expected int"),
    ("repeats", True, "repeats=True has type bool; expected int"),
    ("encoder_sparsity", "0.3", "expected float"),
    ("seq_lens", [1, "8"], "expected a list of int"),
])
def test_wrongly_typed_override_is_a_type_error(field, value, expected):
    with pytest.raises(TypeError, match=expected):
        profiles.get("smoke", **{field: value})


@pytest.mark.parametrize("field,value", [("repeats", 0), ("repeats", -2), ("warmup", -1), ("batch", 0),
                                         ("encoder_sparsity", 1.0), ("device", "tpu"), ("decoder_depths", [])])
def test_out_of_range_values_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        profiles.get("smoke", **{field: value})


def test_lists_become_tuples_and_ints_are_floats():
    p = profiles.get("smoke", seq_lens=[1, 2], encoder_sparsity=0)
    assert p.seq_lens == (1, 2) and p.encoder_sparsity == 0
    hash(p)  # frozen and hashable


def test_check_parameter_returns_value():
    assert profiles.check_parameter("SEED", 4, int) == 4
    with pytest.raises(TypeError, match="SEED='abc' has type str; expected int"):
        profiles.check_parameter("SEED", "abc", int)
