"""Reuse a finished run that computed the same thing under another label, instead of training it again.

A final run at the settings a search chose, on the search's seed, repeats the search's winning run bit for bit:
the two differ only in `preset_applied`, the label saying where their settings came from. With
`reuse_rows_from=results/search`, such a run copies the winner's row and predictions into its own run folder,
under its own run id and config, and records where they came from (`reused_from`), instead of training again.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from pathlib import Path

from ptune.store import find, write
from ptune.store.row import Row

log = logging.getLogger(__name__)

# Keys that label a run without changing what it computes. They are part of the run id, so that a search and the
# finals it chose keep apart, and are the only keys in which a reused row may differ.
LABEL_KEYS = ("preset_applied",)


def _unlabelled(config: dict) -> dict:
    return {key: value for key, value in config.items() if key not in LABEL_KEYS}


def find_twin(folder: str | Path, run_id: str, config: dict) -> Path | None:
    """The run folder under `folder`/runs with a completed row whose config equals `config` but for its labels."""
    stem = run_id.rsplit("-", 1)[0]  # task-model-method[-pslN]-sS: the hash differs when the label does
    wanted = _unlabelled(config)
    return next((path for path, row in find.completed_twins(folder, stem) if _unlabelled(row.config) == wanted), None)


def adopt(twin: Path, run_folder: Path, run_id: str, config: dict) -> Row:
    """Copy the twin's row and predictions to `run_folder` as run `run_id` with `config`; return the new row."""
    source = find.read_row(twin)
    row = dataclasses.replace(source, run_id=run_id, config=config, reused_from={
        "run_id": source.run_id, "folder": os.path.relpath(twin.absolute(), run_folder.parent.parent.absolute())})
    staging = write.staging_folder(run_folder)
    shutil.copytree(twin, staging, ignore=shutil.ignore_patterns("row.json", "failed-*.json"))
    write.write_row(staging, row)
    write.publish_run_folder(staging, run_folder)
    log.info("run %s: the same computation as %s; its row and predictions reused (reuse_rows_from)", run_id, twin)
    return row
