"""The runner: one run = check what it needs (ptune/train/preflight.py), seed, build, train, select the best dev
epoch, predict, write one row.

    ptune run method=ptv2 task=rte model=minilm data_dir=../shared/data
    ptune run -m method=finetune,prompt,prefix,ptv2 task=rte model=tiny-roberta trainer=smoke
    ptune run -m ... skip_done=true resume=auto     # continue a stopped sweep where it stopped
    ptune run -m hydra/launcher=joblib hydra.launcher.n_jobs=2 ...   # jobs in parallel (ptune/sweeps/callbacks.py)
    torchrun --standalone --nproc_per_node 2 -m ptune.cli run ...  # one run, data parallel (ptune/train/distributed.py)

A run refused by the checks (exit code 2: something to change) records nothing; one that fails or is stopped
after them records failed-<time>.json (ptune/store/write.py) and leaves no staging folder.

Everything a run owns lives in `RunState` (model, optimizer, schedule, data order, position in the
epoch, metrics), so that a run can be saved and resumed (ptune/train/resume.py) and runs can later be
stacked. Rows: see ptune/store/ (row.py: the Row; write.py: how it is written).
"""
from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import sys
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from ptune.config.checks import validate
from ptune.errors import PtuneError
from ptune.model.backbones import load_tokenizer
from ptune.model.device import (
    autocast_dtype,
    cast_frozen_linears,
    peak_memory_mib,
    pick_device,
    precision_name,
    reset_peak_memory,
)
from ptune.model.methods.schemas import prompt_length_of
from ptune.model.prompted import build_model
from ptune.store import find, reuse, write
from ptune.store.portable import portable_path
from ptune.store.provenance import provenance
from ptune.store.row import Row
from ptune.store.run_id import experiment_config, run_id
from ptune.tasks import build_task
from ptune.train import checkpoint, distributed, preflight, resume
from ptune.train.feature_cache import load_splits
from ptune.train.inference import evaluate
from ptune.train.loop import RunState, train_epoch
from ptune.train.optim import make_optimizer, make_schedule, seed_everything
from ptune.train.tracking import tracker as tracking

log = logging.getLogger(__name__)  # Hydra writes it to the terminal and to <run folder>/run.log


def execute(cfg: DictConfig) -> Row:
    """Run one experiment; its row and predictions appear together under results_dir, or not at all."""
    return run(cfg)[0]


def run(cfg: DictConfig, identifier: str | None = None) -> tuple[Row, str]:
    """Run one experiment; returns its row and how it came: "completed" (trained now), "skipped" (done before,
    skip_done=true) or "reused" (a twin's, reuse_rows_from). `identifier`: its run id, where the caller has it."""
    validate(cfg)  # before the run id: a missing or wrong value is reported as such
    identifier = identifier or run_id(cfg)
    run_folder = find.run_path(cfg.paths.results_dir, identifier)
    if cfg.skip_done and (done := find.completed_row(cfg.paths.results_dir, identifier)):
        log.info("run %s: already done (skip_done=true), skipped", identifier)
        return done, "skipped"
    config = experiment_config(cfg)
    if cfg.reuse_rows_from and (twin := reuse.find_twin(cfg.reuse_rows_from, identifier, config)):
        return reuse.adopt(twin, run_folder, identifier, config), "reused"
    saved = preflight.check(cfg, identifier, config)  # what the user must change fails here: exit 2, no record
    ranks, device = distributed.setup(pick_device(cfg.device))  # under torchrun: this rank's device
    dtype = autocast_dtype(cfg.trainer.precision, device)
    row = Row(run_id=identifier, started=write.timestamp(), task=cfg.task.name, model=cfg.model.name,
              method=cfg.method.name, prompt_length=prompt_length_of(cfg.method), seed=cfg.seed,
              hyperparameters={"lr": cfg.method.lr, **OmegaConf.to_container(cfg.trainer, resolve=True),
                               "max_length": cfg.task.max_length, "precision_used": precision_name(dtype)},
              provenance=provenance(str(device), cfg.data_dir) | {"world_size": ranks.world}, config=config)
    log.info(f"run {identifier}: data_dir {cfg.data_dir}, output {hydra_output_dir()}, argv {sys.argv[1:]}")
    staging = write.staging_folder(run_folder)
    state_file = resume.state_path(cfg.paths.output_dir, identifier)
    tracker = tracking.Tracker({}, wanted=False)
    try:
        tracker = tracking.start(cfg, identifier, resuming=saved is not None, main=ranks.main)  # logger=... backends
        with resume.StopRequests() as stop:
            results = train_and_evaluate(cfg, identifier, config, device, dtype, staging, saved, state_file, stop,
                                         ranks, tracker)
        row.provenance["resumed"] = results.pop("resumed")
        row = dataclasses.replace(row, **results, status="completed", finished=write.timestamp())
        if not ranks.main:
            return row, "completed"
        write.write_row(staging, row)
        write.publish_run_folder(staging, run_folder)
        tracker.finish(run_folder, row)
        resume.discard_state(state_file)
    except (Exception, KeyboardInterrupt, resume.Preempted) as error:
        shutil.rmtree(staging, ignore_errors=True)  # half a run folder never stays behind
        status = "failed" if isinstance(error, Exception) else "interrupted"
        tracker.close(status)
        if isinstance(error, PtuneError) and error.exit_code == 2:
            raise  # something to change before the run can start (ptune/errors.py): nothing ran, nothing to record
        extra = {"resumable": True, "resume": f"rerun the same command with resume=true (state: {state_file})"} \
            if state_file.is_file() else {}
        try:
            record = write.record_failure(run_folder, row, status, error, **extra, rank=ranks.rank)
            log.error(f"run {identifier} {status}; recorded in {record}")
        except OSError as unrecorded:  # the disk that failed the run can fail its record too
            record = None
            log.error(f"run {identifier} {status}; its failure record could not be written: {unrecorded}")
        if write.disk_full(error):
            error = write.disk_full_error(error, cfg.paths.results_dir, bool(extra))
        error.failure_record = record and str(record)  # for the sweep's summary (ptune/sweeps/callbacks.py)
        raise error
    log.info(f"row: {run_folder / find.ROW_FILE}")
    return row, "completed"


def train_and_evaluate(cfg: DictConfig, identifier: str, config: dict, device: torch.device, dtype, staging: Path,
                       saved: dict | None, state_file: Path, stop: resume.StopRequests,
                       ranks=distributed.Ranks(), tracker=tracking.Tracker({}, wanted=False)) -> dict:
    """Train (from a saved state when given), keep the best dev epoch, write predictions; return the row's results
    (Row fields, and `resumed`). `config` is the run's experiment config, which every saved state carries."""
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
    trainable, total = model.parameter_counts()
    if saved is None:  # a resumed run logged them when it started
        tracker.log(0, {"params/trainable_percent": 100.0 * trainable / total, "params/trainable": trainable,
                        "params/total": total})

    def save():
        if ranks.main:
            resume.save_state(state_file, state.snapshot(config))

    while state.epoch < cfg.trainer.epochs:
        train_loss = train_epoch(state, splits["train"][1], cfg, pad_id, device, dtype, stop, save,
                                 tracker.log if tracker.wanted else None)
        dev_metrics, dev_predictions = evaluate(task, splits["dev"], model, cfg, pad_id, device, dtype, ranks)
        state.epoch += 1
        state.history.append({"epoch": state.epoch, "train_loss": train_loss, "dev": dev_metrics})
        log.info(f"epoch {state.epoch}: train loss {train_loss:.4f}, dev {dev_metrics}")
        tracker.log(state.schedule.last_epoch, {"epoch": state.epoch, "train/epoch_loss": train_loss,
                                                **{f"dev/{name}": value for name, value in dev_metrics.items()}})
        if dev_metrics[task.primary_metric] > state.best_score:
            state.best_score, state.best_epoch = dev_metrics[task.primary_metric], state.epoch
            state.best_weights = {k: v.cpu() for k, v in model.trainable_state_dict().items()}
            state.best_dev_predictions = dev_predictions
        save()
        if stop.requested and state.epoch < cfg.trainer.epochs:
            raise stop.stopped(f"after epoch {state.epoch}")

    if state.best_epoch is None:
        raise RuntimeError(f"no epoch produced a finite dev {task.primary_metric}: {state.history}")
    if cfg.trainer.save_last and ranks.main:  # before the best epoch's weights replace the last's
        last = checkpoint.save_run(cfg, identifier, config, model.trainable_state_dict(), model, "last")
        log.info(f"checkpoint of the last epoch: {last}")
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
        log.info(f"checkpoint: {checkpoint.save_run(cfg, identifier, config, state.best_weights, model)}")

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
    return HydraConfig.get().runtime.output_dir if HydraConfig.initialized() else "."

