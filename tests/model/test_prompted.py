"""The prompted model as a config builds it: init_std (prefix table, MLP, shallow prompts), per-example prefix
dropout, shift_positions against explicit position ids, model.hidden_dropout reaching the backbone."""
from __future__ import annotations

import pytest
import torch

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.model.methods import build_method
from ptune.model.methods.prefix_encoder import PrefixEncoder
from ptune.model.prompted import build_model
from ptune.tasks import build_task
from ptune.train.batching import collate


# init ----------------------------------------------------------------------------------------------------------
def test_init_std_gives_bert_style_init_and_null_keeps_torch_default():
    torch.manual_seed(0)
    table = PrefixEncoder(8, 2, 64, init_std=0.02).embedding.weight    # 8 x 256 values
    assert 0.018 < table.std().item() < 0.022 and abs(table.mean().item()) < 0.002
    assert 0.95 < PrefixEncoder(8, 2, 64).embedding.weight.std().item() < 1.05   # torch: N(0, 1)
    mlp = PrefixEncoder(8, 2, 64, reparameterize=True, init_std=0.02).mlp
    for linear in (mlp[0], mlp[2]):
        assert 0.018 < linear.weight.std().item() < 0.022 and torch.count_nonzero(linear.bias) == 0
    default = PrefixEncoder(8, 2, 64, reparameterize=True).mlp[0]      # torch: U(-1/sqrt(64), 1/sqrt(64))
    assert default.weight.abs().max().item() <= 1 / 8 and torch.count_nonzero(default.bias) > 0


def test_shallow_prompt_init_std(make_cfg):
    cfg = make_cfg("method=prompt", "model=tiny-bert", "prompt_length=64", "method.init_std=0.02")
    model = build_model(cfg.model, cfg.method, build_task(cfg.task, None), 128)
    assert 0.017 < model.method.prompts.std().item() < 0.023


# prefix dropout ---------------------------------------------------------------------------------------------------
def test_prefix_dropout_draws_one_mask_per_example(make_cfg):
    cfg = make_cfg("method=ptv2", "model=tiny-bert", "prompt_length=4", "method.prefix_dropout=0.5")
    model = build_model(cfg.model, cfg.method, build_task(cfg.task, None), 64)
    method = model.method.train()
    prefixes = method.layer_prefixes(3)          # [layers, 2, batch, heads, P, d]
    zeros = prefixes == 0
    assert not torch.equal(zeros[:, :, 0], zeros[:, :, 1]) and not torch.equal(zeros[:, :, 1], zeros[:, :, 2])
    method.eval()
    prefixes = method.layer_prefixes(3)
    assert torch.equal(prefixes[:, :, 0], prefixes[:, :, 2])


def test_prefix_method_gets_the_official_prefix_dropout():
    assert compose(["method=prefix"]).method.prefix_dropout == 0.1


# shifted positions --------------------------------------------------------------------------------------------
def expected_positions(model_type, input_ids, pad_id, offset):
    """Written out per token, the way BERT / RoBERTa number positions after `offset` cached ones."""
    rows = []
    for ids in input_ids.tolist():
        if model_type == "roberta":
            count, row = 0, []
            for token in ids:
                count += token != pad_id
                row.append(pad_id + offset + count if token != pad_id else pad_id)
            rows.append(row)
        else:
            rows.append([offset + i for i in range(len(ids))])
    return torch.tensor(rows)


@pytest.mark.parametrize("model_name", ["tiny-bert", "tiny-roberta"])
def test_shifted_run_equals_the_backbone_with_explicit_offset_positions(make_cfg, model_name):
    cfg = make_cfg("method=ptv2", f"model={model_name}", "prompt_length=5", "method.shift_positions=true")
    task = build_task(cfg.task, None)
    tokenizer = load_tokenizer(cfg.model)
    model = build_model(cfg.model, cfg.method, task, 64, tokenizer).eval()
    encoded = [dict(tokenizer("a short one", "b")), dict(tokenizer("a much longer first text here", "and more"))]
    batch = collate([{**e, "labels": 0} for e in encoded], tokenizer.pad_token_id)
    seen = {}
    model.head.register_forward_hook(lambda module, args, output: seen.update(sequence=args[0]))
    with torch.no_grad():
        model(batch)
        positions = expected_positions(model.backbone.config.model_type, batch["input_ids"], tokenizer.pad_token_id, 5)
        model.injector.set(model.method.layer_prefixes(2))
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
        explicit = model.backbone(**inputs, position_ids=positions).last_hidden_state
        unshifted = model.backbone(**inputs).last_hidden_state
        model.injector.set(None)
    mask = batch["attention_mask"].bool()
    assert torch.allclose(seen["sequence"][mask], explicit[mask], atol=1e-5)
    assert not torch.allclose(seen["sequence"][mask], unshifted[mask], atol=1e-3)


def test_shift_beyond_the_position_table_is_refused(make_cfg):
    cfg = make_cfg("method=ptv2", "model=tiny-bert", "prompt_length=20", "method.shift_positions=true")
    with pytest.raises(ValueError, match="shift_positions.*500 \\+ prompt_length 20 = 520 exceeds the 512"):
        build_model(cfg.model, cfg.method, build_task(cfg.task, None), 500)
    cfg.method.shift_positions = False
    build_model(cfg.model, cfg.method, build_task(cfg.task, None), 500)


def test_hidden_dropout_reaches_the_backbone(make_cfg):
    cfg = make_cfg("model=tiny-bert", "model.hidden_dropout=0.2")
    model = build_model(cfg.model, cfg.method, build_task(cfg.task, None), 64)
    assert model.backbone.config.hidden_dropout_prob == 0.2
    assert {m.p for m in model.backbone.encoder.modules() if isinstance(m, torch.nn.Dropout)} >= {0.2}


def test_build_method_accepts_every_method_yaml_with_init_std(make_cfg):
    for method in ("ptv2", "prefix", "prompt"):
        cfg = make_cfg(f"method={method}", "model=tiny-bert", "method.init_std=0.02")
        build_method(cfg.method, build_model(cfg.model, cfg.method, build_task(cfg.task, None), 64).backbone)
