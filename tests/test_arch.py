import warnings

import pytest
import torch
from transformers import BartConfig, BartForConditionalGeneration, GPT2Config, GPT2LMHeadModel

from nashlib import shapes as models
from nashlib.arch import SUPPORTED, arch_of, head_cost, unit_cost
from nashlib.pruning.compact import SkippedSublayer, compact
from nashlib.pruning.masks import PruningMasks


def _tiny_bart():
    torch.manual_seed(0)
    return BartForConditionalGeneration(BartConfig(
        vocab_size=500, d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48, max_position_embeddings=64,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=None)).eval()


def _weights(*linears):
    return sum(lin.weight.numel() for lin in linears)


def _check_costs(arch):
    """Each unit's cost, counted by hand, is what the real q/k/v/o and FFN weights hold."""
    for part in ("encoder", "decoder"):
        for kind, refs in arch.blocks[part].items():
            for ref in refs:
                if ref is None:  # a whole FFN sublayer removed by compaction
                    continue
                if kind == "ffn":
                    assert ref.cost() == _weights(*ref.inputs, ref.output)
                    assert ref.cost(1) == (3 if ref.gated else 2) * ref.d_model
                else:
                    assert ref.cost() == _weights(ref.q, ref.k, ref.v, ref.o)
                    assert ref.cost(1) == 4 * ref.d_model * ref.d_head


def test_hand_counted_costs():
    assert head_cost(768, 64) == 4 * 768 * 64 and head_cost(48, 20, heads=3) == 3 * 4 * 48 * 20
    assert unit_cost(768, gated=False) == 2 * 768 and unit_cost(768, gated=True, units=5) == 5 * 3 * 768


@pytest.mark.parametrize("name,gated", [("tiny", False), ("tiny-gated", True), ("tiny-odd", False)])
def test_t5_layout_and_costs(name, gated):
    s = models.shape(name)
    model = models.build_t5(name, seed=0)
    arch = arch_of(model)
    assert (arch.name, arch.family, arch.compacted, arch.d_model) == ("t5", "t5", False, s.d_model)
    assert arch.depth("encoder") == s.num_layers and arch.depth("decoder") == s.num_decoder_layers
    assert set(arch.blocks["encoder"]) == {"self", "ffn"} and set(arch.blocks["decoder"]) == {"self", "cross", "ffn"}
    assert all(len(refs) == s.num_layers for refs in arch.blocks["encoder"].values())
    stack, attr = arch.stack("decoder")
    assert stack is model.decoder and list(getattr(stack, attr)) == arch.layer_modules["decoder"]
    assert [getattr(model.config, arch.depth_keys[p]) for p in ("encoder", "decoder")] == \
        [s.num_layers, s.num_decoder_layers]
    assert list(arch.attentions("decoder", 1)) == ["self", "cross"]
    assert arch.attentions("encoder", 0)["self"].module is model.encoder.block[0].layer[0].SelfAttention
    ffn = arch.blocks["encoder"]["ffn"][0]
    assert ffn.gated == gated and ffn.width == s.d_ff and arch.blocks["decoder"]["cross"][2].width == s.num_heads
    assert arch.position_bias("decoder") is model.decoder.block[0].layer[0].SelfAttention.relative_attention_bias
    _check_costs(arch)
    head = arch.blocks["encoder"]["self"][0]
    assert head.cost() == s.num_heads * 4 * s.d_model * s.d_kv  # tiny-odd: d_kv * heads != d_model
    assert ffn.cost(d_model=torch.tensor(10.0)) == s.d_ff * (3 if gated else 2) * 10  # kept hidden dimensions


def test_bart_layout_and_costs_count_weights_not_biases():
    model = _tiny_bart()
    arch = arch_of(model)
    assert (arch.name, arch.family, arch.depth("encoder"), arch.depth("decoder")) == ("bart", "bart", 2, 3)
    assert arch.stack("encoder") == (model.model.encoder, "layers")
    assert arch.depth_keys == {"encoder": "encoder_layers", "decoder": "decoder_layers"}
    assert arch.position_bias("encoder") is None and arch.position_bias("decoder") is None
    attn, ffn = arch.blocks["decoder"]["cross"][0], arch.blocks["decoder"]["ffn"][0]
    assert (attn.width, attn.d_head, ffn.width, ffn.gated) == (4, 8, 48, False)
    assert attn.cost() == 4 * 32 * 8 * 4 and ffn.cost() == 2 * 32 * 48
    _check_costs(arch)


def test_set_depth_updates_every_config_that_counts_layers():
    model = models.build_t5("tiny", seed=0)
    arch_of(model).set_depth("decoder", 2)
    assert model.config.num_decoder_layers == 2 and model.decoder.config.num_layers == 2
    assert model.config.num_layers == 4 and model.encoder.config.num_layers == 4
    bart = _tiny_bart()
    arch_of(bart).set_depth("encoder", 1)
    assert bart.config.encoder_layers == 1 and bart.config.decoder_layers == 3


def _masks(model, types, parts):
    masks = PruningMasks(model, types=types, parts=parts)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for m in masks.masks.values():
            m.log_alpha.copy_(torch.randn(m.n, generator=g) * 2.5 + 1.0)
        if "encoder_ffn_ffn_units" in masks.masks:  # every FFN unit of encoder layer 1
            masks.masks["encoder_ffn_ffn_units"].log_alpha.view(arch_of(model).depth("encoder"), -1)[1] = -30.0
    return masks.eval()


@pytest.mark.parametrize("name", ["tiny", "tiny-gated"])
def test_compacted_t5_layout_and_costs(name):
    model = models.build_t5(name, seed=0)
    small = compact(model, _masks(model, ("heads", "ffn_units", "hidden"), ("encoder", "decoder")))
    arch = arch_of(small)
    assert (arch.name, arch.family, arch.compacted) == ("nash_t5", "t5", True)
    assert arch.depth("encoder") == arch.depth("decoder") == 4 and arch.d_model == small.config.d_model < 64
    layout = small.config.nash_layout
    for part in ("encoder", "decoder"):
        for layer, row in enumerate(layout[part]):
            assert {k: a.width for k, a in arch.attentions(part, layer).items()} == \
                {k: len(row[k]) for k in arch.attentions(part, layer)}
    assert arch.blocks["encoder"]["ffn"][1] is None and isinstance(arch.layer_modules["encoder"][1].layer[-1],
                                                                    SkippedSublayer)
    assert arch.blocks["encoder"]["ffn"][0].width == layout["encoder"][0]["d_ff"]
    _check_costs(arch)


def test_compacted_bart_layout_and_costs():
    model = _tiny_bart()
    with warnings.catch_warnings():  # the FFN left without units is a zero-element Linear
        warnings.filterwarnings("ignore", "Initializing zero-element tensors")
        small = compact(model, _masks(model, ("heads", "ffn_units"), ("encoder",)))
    arch = arch_of(small)
    assert (arch.name, arch.family, arch.compacted) == ("nash_bart", "bart", True)
    assert [arch.blocks["encoder"]["ffn"][i].width for i in range(2)] == \
        [row["d_ff"] for row in small.config.nash_layout["encoder"]]
    assert arch.blocks["encoder"]["ffn"][1].width == 0
    _check_costs(arch)


def test_unsupported_model_type_names_it_and_the_supported_ones():
    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=16, n_positions=8))
    with pytest.raises(ValueError, match="model type 'gpt2' is not supported; supported: bart, nash_bart, nash_t5, t5"):
        arch_of(gpt2)
    assert SUPPORTED == ("bart", "nash_bart", "nash_t5", "t5")
