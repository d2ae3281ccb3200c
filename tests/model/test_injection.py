"""The shared deep-prompt injection, checked against attention computed by hand from the module's weights."""
from __future__ import annotations

import math

import pytest
import torch

from ptune.model.injection import DeepPromptInjector, find_self_attentions
from tests.helpers import PAIRS, TINY_MODELS


def hand_attention(query, key, value, mask, scale):
    """softmax(q k^T / scale + mask) v over [batch, heads, length, dim] tensors; mask: [batch, keys] of 0/1."""
    scores = query @ key.transpose(-1, -2) / scale
    scores = scores.masked_fill(mask[:, None, None, :] == 0, float("-inf"))
    return torch.softmax(scores, dim=-1) @ value


def split_heads(x, heads):
    return x.view(x.shape[0], x.shape[1], heads, -1).transpose(1, 2)


def random_prefix(layers, batch, heads, length, dim):
    torch.manual_seed(1)
    return torch.randn(layers, 2, batch, heads, length, dim)


@pytest.mark.parametrize("model_name", ["tiny-bert", "tiny-roberta", "tiny-deberta-content"])
def test_prefix_attention_matches_hand_computation(model_name, build, encode):
    overrides = []
    if model_name == "tiny-deberta-content":  # DeBERTa maths without relative positions: plain content attention
        model_name, overrides = "tiny-deberta", ["model.tiny.relative_attention=false"]
    model, tokenizer, _ = build(model_name, "finetune", *overrides)
    backbone = model.backbone.eval()
    attention = find_self_attentions(backbone)[0]
    heads = backbone.config.num_attention_heads
    dim = backbone.config.hidden_size // heads
    injector = DeepPromptInjector(backbone, [0])
    batch = encode(tokenizer, PAIRS)
    mask = batch["attention_mask"]
    prefix = random_prefix(1, mask.shape[0], heads, 3, dim)
    captured = {}

    def capture_input(module, args, kwargs):
        captured["in"] = args[0] if args else kwargs["hidden_states"]

    def capture_output(module, args, output):
        captured["out"] = output[0]

    attention.register_forward_pre_hook(capture_input, with_kwargs=True)
    attention.register_forward_hook(capture_output)
    injector.set(prefix)
    with torch.no_grad():
        backbone(**batch)
        hidden = captured["in"]
        project = (attention.query, attention.key, attention.value) if hasattr(attention, "query") else \
            (attention.query_proj, attention.key_proj, attention.value_proj)
        q, k, v = (split_heads(p(hidden), heads) for p in project)
        scale = math.sqrt(dim * (3 if model_name == "tiny-deberta" else 1))  # DeBERTa scales by c2p + p2c too
        keys = torch.cat([prefix[0, 0], k], dim=2)
        values = torch.cat([prefix[0, 1], v], dim=2)
        full_mask = torch.cat([torch.ones(mask.shape[0], 3, dtype=mask.dtype), mask], dim=1)
        expected = hand_attention(q, keys, values, full_mask, scale).transpose(1, 2).flatten(2)
    real = mask.bool()  # padded query rows are never used
    torch.testing.assert_close(captured["out"][real], expected[real], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("model_name", TINY_MODELS)
def test_no_prefix_leaves_the_backbone_unchanged(model_name, build, encode):
    model, tokenizer, _ = build(model_name, "finetune")
    backbone = model.backbone.eval()
    batch = encode(tokenizer, PAIRS)
    with torch.no_grad():
        plain = backbone(**batch).last_hidden_state
        DeepPromptInjector(backbone, list(range(backbone.config.num_hidden_layers)))  # installed, prefix unset
        again = backbone(**batch).last_hidden_state
    torch.testing.assert_close(again, plain, atol=0, rtol=0)


@pytest.mark.parametrize("model_name", TINY_MODELS)
def test_deep_prompts_do_not_shift_positions(model_name, build, encode):
    """The embedding layer sees the same input with and without prefixes: no position offset."""
    model, tokenizer, _ = build(model_name, "ptv2")
    model.eval()
    batch = encode(tokenizer, PAIRS)
    seen = []
    model.backbone.embeddings.register_forward_hook(lambda m, args, out: seen.append(out.detach().clone()) and None)
    with torch.no_grad():
        model(batch)
        model.backbone(**batch)  # no prefix set outside a PromptedModel forward
    torch.testing.assert_close(seen[0], seen[1], atol=0, rtol=0)
    assert model.injector.prefix is None, "the prefix must not outlive an eval forward"


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", ["ptv2", "prefix", "prompt"])
def test_gradient_checkpointing_keeps_the_prompt_gradients(model_name, method, build, encode):
    grads = []
    for checkpointing in (False, True):
        model, tokenizer, _ = build(model_name, method)
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        if checkpointing:
            model.enable_checkpointing()
        model.train()
        batch = encode(tokenizer, PAIRS) | {"labels": torch.tensor([0, 1])}
        model.loss(model(batch), batch).backward()
        grads.append({n: p.grad.clone() for n, p in model.method.named_parameters()})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name in grads[0]:
        assert grads[0][name].abs().sum() > 0, name
        torch.testing.assert_close(grads[1][name], grads[0][name], atol=1e-6, rtol=1e-4)
