"""Every method x every tiny backbone, enumerated from conf/method and conf/model/tiny-*.

Nothing here knows a method by name: what a method trains and whether it uses prompt_length come from
its own declarations (Method.trains_backbone_parameter, a prompt_length key in its schema)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from conftest import METHODS, TINY_MODELS

from ptune.config.compose import compose
from ptune.model.backbones import count_layers_heads, load_tokenizer
from ptune.model.prompted import build_model
from ptune.train.optim import make_optimizer

CLASSIFICATION = SimpleNamespace(head="classification", num_labels=3, words_pretokenized=False)
PROMPTED = [m for m in METHODS if "prompt_length" in compose([f"method={m}"]).method]


def build(model: str, method: str, *overrides: str, task=CLASSIFICATION, max_length: int = 64):
    cfg = compose([f"model={model}", f"method={method}", "prompt_length=5", *overrides])
    torch.manual_seed(0)
    return build_model(cfg.model, cfg.method, task, max_length), load_tokenizer(cfg.model), cfg


def encode(tokenizer, pairs, **kwargs):
    first, second = zip(*pairs)
    return dict(tokenizer(list(first), list(second), return_tensors="pt", **({"padding": True} | kwargs)))


PAIRS = [("The cat sat on the mat.", "A cat is sitting."), ("Rain fell all day long in town.", "It was dry.")]


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_only_method_weights_train_and_change(model_name, method):
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
def test_prompt_changes_the_output(model_name, method):
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
def test_padding_does_not_change_logits(model_name, method):
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
def test_checkpoint_holds_only_trainable_weights(model_name, method, tmp_path):
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
def test_trainable_count_matches_the_arithmetic(model_name):
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
def test_learns_a_synthetic_task_well_above_chance(model_name, method):
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


def test_shallow_prompt_beyond_the_positions_is_refused():
    with pytest.raises(ValueError, match="exceeds the .* positions"):
        build("tiny-bert", "prompt", "prompt_length=100", max_length=500)
    build("tiny-bert", "ptv2", "prompt_length=100", max_length=500)  # deep prompts use no positions


@pytest.mark.parametrize("model_name", TINY_MODELS)
def test_bitfit_trains_exactly_the_backbone_biases(model_name):
    model, _, _ = build(model_name, "bitfit")
    biases = [p for n, p in model.backbone.named_parameters() if n.endswith(".bias")]
    head = sum(p.numel() for p in model.head.parameters())
    assert biases and model.parameter_counts()[0] == sum(p.numel() for p in biases) + head


@pytest.mark.parametrize("layers,expected", [("top:1", [1]), ("bottom:1", [0]), ("[0]", [0]), ("null", [0, 1])])
def test_depth_ablation_selects_layers(layers, expected):
    model, _, _ = build("tiny-bert", "ptv2", f"method.layers={layers}")
    assert model.method.prompt_layers == expected


@pytest.mark.parametrize("init", ["random", "vocab", "text"])
@pytest.mark.parametrize("encoder", ["none", "lstm", "mlp"])
def test_shallow_prompt_options(init, encoder):
    model, tokenizer, _ = build("tiny-bert", "prompt", f"method.init={init}", f"method.encoder={encoder}",
                                "method.init_text='is it true'")
    prompts = model.method.input_prompts(2)
    assert prompts.shape == (2, 5, model.backbone.config.hidden_size)
    if init == "text" and encoder == "none":
        ids = tokenizer("is it true", add_special_tokens=False)["input_ids"]
        words = model.backbone.get_input_embeddings().weight
        torch.testing.assert_close(prompts[0, 0], words[ids[0]])


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_frozen_linears_stored_in_bf16_compute_the_same_numbers(model_name, method):
    """trainer.cast_frozen: under bf16 autocast, frozen linear layers kept in bf16 give bit-identical outputs and
    gradients (autocast casts them to bf16 anyway); trainable layers keep their fp32 master weights."""
    from ptune.model.device import cast_frozen_linears

    reference, tokenizer, _ = build(model_name, method)
    cast, _, _ = build(model_name, method)
    cast.load_state_dict(reference.state_dict())
    assert cast_frozen_linears(cast, None) == 0  # fp32 runs: nothing to do
    count = cast_frozen_linears(cast, torch.bfloat16)
    frozen_linears = [m for m in reference.modules() if isinstance(m, torch.nn.Linear)
                      and not any(p.requires_grad for p in m.parameters())]
    assert count == len(frozen_linears)
    assert all(p.dtype == torch.float32 for p in cast.parameters() if p.requires_grad)
    batch = encode(tokenizer, PAIRS) | {"labels": torch.tensor([0, 2])}
    results = []
    for model in (reference, cast):
        model.train()
        torch.manual_seed(1)  # the same dropout masks
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(batch)
            loss = model.loss(logits, batch)
        loss.backward()
        results.append((logits, {n: p.grad for n, p in model.named_parameters() if p.requires_grad}))
    (logits_a, grads_a), (logits_b, grads_b) = results
    assert torch.equal(logits_a, logits_b)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_b[name]), name


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="reads Linux's /proc/self/maps")
def test_casting_the_frozen_linears_releases_the_checkpoints_memory_map(tmp_path):
    """Weights loaded from safetensors point into the file's memory map; after the cast nothing may, or the fp32
    file pages stay resident next to the bf16 copies (ptune.train.optim.own_weights)."""
    import gc

    from transformers import AutoConfig, AutoModel

    from ptune.model.device import cast_frozen_linears

    config = AutoConfig.for_model("bert", vocab_size=512, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=64)
    AutoModel.from_config(config).save_pretrained(tmp_path, safe_serialization=True)
    checkpoint = str(tmp_path / "model.safetensors")
    model = AutoModel.from_pretrained(tmp_path).requires_grad_(False)
    model.pooler.requires_grad_(True)  # a layer that trains keeps its fp32 weights
    gc.collect()
    assert checkpoint in Path("/proc/self/maps").read_text()  # the premise: loading maps the file
    expected = {name: p.detach().clone() for name, p in model.named_parameters()}
    assert cast_frozen_linears(model, torch.bfloat16) == 2 * 6  # q, k, v, attention out, intermediate, out
    gc.collect()
    assert checkpoint not in Path("/proc/self/maps").read_text()
    for name, param in model.named_parameters():
        assert torch.equal(param.float(), expected[name].to(param.dtype).float()), name
    assert model.pooler.dense.weight.dtype == torch.float32 and model.pooler.dense.weight.requires_grad
