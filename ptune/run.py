"""The runner: one run = seed, build, train, select the best dev epoch, predict, write one row.

    ptune run method=ptv2 task=rte model=minilm data_dir=../shared/data
    ptune run -m method=finetune,prompt,prefix,ptv2 task=rte model=tiny-roberta trainer=smoke
    ptune run -m ... skip_done=true resume=auto     # continue a stopped sweep where it stopped
    ptune run -m hydra/launcher=joblib hydra.launcher.n_jobs=2 ...   # jobs in parallel (ptune/sweeps.py)
    torchrun --standalone --nproc_per_node 2 -m ptune.cli run ...  # one run, data parallel (ptune/distributed.py)

Everything a run owns lives in `RunState` (model, optimizer, schedule, data order, position in the
epoch, metrics), so that a run can be saved and resumed (ptune/resume.py) and runs can later be
stacked. Rows: see ptune/rows.py.
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

from ptune import checkpoint, distributed, feature_cache, resume, reuse, rows, sweeps
from ptune.backbones import load_tokenizer
from ptune.batching import epoch_batches, inference_batches
from ptune.checks import validate
from ptune.config import config_dir
from ptune.data import collate
from ptune.model import PromptedModel, build_model
from ptune.portable import portable_path
from ptune.schema import prompt_length_of, register
from ptune.tasks import build_task
from ptune.training import (autocast_dtype, cast_frozen_linears, make_optimizer, make_schedule, move, peak_memory_mib,
                            pick_device, precision_name, progress_bar, reset_peak_memory, seed_everything)

log = logging.getLogger(__name__)
SHOW_LOSS_EVERY = 20  # steps between progress-bar loss updates (reading the loss syncs with the device)

log = logging.getLogger(__name__)  # Hydra writes it to the terminal and to <run folder>/run.log
register()  # the config schemas, before Hydra composes


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
        """What resume needs to continue exactly where this run stands (see ptune/resume.py)."""
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


@torch.inference_mode()
def infer(model: PromptedModel, features: list[dict], cfg, pad_id: int, device, dtype) -> list[torch.Tensor]:
    """One output tensor per feature (in the features' order), trimmed to its own length for token-level heads."""
    model.eval()
    outputs: list = [None] * len(features)
    for indices in inference_batches(features, cfg.trainer.eval_batch_size):
        chunk = [features[i] for i in indices]
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(move(collate(chunk, pad_id), device)).float().cpu()
        for i, row in zip(indices, logits):
            outputs[i] = row[:len(features[i]["input_ids"])] if row.dim() >= 2 else row
    return outputs


def evaluate(task, split_data, model, cfg, pad_id, device, dtype, ranks=distributed.Ranks()):
    examples, features = split_data
    mine = ranks.split(len(features))  # every feature alone; every N-th under torchrun, gathered on all ranks
    outputs = ranks.gather(mine, infer(model, [features[i] for i in mine], cfg, pad_id, device, dtype), len(features))
    predictions = task.predict(examples, features, outputs)
    return task.score(examples, predictions), predictions


def train_epoch(state: RunState, features: list[dict], cfg, pad_id: int, device, dtype,
                stop: resume.StopRequests, save) -> float:
    """Train from the state's position to the end of the epoch; on SIGTERM save the state and raise Preempted."""
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
            if stop.requested and step + 1 < len(batches):
                state.step, state.loss_sum = step + 1, loss_sum.item()
                state.train_seconds += time.perf_counter() - began
                save()
                raise resume.Preempted(f"stopped by SIGTERM in epoch {state.epoch + 1} after step {step + 1}")
        if hasattr(progress, "set_postfix") and (step + 1) % SHOW_LOSS_EVERY == 0:
            progress.set_postfix(loss=f"{loss_sum.item() / (step + 1):.4f}", **last_dev)
    mean_loss = ranks.sum(loss_sum).item() / max(1, len(batches))  # waits for the device: the time is all in
    state.train_seconds += time.perf_counter() - began
    state.batches, state.step, state.loss_sum = None, 0, 0.0
    return mean_loss


def load_splits(task, tokenizer, cfg) -> dict[str, tuple[list, list]]:
    """(examples, features) for train and every evaluation split that exists (tests may be missing)."""
    return {split: load_split(task, tokenizer, cfg, split) for split in ("train", *task.eval_splits)
            if split in ("train", "dev") or task.has_split(split)}


def load_split(task, tokenizer, cfg, split: str) -> tuple[list, list]:
    """(examples, features) of one split, tokenized once per process (ptune/feature_cache.py)."""
    limit = cfg.trainer.max_train_examples if split == "train" else cfg.trainer.max_eval_examples

    def load():
        examples = task.examples(split)[:limit]
        return examples, task.features(examples, tokenizer, cfg.task.max_length)

    return feature_cache.cached_split(cfg, split, limit, load)


def execute(cfg: DictConfig) -> dict:
    """Run one experiment; its row and predictions appear together under results_dir, or not at all."""
    validate(cfg)
    identifier = rows.run_id(cfg)
    run_folder = Path(cfg.paths.results_dir) / "runs" / identifier
    if cfg.skip_done and (done := resume.completed_row(cfg.paths.results_dir, identifier)):
        log.info("run %s: already done (skip_done=true), skipped", identifier)
        return done
    config = rows.experiment_config(cfg)
    if cfg.reuse_rows_from and (twin := reuse.find_twin(cfg.reuse_rows_from, identifier, config)):
        return reuse.adopt(twin, run_folder, identifier, config)
    resume_mode = resume.resume_mode(cfg.resume)
    ranks, device = distributed.setup(pick_device(cfg.device))  # under torchrun: this rank's device
    dtype = autocast_dtype(cfg.trainer.precision, device)  # an impossible precision fails before any work
    saved = resume.find_state(cfg.paths.output_dir, identifier, config, resume_mode)
    row = {"run_id": identifier, "status": "running", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "task": cfg.task.name, "model": cfg.model.name, "method": cfg.method.name,
           "prompt_length": prompt_length_of(cfg.method), "seed": cfg.seed,
           "hyperparameters": {"lr": cfg.method.lr, **OmegaConf.to_container(cfg.trainer, resolve=True),
                               "max_length": cfg.task.max_length, "precision_used": precision_name(dtype)},
           "provenance": rows.provenance(str(device), cfg.data_dir) | {"world_size": ranks.world}, "config": config}
    log.info(f"run {identifier}: data_dir {cfg.data_dir}, output {hydra_output_dir()}, argv {sys.argv[1:]}")
    staging = rows.staging_folder(run_folder)
    state_file = resume.state_path(cfg.paths.output_dir, identifier)
    try:
        with resume.StopRequests() as stop:
            row |= train_and_evaluate(cfg, config, device, dtype, staging, saved, state_file, stop, ranks)
        row["provenance"]["resumed"] = row.pop("resumed")
        row |= {"status": "completed", "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        if not ranks.main:
            return row
        rows.write_json_atomic(staging / "row.json", row)
        rows.publish_run_folder(staging, run_folder)
        resume.discard_state(state_file)
    except (Exception, KeyboardInterrupt, resume.Preempted) as error:
        status = "failed" if isinstance(error, Exception) else "interrupted"
        extra = {"resumable": True, "resume": f"rerun the same command with resume=true (state: {state_file})"} \
            if state_file.is_file() else {}
        record = rows.record_failure(run_folder, row | extra | {"rank": ranks.rank}, status, error)
        log.error(f"run {identifier} {status}; recorded in {record}")
        error.failure_record = str(record)  # for the sweep's summary (ptune/sweeps.py)
        raise
    log.info(f"row: {run_folder / 'row.json'}")
    return row


def train_and_evaluate(cfg: DictConfig, config: dict, device: torch.device, dtype, staging: Path,
                       saved: dict | None, state_file: Path, stop: resume.StopRequests,
                       ranks=distributed.Ranks()) -> dict:
    """Train (from a saved state when given), keep the best dev epoch, write predictions; return the row's results.
    `config` is the run's experiment config (rows.experiment_config), which every saved state carries."""
    seed_everything(cfg.seed)
    reset_peak_memory(device)
    task = build_task(cfg.task, cfg.data_dir)
    tokenizer = load_tokenizer(cfg.model, task.words_pretokenized)
    splits = load_splits(task, tokenizer, cfg)
    model = build_model(cfg.model, cfg.method, task, cfg.task.max_length, tokenizer).to(device)
    if cfg.trainer.cast_frozen:
        cast_frozen_linears(model, dtype)  # same numbers under autocast, less memory and casting
    if cfg.trainer.gradient_checkpointing:
        model.enable_checkpointing()
    if cfg.trainer.compile:
        model.backbone.compile(dynamic=True)  # in place: parameter names (and checkpoints) stay the same
    pad_id = tokenizer.pad_token_id

    optimizer = make_optimizer(model, cfg.method.lr, cfg.trainer.weight_decay)
    steps_per_epoch = math.ceil(math.ceil(len(splits["train"][1]) / cfg.trainer.batch_size) / cfg.trainer.grad_accum)
    state = RunState(model, optimizer, make_schedule(optimizer, cfg.trainer, steps_per_epoch),
                     torch.amp.GradScaler(device.type, enabled=dtype == torch.float16),
                     torch.Generator().manual_seed(cfg.seed), ranks=ranks)
    if saved is not None:
        state.restore(saved)
        log.info("resumed at epoch %d, step %d from %s", state.epoch + 1, state.step, state_file)
    state.forward = ranks.wrap(model)  # after restoring: DDP starts every rank from rank 0's weights

    def save():
        if ranks.main:
            resume.save_state(state_file, state.snapshot(config))

    while state.epoch < cfg.trainer.epochs:
        train_loss = train_epoch(state, splits["train"][1], cfg, pad_id, device, dtype, stop, save)
        dev_metrics, dev_predictions = evaluate(task, splits["dev"], model, cfg, pad_id, device, dtype, ranks)
        state.epoch += 1
        state.history.append({"epoch": state.epoch, "train_loss": train_loss, "dev": dev_metrics})
        log.info(f"epoch {state.epoch}: train loss {train_loss:.4f}, dev {dev_metrics}")
        if dev_metrics[task.primary_metric] > state.best_score:
            state.best_score, state.best_epoch = dev_metrics[task.primary_metric], state.epoch
            state.best_weights = {k: v.cpu() for k, v in model.trainable_state_dict().items()}
            state.best_dev_predictions = dev_predictions
        save()
        if stop.requested and state.epoch < cfg.trainer.epochs:
            raise resume.Preempted(f"stopped by SIGTERM after epoch {state.epoch}")

    if state.best_epoch is None:
        raise RuntimeError(f"no epoch produced a finite dev {task.primary_metric}: {state.history}")
    if cfg.trainer.save_last and ranks.main:  # before the best epoch's weights replace the last's
        log.info(f"checkpoint of the last epoch: {checkpoint.save_run(cfg, model.trainable_state_dict(), model, 'last')}")
    # Every other evaluation split is scored once, with the weights of the best dev epoch.
    model.load_state_dict(state.best_weights, strict=False)
    metrics = {"dev": {"best": state.history[state.best_epoch - 1]["dev"], "last": state.history[-1]["dev"]}}
    if ranks.main:
        task.write_predictions(state.best_dev_predictions, staging / "predictions" / "dev", "dev")
    for split in [s for s in splits if s not in ("train", "dev")]:
        scores, predictions = evaluate(task, splits[split], model, cfg, pad_id, device, dtype, ranks)
        if ranks.main:
            task.write_predictions(predictions, staging / "predictions" / split, split)
        metrics[split] = {"best": scores}
    if cfg.trainer.save_checkpoint and ranks.main:
        log.info(f"checkpoint: {checkpoint.save_run(cfg, state.best_weights, model)}")

    trainable, total = model.parameter_counts()
    memory, memory_kind = peak_memory_mib(device)
    examples_seen = len(splits["train"][1]) * cfg.trainer.epochs
    return {"primary_metric": task.primary_metric, "best_epoch": state.best_epoch, "epochs_run": len(state.history),
            "metrics": metrics, "history": state.history,
            "params": {"trainable": trainable, "total": total, "trainable_percent": 100.0 * trainable / total},
            "train_seconds": round(state.train_seconds, 2),
            "train_examples_per_second": round(examples_seen / state.train_seconds, 2),
            "peak_memory_mib": round(memory, 1), "peak_memory_kind": memory_kind,
            "data": {"source": portable_path(cfg.data_dir) if cfg.data_dir else "hub",
                     **task.data_description(),
                     **{f"{s}_examples": len(splits[s][0]) for s in splits},
                     "train_tokens": sum(len(feature["input_ids"]) for feature in splits["train"][1])},
            "resumed": state.resumed}


def hydra_output_dir() -> str:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get().runtime.output_dir if HydraConfig.initialized() else "."


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> float:
    """The best dev score of the primary metric (what Hydra's Optuna sweeper maximizes; NaN for a failed job).
    In a multirun a failed job records its outcome and the sweep goes on (ptune/sweeps.py)."""
    return sweeps.run_job(cfg, execute)


if __name__ == "__main__":
    main()
