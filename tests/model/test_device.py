"""On a CUDA device: every method computes there what it computes on the CPU, and a bf16 run completes with
CUDA memory figures. Skipped without CUDA; scripts/gpu_check.sh runs them (`pytest -m cuda`)."""
from __future__ import annotations

import math

import pytest
import torch
from conftest import METHODS, TINY_MODELS
from test_methods import PAIRS, build, encode
from test_superglue_samples import write_samples

from ptune.train.runner import execute

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("model_name", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_cuda_logits_and_gradients_match_the_cpu(model_name, method):
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


@pytest.mark.parametrize("method", METHODS)
def test_bf16_run_on_cuda_completes_with_cuda_memory(method, tmp_path, make_cfg):
    data_dir = write_samples(tmp_path / "data")
    row = execute(make_cfg("task=rte", "model=tiny-bert", f"method={method}", "prompt_length=4", "trainer=smoke",
                           f"data_dir={data_dir}", "device=cuda", "trainer.precision=bf16"))
    assert row["status"] == "completed" and row["provenance"]["device"].startswith("cuda")
    assert row["peak_memory_kind"] == "cuda_allocated" and row["peak_memory_mib"] > 0
    assert all(math.isfinite(epoch["train_loss"]) for epoch in row["history"])
