"""Devices and precision. On a CUDA device (tests marked cuda, skipped without one; scripts/gpu_check.sh runs
them): every method computes there what it computes on the CPU, and a bf16 run completes with CUDA memory figures.
On any device: frozen linears stored in bf16 compute the same numbers and release the checkpoint's memory map."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ptune.train.runner import execute
from tests.helpers import METHODS, PAIRS, TINY_MODELS

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_cuda_logits_and_gradients_match_the_cpu(model_name, method, build, encode):
    model, tokenizer, _ = build(model_name, method)
    model.eval()  # no dropout: both devices compute the same function
    batch = encode(tokenizer, PAIRS) | {"labels": torch.tensor([0, 2])}
    results = []
    for device in ("cpu", "cuda"):
        model.to(device).zero_grad(set_to_none=True)
        on_device = {k: v.to(device) for k, v in batch.items()}
        logits = model(on_device)
        model.loss(logits, on_device).backward()
        grads = {n: p.grad.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
        results.append((logits.detach().cpu(), grads))
    (cpu_logits, cpu_grads), (cuda_logits, cuda_grads) = results
    torch.testing.assert_close(cuda_logits, cpu_logits, atol=1e-4, rtol=1e-3)
    assert cuda_grads.keys() == cpu_grads.keys()
    for name in cpu_grads:
        torch.testing.assert_close(cuda_grads[name], cpu_grads[name], atol=1e-4, rtol=1e-3, msg=name)


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("method", METHODS)
def test_bf16_run_on_cuda_completes_with_cuda_memory(method, tmp_path, make_cfg, write_samples):
    data_dir = write_samples(tmp_path / "data")
    row = execute(make_cfg("task=rte", "model=tiny-bert", f"method={method}", "prompt_length=4", "trainer=smoke",
                           f"data_dir={data_dir}", "device=cuda", "trainer.precision=bf16"))
    assert row.status == "completed" and row.provenance["device"].startswith("cuda")
    assert row.peak_memory_kind == "cuda_allocated" and row.peak_memory_mib > 0
    assert all(math.isfinite(epoch["train_loss"]) for epoch in row.history)


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_frozen_linears_stored_in_bf16_compute_the_same_numbers(model_name, method, build, encode):
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
