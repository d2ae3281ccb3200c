"""The `ptune run` Hydra app: one run, or one job of a multirun that reports its outcome instead of raising.

In a multirun a failed job does not stop the others: `run_job` records the failure (as every failed run does),
writes the job's outcome to outcome.json in the job's own Hydra folder (no file is shared between jobs), and
returns NaN instead of raising; the `Summary` callback (ptune/sweeps/callbacks.py) then lists the outcomes.

This module, and all it imports, loads no torch, transformers or datasets: the config is composed, and checked
(ptune/config/checks.py) by the CheckJobs callback, before `run_job` imports the runner, so that a config error,
`--help` or `--cfg job` answers in about the time Python and Hydra take to start (tests/test_cli.py holds it to that).
"""
from __future__ import annotations

import logging
import math
import os
import socket
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ptune.config.compose import config_dir
from ptune.config.schema import register
from ptune.store import find
from ptune.store.run_id import run_id
from ptune.store.write import write_json_atomic
from ptune.sweeps import gpu_slots
from ptune.sweeps.callbacks import OUTCOME_FILE, RunFailed

log = logging.getLogger(__name__)
register()  # the config schemas, before Hydra composes


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> float:
    """The best dev score of the primary metric (what Hydra's Optuna sweeper maximizes; NaN for a failed job).
    In a multirun a failed job records its outcome and the sweep goes on (ptune/sweeps/callbacks.py)."""
    return run_job(cfg)


def run_job(cfg) -> float:
    """The Hydra task function's body: one run, or, in a multirun, one job that reports instead of raising.
    Returns the run's best dev score of its primary metric (NaN for a failed job: a failed Optuna trial)."""
    gpu_slots.claim_worker_gpu()  # a joblib worker on GPUs: its own GPU, before torch touches CUDA
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    if not multirun:
        try:
            return checked_run(cfg)[0].score()
        except Exception as error:
            raise RunFailed(error) from error
    hydra_cfg = HydraConfig.get()
    identifier = run_id(cfg)  # computed once, for the run and for its outcome
    outcome = {"job": hydra_cfg.job.num, "run_id": identifier, "overrides": list(hydra_cfg.overrides.task),
               "host": socket.gethostname(), "pid": os.getpid(),
               "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    try:
        row, status = checked_run(cfg, identifier)
        outcome |= {"status": status, "row": str(find.run_path(cfg.paths.results_dir, identifier) / find.ROW_FILE)}
        if row.primary_metric:
            outcome["dev"] = {row.primary_metric: row.score()}
    except Exception as error:  # KeyboardInterrupt still stops the whole sweep
        log.error("job %s (%s) failed; the sweep goes on", hydra_cfg.job.num, identifier, exc_info=True)
        outcome |= {"status": "failed",
                    "error": f"{type(error).__name__}: {error}",
                    "failure_record": getattr(error, "failure_record", None)}
    if int(os.environ.get("RANK", "0")) == 0:
        write_json_atomic(Path(hydra_cfg.runtime.output_dir) / OUTCOME_FILE, outcome)
    return next(iter(outcome.get("dev", {}).values()), math.nan)


def checked_run(cfg, identifier: str | None = None):
    """The runner's run(cfg, identifier), which checks the config first (validate). Imported only here: the CheckJobs
    callback checked the config already, before Hydra started the run or the sweep's first job, so that a config
    error is reported before torch and transformers load; an Optuna trial, whose values no one saw before, is
    checked by run() itself."""
    # deferred: the runner imports torch and transformers
    from ptune.train.runner import run

    return run(cfg, identifier)
