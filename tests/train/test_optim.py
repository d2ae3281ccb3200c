"""Training plumbing: schedules and the per-run peak-memory count."""
from __future__ import annotations

import sys

import pytest
import torch
from omegaconf import OmegaConf

from ptune.model.device import peak_memory_mib, reset_peak_memory
from ptune.train.optim import make_schedule


def trainer(**overrides):
    return OmegaConf.create({"epochs": 2, "warmup_ratio": 0.0, "schedule": "linear", "lr_decay_gamma": 0.5}
                            | overrides)


def factors(schedule_cfg, steps_per_epoch=4):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = make_schedule(optimizer, schedule_cfg, steps_per_epoch)
    seen = []
    for _ in range(steps_per_epoch * schedule_cfg.epochs):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return seen


def test_linear_decay_with_warmup():
    """8 steps, 2 of warm-up: (step + 1) / 3 up to the peak, then (8 - step) / 6 down; never 0 on a step."""
    assert factors(trainer(warmup_ratio=0.25)) == pytest.approx([1 / 3, 2 / 3, 1.0, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6])
    assert factors(trainer()) == pytest.approx([1.0, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8])


def test_exponential_decay_per_epoch():
    assert factors(trainer(schedule="exponential")) == [1.0] * 4 + [0.5] * 4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak RSS reset is Linux's /proc")
def test_peak_memory_counts_from_the_run_start():
    cpu = torch.device("cpu")
    block = torch.ones(64 * 2**20, dtype=torch.uint8)  # 64 MiB resident
    block.add_(1)
    high, kind = peak_memory_mib(cpu)
    del block
    reset_peak_memory(cpu)
    after, _ = peak_memory_mib(cpu)
    assert kind == "cpu_peak_rss"
    assert after < high - 32, (high, after)
