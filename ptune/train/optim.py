"""Training plumbing the runner uses: seeding, device and precision, optimizer, LR schedule, memory."""
from __future__ import annotations

import random
import sys

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_schedule(optimizer, trainer, steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Warm-up, then trainer.schedule: linear decay to 0 over the run, or exponential (x lr_decay_gamma per epoch)."""
    total = max(1, steps_per_epoch * trainer.epochs)
    warmup = int(trainer.warmup_ratio * total)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if trainer.schedule == "exponential":
            return trainer.lr_decay_gamma ** (step // max(1, steps_per_epoch))
        return max(0.0, (total - step) / max(1, total - warmup))  # linear: the schema allows only these two

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW over the trainable parameters only; one fused kernel for all of them (CPU and CUDA)."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in trainable if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, fused=True)


def move(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def progress_bar(iterable, description: str, show: bool):
    """A bar on a terminal only: captured output (CI, a log, a cluster job) gets the runner's per-epoch lines."""
    if not show or not sys.stderr.isatty():
        return iterable
    return tqdm(iterable, desc=description, leave=False)


