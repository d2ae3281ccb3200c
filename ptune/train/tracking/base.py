"""The one interface of a tracking backend, what it starts with, and the registry of backends by `logger` name.

A backend's life: start (a new tracked run, or the same one reopened when the run resumes), log (a step's
metrics; steps only grow), finish (the completed run's files as artifacts, or a stopped or failed run closed so
that a resume can reopen it). Any of them may raise: the tracker (tracker.py) then warns once and the run goes on
without that backend.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ptune.registry import Registry


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    config: dict           # the run's resolved config (without hydra)
    group: str | None      # the sweep this run is a job of (its folder under paths.output_dir); None for a lone run
    settings: dict         # the backend's node of the logger config (conf/logger/<name>.yaml)
    reopen: dict | None    # when resuming: what start returned when the run first started; None for a new run


class Backend:
    """One tracking library's view of a run."""

    artifacts = False  # whether finish stores the row and prediction files

    def __init__(self, run: RunInfo):
        self.run = run

    def start(self) -> dict:
        """Open the tracked run (log the config when new; reopen it when run.reopen is given); returns what
        reopening it needs (JSON: ids, folders)."""
        raise NotImplementedError

    def log(self, step: int, metrics: dict[str, float]) -> None:
        raise NotImplementedError

    def finish(self, folder: Path | None, status: str) -> None:
        """Close the run: `folder`, for a completed run, is its published results folder (row.json, predictions/);
        status is the row's: completed, failed or interrupted."""
        raise NotImplementedError


BACKENDS: Registry[type[Backend]] = Registry("logger")


def run_folder(run: RunInfo) -> Path:
    """<settings.dir>/<sweep>/<run id>: a folder per run, a sweep's runs side by side (their curves overlay); when
    reopening, the folder the run started in (run.reopen["folder"], as the backend's start returned it)."""
    if run.reopen:
        return Path(run.reopen["folder"])
    return Path(run.settings["dir"]) / (run.group or "") / run.run_id
