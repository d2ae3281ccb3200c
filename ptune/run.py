"""The runner: one run = seed, build, train, select the best dev epoch, predict, write one row.

    ptune run method=ptv2 task=rte model=minilm data_dir=../shared/data
    ptune run -m method=finetune,prompt,prefix,ptv2 task=rte model=tiny-roberta trainer=smoke

Everything a run owns lives in `RunState` (model, optimizer, schedule, data order, metrics), so that
runs can later be resumed or stacked. Rows: see ptune/rows.py.
"""
from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig, OmegaConf

from ptune import checkpoint, rows
from ptune.backbones import load_tokenizer
from ptune.checks import validate
from ptune.config import config_dir
from ptune.data import collate
from ptune.model import PromptedModel, build_model
from ptune.portable import portable_path
from ptune.schema import prompt_length_of, register
from ptune.tasks import build_task
from ptune.training import (autocast_dtype, make_optimizer, make_schedule, move, peak_memory_mib, pick_device,
                            progress_bar, reset_peak_memory, seed_everything)

log = logging.getLogger(__name__)  # Hydra writes it to the terminal and to <run folder>/run.log
register()  # the config schemas, before Hydra composes


@dataclass
class RunState:
    model: PromptedModel
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    data_order: torch.Generator
    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_score: float = -math.inf
    best_weights: dict | None = None
    best_dev_predictions: object = None


@torch.no_grad()
def infer(model: PromptedModel, features: list[dict], cfg, pad_id: int, device, dtype) -> list[torch.Tensor]:
    """One output tensor per feature, trimmed to the feature's own length for token-level heads."""
    model.eval()
    outputs = []
    size = cfg.trainer.eval_batch_size
    for start in range(0, len(features), size):
        chunk = features[start:start + size]
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(move(collate(chunk, pad_id), device)).float().cpu()
        for row, feature in zip(logits, chunk):
            outputs.append(row[:len(feature["input_ids"])] if row.dim() >= 2 else row)
    return outputs


def evaluate(task, split_data, model, cfg, pad_id, device, dtype):
    examples, features = split_data
    predictions = task.predict(examples, features, infer(model, features, cfg, pad_id, device, dtype))
    return task.score(examples, predictions), predictions


def epoch_batches(size: int, batch_size: int, data_order: torch.Generator) -> list[list[int]]:
    """This epoch's shuffled batches of feature indices, drawn from the run's own generator and nothing else."""
    order = torch.randperm(size, generator=data_order).tolist()
    return [order[start:start + batch_size] for start in range(0, size, batch_size)]


def train_epoch(state: RunState, features: list[dict], cfg, pad_id: int, device, dtype, scaler) -> float:
    model, trainer = state.model, cfg.trainer
    model.train()
    total, count = 0.0, 0
    batches = epoch_batches(len(features), trainer.batch_size, state.data_order)
    progress = progress_bar(batches, f"epoch {state.epoch + 1}/{trainer.epochs}", trainer.progress)
    trainable = [p for p in model.parameters() if p.requires_grad]
    last_dev = {f"dev_{k}": f"{v:.2f}" for k, v in (state.history[-1]["dev"] if state.history else {}).items()}
    for step, indices in enumerate(progress):
        batch = move(collate([features[i] for i in indices], pad_id), device)  # padded one batch at a time
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = model.loss(model(batch), batch)
        scaler.scale(loss / trainer.grad_accum).backward()
        if (step + 1) % trainer.grad_accum == 0 or step + 1 == len(batches):
            if trainer.max_grad_norm:
                scaler.unscale_(state.optimizer)
                torch.nn.utils.clip_grad_norm_(trainable, trainer.max_grad_norm)
            scaler.step(state.optimizer)
            scaler.update()
            state.optimizer.zero_grad(set_to_none=True)
            state.schedule.step()
        total, count = total + loss.item(), count + 1
        if hasattr(progress, "set_postfix"):
            progress.set_postfix(loss=f"{total / count:.4f}", **last_dev)
    return total / max(1, count)


def load_splits(task, tokenizer, cfg) -> dict[str, tuple[list, list]]:
    """(examples, features) for train and every evaluation split that exists (tests may be missing)."""
    return {split: load_split(task, tokenizer, cfg, split) for split in ("train", *task.eval_splits)
            if split in ("train", "dev") or task.has_split(split)}


def load_split(task, tokenizer, cfg, split: str) -> tuple[list, list]:
    limit = cfg.trainer.max_train_examples if split == "train" else cfg.trainer.max_eval_examples
    examples = task.examples(split)[:limit]
    return examples, task.features(examples, tokenizer, cfg.task.max_length)


def execute(cfg: DictConfig) -> dict:
    """Run one experiment; its row and predictions appear together under results_dir, or not at all."""
    validate(cfg)
    identifier = rows.run_id(cfg)
    run_folder = Path(cfg.paths.results_dir) / "runs" / identifier
    device = pick_device(cfg.device)
    row = {"run_id": identifier, "status": "running", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "task": cfg.task.name, "model": cfg.model.name, "method": cfg.method.name,
           "prompt_length": prompt_length_of(cfg.method), "seed": cfg.seed,
           "hyperparameters": {"lr": cfg.method.lr, **OmegaConf.to_container(cfg.trainer, resolve=True),
                               "max_length": cfg.task.max_length},
           "provenance": rows.provenance(str(device), cfg.data_dir), "config": rows.experiment_config(cfg)}
    log.info(f"run {identifier}: data_dir {cfg.data_dir}, output {hydra_output_dir()}, argv {sys.argv[1:]}")
    staging = run_folder.with_name(f".{identifier}.staging")
    try:
        row |= train_and_evaluate(cfg, device, staging)
        row |= {"status": "completed", "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        rows.write_json_atomic(staging / "row.json", row)
        rows.publish_run_folder(staging, run_folder)
    except (Exception, KeyboardInterrupt) as error:
        status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        log.error(f"run {identifier} {status}; recorded in {rows.record_failure(run_folder, row, status, error)}")
        raise
    log.info(f"row: {run_folder / 'row.json'}")
    return row


def train_and_evaluate(cfg: DictConfig, device: torch.device, staging: Path) -> dict:
    """Train, keep the best dev epoch, write predictions into `staging`; return the row's results."""
    seed_everything(cfg.seed)
    reset_peak_memory(device)
    task = build_task(cfg.task, cfg.data_dir)
    tokenizer = load_tokenizer(cfg.model, task.words_pretokenized)
    splits = load_splits(task, tokenizer, cfg)
    model = build_model(cfg.model, cfg.method, task, cfg.task.max_length, tokenizer).to(device)
    if cfg.trainer.gradient_checkpointing:
        model.enable_checkpointing()
    pad_id = tokenizer.pad_token_id
    dtype = autocast_dtype(cfg.trainer.precision, device)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)

    data_order = torch.Generator().manual_seed(cfg.seed)
    optimizer = make_optimizer(model, cfg.method.lr, cfg.trainer.weight_decay)
    steps_per_epoch = math.ceil(math.ceil(len(splits["train"][1]) / cfg.trainer.batch_size) / cfg.trainer.grad_accum)
    state = RunState(model, optimizer, make_schedule(optimizer, cfg.trainer, steps_per_epoch), data_order)

    train_seconds = 0.0
    for state.epoch in range(cfg.trainer.epochs):
        began = time.perf_counter()
        train_loss = train_epoch(state, splits["train"][1], cfg, pad_id, device, dtype, scaler)
        train_seconds += time.perf_counter() - began
        dev_metrics, dev_predictions = evaluate(task, splits["dev"], model, cfg, pad_id, device, dtype)
        state.history.append({"epoch": state.epoch + 1, "train_loss": train_loss, "dev": dev_metrics})
        log.info(f"epoch {state.epoch + 1}: train loss {train_loss:.4f}, dev {dev_metrics}")
        if dev_metrics[task.primary_metric] > state.best_score:
            state.best_score, state.best_epoch = dev_metrics[task.primary_metric], state.epoch + 1
            state.best_weights = {k: v.cpu() for k, v in model.trainable_state_dict().items()}
            state.best_dev_predictions = dev_predictions

    if state.best_epoch is None:
        raise RuntimeError(f"no epoch produced a finite dev {task.primary_metric}: {state.history}")
    # Every other evaluation split is scored once, with the weights of the best dev epoch.
    model.load_state_dict(state.best_weights, strict=False)
    metrics = {"dev": {"best": state.history[state.best_epoch - 1]["dev"], "last": state.history[-1]["dev"]}}
    task.write_predictions(state.best_dev_predictions, staging / "predictions" / "dev", "dev")
    for split in [s for s in splits if s not in ("train", "dev")]:
        scores, predictions = evaluate(task, splits[split], model, cfg, pad_id, device, dtype)
        task.write_predictions(predictions, staging / "predictions" / split, split)
        metrics[split] = {"best": scores}
    if cfg.trainer.save_checkpoint:
        log.info(f"checkpoint: {checkpoint.save_run(cfg, state.best_weights, model)}")

    trainable, total = model.parameter_counts()
    memory, memory_kind = peak_memory_mib(device)
    examples_seen = len(splits["train"][1]) * cfg.trainer.epochs
    return {"primary_metric": task.primary_metric, "best_epoch": state.best_epoch, "epochs_run": len(state.history),
            "metrics": metrics, "history": state.history,
            "params": {"trainable": trainable, "total": total, "trainable_percent": 100.0 * trainable / total},
            "train_seconds": round(train_seconds, 2),
            "train_examples_per_second": round(examples_seen / train_seconds, 2),
            "peak_memory_mib": round(memory, 1), "peak_memory_kind": memory_kind,
            "data": {"source": portable_path(cfg.data_dir) if cfg.data_dir else "hub",
                     **task.data_description(),
                     **{f"{s}_examples": len(splits[s][0]) for s in splits}}}


def hydra_output_dir() -> str:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get().runtime.output_dir if HydraConfig.initialized() else "."


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> float:
    """Returns the best dev score of the primary metric: what Hydra's Optuna sweeper maximizes."""
    row = execute(cfg)
    return row["metrics"]["dev"]["best"][row["primary_metric"]]


if __name__ == "__main__":
    main()
