"""Sweeps on Hydra's launchers: every job checked before the first starts, one job's outcome, and the multirun's
summary.

    ptune run -m hydra/launcher=joblib hydra.launcher.n_jobs=2 method=prompt,ptv2 seed=1,2 ...  # local pool
    ptune run -m hydra/launcher=slurm_1gpu hydra.launcher.timeout_min=240 ...                   # SLURM

In a multirun a failed job does not stop the others: `run_job` records the failure (results/runs/<run
id>/failed-*.json, as every failed run does), writes the job's outcome to outcome.json in the job's own
Hydra folder (no file is shared between jobs), and returns it instead of raising. `Summary` (a Hydra
callback, conf/config.yaml) then lists done / skipped / failed runs with their rows and failure records,
writes <sweep dir>/summary.json and exits 1 when any job failed. A single run still raises.

Before that, `CheckJobs` (the first callback, conf/config.yaml) composes every job of the sweep and checks its config
(ptune/config/checks.py) in the main process, whatever the launcher: one bad job refuses the whole sweep in seconds,
before any job starts, with one error line naming that job's overrides. A basic sweep's jobs are expanded as Hydra's
BasicSweeper expands them (its params and the command's overrides); a sweeper that picks its trials as it goes
(Optuna) has only its fixed part checked (the command's overrides that are not sweeps). On a launcher that runs
the jobs on this machine (basic, joblib), each job's model folders and data files are checked too.
"""
from __future__ import annotations

import copy
import json
import logging
from functools import partial
from pathlib import Path

from hydra import compose
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import OmegaConf, open_dict

from ptune.config.checks import (
    check_backbone_fit,
    check_config,
    check_sources,
    validate,
)

log = logging.getLogger(__name__)
OUTCOME_FILE = "outcome.json"
SUCCESS = ("completed", "skipped", "reused")



def collect(sweep_dir: Path) -> list[dict]:
    """Every job's outcome under the sweep folder; a job folder without one is a job that died ("lost")."""
    outcomes = [json.loads(path.read_text()) for path in sweep_dir.rglob(OUTCOME_FILE)]
    for config in sorted(sweep_dir.rglob(".hydra/config.yaml")):
        if not (config.parent.parent / OUTCOME_FILE).is_file():
            outcomes.append({"job": None, "run_id": None, "status": "lost", "folder": str(config.parent.parent),
                             "error": "the job wrote no outcome (killed, or it crashed outside the runner)"})
    return sorted(outcomes, key=lambda o: (o["job"] is None, o["job"] or 0))


def summary_lines(outcomes: list[dict]) -> list[str]:
    counts = {status: sum(o["status"] == status for o in outcomes) for status in dict.fromkeys(
        ["completed", "skipped", "reused", *(o["status"] for o in outcomes)])}
    lines = [f"sweep: {len(outcomes)} jobs: " + ", ".join(f"{n} {status}" for status, n in counts.items())]
    for o in outcomes:
        job = f"#{o['job']}" if o["job"] is not None else "#?"
        if o["status"] in SUCCESS:
            where = " ".join(f"dev {k} {v}" for k, v in (o.get("dev") or {}).items()) + f"  {o.get('row')}"
        else:
            where = f"{o.get('error')}; record: {o.get('failure_record')}"
        lines.append(f"  {o['status']:<11} {job:<4} {o.get('run_id') or o.get('folder')}  {where}")
    return lines


class RunFailed(BaseException):
    """A single run's error, carried past Hydra: its job wrapper catches an Exception only to log "Error executing
    job with overrides: [...]" and raise it again, and its callbacks' Exceptions become warnings. `ptune run`
    re-raises `error` and prints its one line alone (raised by run_job, ptune/sweeps/job.py, and by CheckJobs
    before a single run starts)."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


class JobRefused(SystemExit):
    """A sweep's job whose config is wrong, found before any job started: `ptune run` prints `error` as one line
    naming the job, exit 2. A SystemExit, because Hydra turns a callback's exceptions into warnings. count None: the
    fixed part of a sweep whose jobs are not known up front."""

    def __init__(self, job: int, count: int | None, overrides: list[str], error: Exception):
        super().__init__(2)
        self.job, self.count, self.overrides, self.error = job, count, overrides, error


# Launchers whose jobs run on this machine, which then sees the files they read: every job's model folders and data
# files are checked before the first starts. A cluster's job checks its own, on its node (ptune/train/preflight.py).
LOCAL_LAUNCHERS = (".BasicLauncher", ".JoblibLauncher")


def sweep_jobs(config) -> tuple[list[list[str]], bool]:
    """(each job's overrides, whether those are all the sweep's jobs). A basic sweep: every job, expanded as
    Hydra's BasicSweeper expands it (hydra.sweeper.params, then the command's overrides); another sweeper (Optuna):
    one job, the command's overrides that are not sweeps (its trials are picked as it goes)."""
    task_overrides = list(config.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    if str(config.hydra.sweeper.get("_target_", "")).endswith(".BasicSweeper"):
        params = [f"{key}={value}" for key, value in (config.hydra.sweeper.get("params") or {}).items()]
        [jobs] = BasicSweeper.split_arguments(parser.parse_overrides(params + task_overrides), max_batch_size=None)
        return jobs, True
    fixed = [override.input_line for override in parser.parse_overrides(task_overrides)
             if not override.is_sweep_override()]
    return [fixed], False


def swept(jobs: list[list[str]], overrides: list[str]) -> list[str]:
    """The overrides of one job whose value differs between jobs (all of them for a single job)."""
    varying = [o for o in overrides if any(o not in job for job in jobs)]
    return varying or overrides


class CheckJobs(Callback):
    """Hydra callback: before a multirun starts any job, compose and check every job's config (see above); before
    a single run starts, check its config, before Hydra makes the run's folder and the runner loads torch (the
    runner checks it again, for the runs no callback saw: from Python, an Optuna trial)."""

    def on_run_start(self, config, **kwargs) -> None:
        cfg = copy.deepcopy(config)  # the task function's config: the run's, without Hydra's node
        with open_dict(cfg):
            del cfg["hydra"]
        try:
            validate(cfg)
        except Exception as error:  # noqa: BLE001 - `ptune run` words it (ptune/cli.py)
            raise RunFailed(error) from error

    def on_multirun_start(self, config, config_name=None, **kwargs) -> None:
        jobs, complete = sweep_jobs(config)
        composed = []
        positions = partial(check_backbone_fit, device_memory=False)  # no CUDA here: each job checks the memory
        for check in (check_config, check_sources, positions):  # every job's own config first: no torch there
            for number, overrides in enumerate(jobs):
                try:
                    if len(composed) <= number:
                        composed.append(compose(config_name=config_name, overrides=overrides))
                    check(composed[number])
                except Exception as error:  # noqa: BLE001 - `ptune run` words it (ptune/cli.py)
                    raise JobRefused(number, len(jobs) if complete else None, swept(jobs, overrides), error) \
                        from error
        if str(config.hydra.launcher.get("_target_", "")).endswith(LOCAL_LAUNCHERS):
            # deferred: tasks read their files with torch loaded; a config error above answered without it
            from ptune.train.preflight import check_inputs

            checked = set()
            for number, overrides in enumerate(jobs):
                inputs = OmegaConf.to_yaml({k: composed[number].get(k) for k in ("model", "task", "data_dir")})
                if inputs in checked:
                    continue
                checked.add(inputs)
                try:
                    check_inputs(composed[number])
                except Exception as error:  # noqa: BLE001 - `ptune run` words it (ptune/cli.py)
                    raise JobRefused(number, len(jobs) if complete else None, swept(jobs, overrides), error) \
                        from error
        log.info("sweep: the configs of %s checked before any job starts", f"all {len(jobs)} jobs" if complete else
                 "the fixed part (the sweeper picks its trials as it goes)")


class Summary(Callback):
    """Hydra callback: after a multirun, list done / skipped / failed jobs; exit 1 when any did not succeed."""

    def on_multirun_start(self, config, **kwargs) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        for stale in sweep_dir.rglob(OUTCOME_FILE) if sweep_dir.is_dir() else []:
            stale.unlink()  # a sweep folder reused by a new multirun: only this multirun's outcomes count

    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        outcomes = collect(sweep_dir)
        summary = sweep_dir / "summary.json"
        summary.write_text(json.dumps(outcomes, indent=2) + "\n")
        for line in summary_lines(outcomes):
            log.info(line)
        failed = [o for o in outcomes if o["status"] not in SUCCESS]
        if failed:
            # Hydra turns a callback's exceptions into warnings; SystemExit makes the command exit 1.
            raise SystemExit(f"ptune: {len(failed)} of {len(outcomes)} sweep jobs did not complete; see {summary}")
