"""Writing rows atomically: a run's row and predictions appear together under results_dir, or not at all.

A run writes into its own staging folder, then `publish_run_folder` swaps it into <results_dir>/runs/<run id>/.
A run that fails or is interrupted writes failed-<time>-<host>-<pid>.json there instead (`record_failure`);
the tables read only row.json.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

from ptune.errors import DiskFullError
from ptune.store.row import Row


def timestamp() -> str:
    """Now, as rows record their start and finish (local time with its UTC offset)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def process_tag() -> str:
    """Unique to this process, also across the hosts of a cluster sharing one file system: names scratch files."""
    return f"{socket.gethostname()}-{os.getpid()}"


def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{process_tag()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a disk that filled up mid-write leaves no scratch file
        raise


def write_row(folder: Path, row: Row) -> None:
    """`folder`/row.json (a staging folder: see publish_run_folder)."""
    write_json_atomic(folder / "row.json", row.to_json())


def staging_folder(final: Path) -> Path:
    """Where this process writes a run's row and predictions before publishing them (never shared).

    Emptied first: one found there was left by a dead process that had the same host and pid."""
    staging = final.with_name(f".{final.name}.staging-{process_tag()}")
    shutil.rmtree(staging, ignore_errors=True)
    return staging


def publish_run_folder(staging: Path, final: Path, attempts: int = 5) -> None:
    """Swap a fully written staging folder (row + predictions) into place.

    Another process may publish the same run between our two renames (the same run id run twice at
    once); then the rename finds a folder again, and we move that one aside too: the last one wins whole.
    Failure records of earlier attempts are kept beside the new row.
    """
    old = final.with_name(f".{final.name}.old-{process_tag()}")
    for attempt in range(attempts):
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
        try:
            os.replace(staging, final)
            break
        except OSError:  # ENOTEMPTY / EEXIST: someone published in between
            if attempt == attempts - 1:
                raise
    for record in old.glob("failed-*.json") if old.is_dir() else []:
        os.replace(record, final / record.name)  # earlier failures of this run id stay on record
    shutil.rmtree(old, ignore_errors=True)


def disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_error(error: OSError, results_dir, resumable: bool) -> DiskFullError:
    """The one-line error for a run that filled the disk (or quota) while writing its results."""
    where = f" writing {error.filename}" if error.filename else ""
    again = "rerun the same command with resume=auto (its state is saved)" if resumable else "rerun the same command"
    full = DiskFullError(f"disk full{where} ({error.strerror or error}); no row was written under {results_dir}. "
                         f"Free space or set paths.results_dir / paths.output_dir to another disk, then {again}")
    full.__cause__ = error
    return full


def record_failure(run_folder: Path, row: Row, status: str, error: BaseException, **details) -> Path:
    """failed-<time>-<process>.json in the run folder: the row so far (no metrics), the error and `details`."""
    failed = {**row.to_json(), **details, "status": status, "error": f"{type(error).__name__}: {error}",
              "finished": timestamp()}
    failed.pop("metrics", None)
    path = run_folder / f"failed-{time.strftime('%Y%m%d-%H%M%S')}-{process_tag()}.json"
    write_json_atomic(path, failed)
    return path
