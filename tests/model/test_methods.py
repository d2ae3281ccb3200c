"""Every method x every tiny backbone, enumerated from conf/method and conf/model/tiny-*.

Nothing here knows a method by name: what a method trains and whether it uses prompt_length come from
its own declarations (Method.trains_backbone_parameter, a prompt_length key in its schema)."""
from __future__ import annotations

import pytest
import torch

from ptune.config.compose import compose
from ptune.model.backbones import count_layers_heads
from ptune.train.optim import make_optimizer
from tests.helpers import CLASSIFICATION, METHODS, PAIRS, TINY_MODELS

PROMPTED = [m for m in METHODS if "prompt_length" in compose([f"method={m}"]).method]


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_only_method_weights_train_and_change(model_name, method, build, encode):
    model, tokenizer, _ = build(model_name, method)
    batch = encode(tokenizer, PAIRS) | {"labels": torch.tensor([0, 2])}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = make_optimizer(model, 1e-2, 0.0)
    model.train()
    model.loss(model(batch), batch).backward()
    for name, param in model.named_parameters():
        if name.startswith("backbone."):
            assert param.requires_grad == model.method.trains_backbone_parameter(name.removeprefix("backbone.")), name
        if not param.requires_grad:
            assert param.grad is None, name
        else:
            assert param.grad is not None, f"{name} got no gradient"
    optimizer.step()
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert changed <= trainable
    assert {n for n in trainable if n.startswith("method.")} <= changed | {n for n in trainable if "lstm" in n}
    assert any(n.startswith("head.") for n in changed)
    if method in PROMPTED:
        assert any(n.startswith("method.") for n in changed)
    if any(n.startswith("backbone.") for n in trainable):
        assert any(n.startswith("backbone.") for n in changed)


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", PROMPTED)
def test_prompt_changes_the_output(model_name, method, build, encode):
    model, tokenizer, _ = build(model_name, method)
    model.eval()
    batch = encode(tokenizer, PAIRS)
    with torch.no_grad():
        prompted = model(batch)
        for param in model.method.parameters():
            param.add_(torch.randn_like(param))
        moved = model(batch)
    assert not torch.allclose(prompted, moved, atol=1e-5)


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_padding_does_not_change_logits(model_name, method, build, encode):
    model, tokenizer, _ = build(model_name, method)
    model.eval()
    with torch.no_grad():
        alone = model(encode(tokenizer, PAIRS[:1]))
        padded = model(encode(tokenizer, PAIRS[:1], max_length=48, padding="max_length", truncation=True))
        together = model(encode(tokenizer, PAIRS))  # the shorter example padded to the longer one
    assert padded.shape == alone.shape
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(together[:1], alone, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_checkpoint_holds_only_trainable_weights(model_name, method, tmp_path, build):
    model, _, _ = build(model_name, method)
    state = model.trainable_state_dict()
    torch.save(state, tmp_path / "w.pt")
    saved = torch.load(tmp_path / "w.pt")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert set(saved) == trainable
    declared = {f"backbone.{n}" for n, _ in model.backbone.named_parameters()
                if model.method.trains_backbone_parameter(n)}
    assert {k for k in saved if k.startswith("backbone.")} == declared


@pytest.mark.parametrize("model_name", TINY_MODELS)
def test_trainable_count_matches_the_arithmetic(model_name, build):
    prompt_length, labels = 5, CLASSIFICATION.num_labels
    for method, extra in [("ptv2", []), ("ptv2", ["method.layers=top:1"]), ("prompt", []), ("prefix", [])]:
        model, _, _ = build(model_name, method, *extra)
        layers, heads, head_dim = count_layers_heads(model.backbone)
        hidden = heads * head_dim
        head = hidden * labels + labels
        prompted_layers = 1 if extra else layers
        expected = {
            "ptv2": prompt_length * 2 * prompted_layers * hidden,
            "prompt": prompt_length * hidden,
            "prefix": prompt_length * hidden + (hidden * 512 + 512) + (512 * 2 * layers * hidden + 2 * layers * hidden),
        }[method]
        trainable, total = model.parameter_counts()
        assert trainable == expected + head, (method, extra)
        backbone_total = sum(p.numel() for p in model.backbone.parameters())
        assert total == backbone_total + trainable


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_learns_a_synthetic_task_well_above_chance(model_name, method, build):
    """Label = which of two word sets the sentence is drawn from."""
    model, tokenizer, cfg = build(model_name, method)
    generator = torch.Generator().manual_seed(0)
    word_sets = [["apple", "river", "stone", "blue", "market"], ["house", "paper", "window", "seven", "green"]]

    def sample(n):
        labels = torch.randint(0, 2, (n,), generator=generator)
        texts = [" ".join(word_sets[y][i] for i in torch.randint(0, 5, (6,), generator=generator)) for y in labels]
        return dict(tokenizer(texts, return_tensors="pt", padding=True)) | {"labels": labels}

    lr = {"finetune": 1e-3, "prefix": 1e-3}.get(method, 3e-2)
    optimizer = make_optimizer(model, lr, 0.0)
    model.train()
    for _ in range(60):
        batch = sample(16)
        loss = model.loss(model(batch), batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    test = sample(200)
    with torch.no_grad():
        accuracy = (model(test).argmax(-1) == test["labels"]).float().mean().item()
    assert accuracy >= 0.85, f"{method} on {model_name}: accuracy {accuracy:.2f}"


def test_shallow_prompt_beyond_the_positions_is_refused(build):
    with pytest.raises(ValueError, match="exceeds the .* positions"):
        build("tiny-bert", "prompt", "prompt_length=100", max_length=500)
    build("tiny-bert", "ptv2", "prompt_length=100", max_length=500)  # deep prompts use no positions


@pytest.mark.parametrize("model_name", TINY_MODELS)
def test_bitfit_trains_exactly_the_backbone_biases(model_name, build):
    model, _, _ = build(model_name, "bitfit")
    biases = [p for n, p in model.backbone.named_parameters() if n.endswith(".bias")]
    head = sum(p.numel() for p in model.head.parameters())
    assert biases and model.parameter_counts()[0] == sum(p.numel() for p in biases) + head


@pytest.mark.parametrize("layers,expected", [("top:1", [1]), ("bottom:1", [0]), ("[0]", [0]), ("null", [0, 1])])
def test_depth_ablation_selects_layers(layers, expected, build):
    model, _, _ = build("tiny-bert", "ptv2", f"method.layers={layers}")
    assert model.method.prompt_layers == expected


@pytest.mark.parametrize("init", ["random", "vocab", "text"])
@pytest.mark.parametrize("encoder", ["none", "lstm", "mlp"])
def test_shallow_prompt_options(init, encoder, build):
    model, tokenizer, _ = build("tiny-bert", "prompt", f"method.init={init}", f"method.encoder={encoder}",
                                "method.init_text='is it true'")
    prompts = model.method.input_prompts(2)
    assert prompts.shape == (2, 5, model.backbone.config.hidden_size)
    if init == "text" and encoder == "none":
        ids = tokenizer("is it true", add_special_tokens=False)["input_ids"]
        words = model.backbone.get_input_embeddings().weight
        torch.testing.assert_close(prompts[0, 0], words[ids[0]])
