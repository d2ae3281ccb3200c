"""The training loop: everything a run owns (`RunState`) and one epoch from the state's position to its end.

Everything lives in `RunState` (model, optimizer, schedule, data order, position in the epoch, metrics), so that
a run can be saved and resumed at any step (ptune/train/resume.py).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from ptune.model.prompted import PromptedModel
from ptune.train import distributed, resume
from ptune.train.batching import collate, epoch_batches
from ptune.train.optim import move, progress_bar

SHOW_LOSS_EVERY = 20  # steps between progress-bar loss updates (reading the loss syncs with the device)


@dataclass
class RunState:
    model: PromptedModel
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    data_order: torch.Generator
    epoch: int = 0                         # epochs completed
    batches: list | None = None            # the current epoch's batches, once drawn
    step: int = 0                          # batches of the current epoch done
    loss_sum: float = 0.0                  # the current epoch's summed batch losses so far
    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_score: float = -math.inf
    best_weights: dict | None = None
    best_dev_predictions: object = None
    train_seconds: float = 0.0
    resumed: list[dict] = field(default_factory=list)
    ranks: distributed.Ranks = field(default_factory=distributed.Ranks)  # torchrun's ranks; one process otherwise
    forward: torch.nn.Module | None = None  # what training calls: the model, or its DistributedDataParallel wrapper

    def snapshot(self, config: dict) -> dict:
        """What resume needs to continue exactly where this run stands (see ptune/train/resume.py)."""
        return {"config": config, "trainable": self.model.trainable_state_dict(copy=False),
                "optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(),
                "scaler": self.scaler.state_dict(), "data_order": self.data_order.get_state(),
                "rngs": resume.capture_rngs(), "epoch": self.epoch, "batches": self.batches, "step": self.step,
                "loss_sum": self.loss_sum, "history": self.history, "best_epoch": self.best_epoch,
                "best_score": self.best_score, "best_weights": self.best_weights,
                "best_dev_predictions": self.best_dev_predictions, "train_seconds": self.train_seconds,
                "resumed": self.resumed}

    def restore(self, saved: dict) -> None:
        missing = set(self.model.trainable_state_dict()) ^ set(saved["trainable"])
        if missing:
            raise ValueError(f"resume: saved trainable weights do not match this model (keys {sorted(missing)[:5]})")
        self.model.load_state_dict(saved["trainable"], strict=False)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.schedule.load_state_dict(saved["schedule"])
        self.scaler.load_state_dict(saved["scaler"])
        self.data_order.set_state(saved["data_order"])
        resume.restore_rngs(saved["rngs"])
        for name in ("epoch", "batches", "step", "loss_sum", "history", "best_epoch", "best_score", "best_weights",
                     "best_dev_predictions", "train_seconds"):
            setattr(self, name, saved[name])
        self.resumed = saved["resumed"] + [{"epoch": self.epoch, "step": self.step}]


def train_epoch(state: RunState, features: list[dict], cfg, pad_id: int, device, dtype,
                stop: resume.StopRequests, save, track=None) -> float:
    """Train from the state's position to the end of the epoch; on SIGTERM / SIGINT save the state and raise
    Preempted. `track(step, metrics)`, when given (on every rank alike), gets the train loss, learning rate and
    examples/s every trainer.log_every optimizer steps: the only host syncs it adds (see log_train)."""
    model, trainer = state.model, cfg.trainer
    model.train()
    if state.batches is None:
        state.batches, state.step, state.loss_sum = epoch_batches(
            features, trainer.batch_size, state.data_order, trainer.group_by_length), 0, 0.0
    batches = state.batches
    progress = progress_bar(range(state.step, len(batches)), f"epoch {state.epoch + 1}/{trainer.epochs}",
                            trainer.progress)
    trainable = [p for p in model.parameters() if p.requires_grad]
    forward, ranks = state.forward if state.forward is not None else model, state.ranks
    last_dev = {f"dev_{k}": f"{v:.2f}" for k, v in (state.history[-1]["dev"] if state.history else {}).items()}
    loss_sum = torch.tensor(state.loss_sum, device=device)  # summed on the device: no host sync per step
    began = time.perf_counter()
    window = (state.step, began)  # the batches and time since the last train log
    for step in progress:
        members, share = ranks.shard(batches[step], features)  # the whole batch (share 1) in one process
        batch = move(collate([features[i] for i in members], pad_id), device)  # padded one batch at a time
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = model.loss(forward(batch), batch) * share
        state.scaler.scale(loss * ranks.world / trainer.grad_accum).backward()  # DDP averages over the ranks
        loss_sum += loss.detach().float()
        if (step + 1) % trainer.grad_accum == 0 or step + 1 == len(batches):
            if trainer.max_grad_norm:
                state.scaler.unscale_(state.optimizer)
                torch.nn.utils.clip_grad_norm_(trainable, trainer.max_grad_norm)
            state.scaler.step(state.optimizer)
            state.scaler.update()
            state.optimizer.zero_grad(set_to_none=True)
            state.schedule.step()
            if track is not None and state.schedule.last_epoch % trainer.log_every == 0:
                window = log_train(state, track, batches, step + 1, loss_sum, window)
            if stop.requested and step + 1 < len(batches):
                state.step, state.loss_sum = step + 1, loss_sum.item()
                state.train_seconds += time.perf_counter() - began
                save()
                raise stop.stopped(f"in epoch {state.epoch + 1} after step {step + 1}")
        if hasattr(progress, "set_postfix") and (step + 1) % SHOW_LOSS_EVERY == 0:
            progress.set_postfix(loss=f"{loss_sum.item() / (step + 1):.4f}", **last_dev)
    mean_loss = ranks.sum(loss_sum).item() / max(1, len(batches))  # waits for the device: the time is all in
    state.train_seconds += time.perf_counter() - began
    state.batches, state.step, state.loss_sum = None, 0, 0.0
    return mean_loss


def log_train(state: RunState, track, batches: list, done: int, loss_sum: torch.Tensor, window: tuple) -> tuple:
    """track(optimizer step, {train/loss: the epoch's mean batch loss so far (what the progress bar and the epoch's
    line show, and what a resumed run computes alike), train/lr, train/examples_per_second since the last log}).
    Reading the loss waits for the device; summing it over the ranks is a collective, hence on every rank."""
    loss = state.ranks.sum(loss_sum).item() / done
    first, since = window
    now = time.perf_counter()
    examples = sum(len(batch) for batch in batches[first:done])
    track(state.schedule.last_epoch, {"train/loss": loss, "train/lr": state.schedule.get_last_lr()[0],
                                      "train/examples_per_second": examples / max(now - since, 1e-9)})
    return done, now
