"""A run's tracker: the backends its `logger` config names, behind one call each.

    tracker = start(cfg, run_id, resuming=saved is not None, main=ranks.main)
    tracker.log(step, {"train/loss": ...})     # steps: optimizer steps (the LR schedule's count)
    tracker.finish(run_folder, row) | tracker.close("failed" | "interrupted")

What resume needs lives in <paths.output_dir>/state/<run id>/tracking.json, beside the run's resume state: each
backend's handle (MLflow run id, W&B run id, TensorBoard / CSV folder) and, per metric, the last step logged. A
resumed run reopens the same tracked runs and skips any metric at a step it already logged (a run that crashed
after its last saved state repeats those steps bit for bit), so no step is logged twice. A backend that raises
logs one warning and is dropped, and so is a tracking.json that cannot be written; the run goes on. Only the main
rank tracks.
"""
from __future__ import annotations

import json
import logging
import numbers
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf

from ptune.store.write import write_json_atomic
from ptune.train import resume
from ptune.train.tracking.base import BACKENDS, Backend, RunInfo

log = logging.getLogger(__name__)
SIDECAR = "tracking.json"


class Tracker:
    def __init__(self, backends: dict[str, Backend], wanted: bool, sidecar: Path | None = None,
                 record: dict | None = None):
        self.backends = backends
        self.wanted = wanted  # a logger is configured: on every rank alike (the train loss is summed over ranks)
        self.sidecar = sidecar
        self.record = record or {"backends": {}, "steps": {}}

    def log(self, step: int, metrics: dict) -> None:
        """Send `metrics` at `step` to every backend, but no metric at a step it was already logged at."""
        steps = self.record["steps"]
        fresh = {name: float(value) for name, value in metrics.items()
                 if isinstance(value, numbers.Real) and step > steps.get(name, -1)}
        if not fresh or not self.backends:
            return
        self._each("log", step, fresh)
        steps.update(dict.fromkeys(fresh, step))
        self.save()

    def finish(self, folder: Path, row) -> None:
        """A completed run: its row's best and last metrics (dev/best/<metric>, test/best/<metric>, ...), then the row
        and prediction files as artifacts where the backend keeps them; the tracking state is discarded."""
        final = {f"{split}/{which}/{name}": value for split, kinds in row.metrics.items()
                 for which, scores in kinds.items() for name, value in (scores or {}).items()}
        self.log(max(self.record["steps"].values(), default=0), final | {"best_epoch": row.best_epoch})
        self._each("finish", folder, "completed")
        self.backends = {}
        if self.sidecar is not None:
            self.sidecar.unlink(missing_ok=True)

    def close(self, status: str) -> None:
        """A stopped or failed run: close every backend and keep what a resume needs to reopen them."""
        self._each("finish", None, status)
        self.backends = {}

    def save(self) -> None:
        """Write tracking.json; where it cannot be written, warn once and go on without it (a resume may then log a
        step again): like a backend, the record is never worth a run, least of all one whose row is published."""
        if self.sidecar is None:
            return
        try:
            write_json_atomic(self.sidecar, self.record)
        except OSError as error:
            log.warning("logger: cannot write %s (%s); the run goes on without it", self.sidecar, error)
            self.sidecar = None

    def _each(self, method: str, *args) -> None:
        for name, backend in list(self.backends.items()):
            try:
                getattr(backend, method)(*args)
            except Exception as error:  # tracking is never worth a run
                log.warning("logger %s failed in %s (%s: %s); the run goes on without it", name, method,
                            type(error).__name__, error)
                del self.backends[name]


def start(cfg, run_id: str, resuming: bool, main: bool = True) -> Tracker:
    """The run's tracker with every backend of cfg.logger started, or reopened when `resuming` (the run continues
    from its saved state) and tracking.json says how; a tracker of none off the main rank or with logger=none."""
    names = list(cfg.get("logger") or {})
    for name in names:
        BACKENDS.get(name)  # an unknown name fails with the choices, before any work
    if not names or not main:
        return Tracker({}, wanted=bool(names))
    sidecar = resume.state_path(cfg.paths.output_dir, run_id).parent / SIDECAR
    before = json.loads(sidecar.read_text()) if resuming and sidecar.is_file() else {"backends": {}, "steps": {}}
    config = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True, enum_to_str=True).items() if k != "hydra"}
    group = sweep_group(cfg.paths.output_dir)
    tracker = Tracker({}, wanted=True, sidecar=sidecar, record={"backends": {}, "steps": before["steps"]})
    for name in names:
        reopen = before["backends"].get(name)
        settings = OmegaConf.to_container(cfg.logger[name], resolve=True)
        try:
            backend = BACKENDS.get(name)(RunInfo(run_id, config, group, settings, reopen))
            tracker.record["backends"][name] = backend.start()
            tracker.backends[name] = backend
        except Exception as error:
            log.warning("logger %s could not start (%s: %s); the run goes on without it", name,
                        type(error).__name__, error)
    tracker.save()
    return tracker


def sweep_group(output_dir) -> str | None:
    """The multirun this job belongs to, named by its sweep folder (relative to output_dir when under it, e.g.
    multirun/2026-01-31/10-00-00-000000); None for a lone run."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    sweep = Path(HydraConfig.get().sweep.dir).resolve()
    try:
        return sweep.relative_to(Path(output_dir).resolve()).as_posix()
    except ValueError:
        return sweep.name
