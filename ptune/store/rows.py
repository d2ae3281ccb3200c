"""Result rows: one JSON per finished run, with full provenance, written atomically.

Layout: <results_dir>/runs/<run id>/row.json, beside predictions/<split>/<official files>.
A run that fails or is interrupted writes failed-<time>.json instead; tables read only row.json.
Rows are committed, so the paths in them are portable: relative to the project root (the folder ptune
runs from) or to the data folder; the absolute ones go only to the run's log under outputs/.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path

from omegaconf import OmegaConf

from ptune.model.methods.base import prompt_length_of
from ptune.store.portable import portable_argument

# Keys that do not change what a run computes, left out of the run id.
NON_EXPERIMENT_KEYS = ("paths", "data_dir", "device", "resume", "skip_done", "reuse_rows_from", "trainer.progress",
                       "trainer.save_checkpoint", "trainer.save_last", "trainer.fold_prefix", "trainer.compile",
                       "trainer.cast_frozen", "hydra")
# Keys added after rows were made, left out of the run id while they hold this default, so that adding such a key
# with a neutral default keeps every earlier run id (and skip_done / resume across the change).
NEUTRAL_DEFAULTS = {"task.split_dev": None, "task.split_by": None}
PACKAGES = ("ptune", "torch", "transformers", "datasets", "hydra-core", "omegaconf", "seqeval", "numpy")


def experiment_config(cfg) -> dict:
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    for dotted in NON_EXPERIMENT_KEYS:
        node, leaf = parent_node(resolved, dotted)
        node.pop(leaf, None)
    for dotted, default in NEUTRAL_DEFAULTS.items():
        node, leaf = parent_node(resolved, dotted)
        if leaf in node and node[leaf] == default:
            del node[leaf]
    if prompt_length_of(cfg.method) is None:  # a method without prompts does not use it (its schema says so)
        resolved.pop("prompt_length", None)
    return resolved


def parent_node(config: dict, dotted: str) -> tuple[dict, str]:
    """(the dict that holds `dotted`'s last key, that key); an empty dict where a parent is missing."""
    *parents, leaf = dotted.split(".")
    for key in parents:
        config = config.get(key, {})
    return config, leaf


def run_id(cfg) -> str:
    digest = hashlib.sha256(json.dumps(experiment_config(cfg), sort_keys=True).encode()).hexdigest()[:10]
    psl = "" if prompt_length_of(cfg.method) is None else f"-psl{prompt_length_of(cfg.method)}"
    return f"{cfg.task.name}-{cfg.model.name}-{cfg.method.name}{psl}-s{cfg.seed}-{digest}"


def versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    return found


def git_state() -> dict:
    """Commit and dirty flag of the checkout ptune runs from (None outside a git checkout)."""
    here = Path(__file__).resolve().parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10)

    try:
        commit = git("rev-parse", "HEAD")
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
        return {"commit": commit.stdout.strip(), "dirty": dirty}
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}


def provenance(device: str, data_dir=None) -> dict:
    """Where and how the run ran. cpu_threads: torch's intra-op threads; float sums, and so the last digits of a
    run, depend on it (OMP_NUM_THREADS=1 runs two single-threaded runs side by side on a small machine)."""
    import torch

    return {"versions": versions(), "git": git_state(), "device": device, "cpu_threads": torch.get_num_threads(),
            "platform": platform.platform(), "argv": [portable_argument(arg, data_dir) for arg in sys.argv[1:]]}


def process_tag() -> str:
    """Unique to this process, also across the hosts of a cluster sharing one file system: names scratch files."""
    return f"{socket.gethostname()}-{os.getpid()}"


def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{process_tag()}-{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


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


def record_failure(run_folder: Path, row: dict, status: str, error: BaseException) -> Path:
    failed = {**row, "status": status, "error": f"{type(error).__name__}: {error}",
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    failed.pop("metrics", None)
    path = run_folder / f"failed-{time.strftime('%Y%m%d-%H%M%S')}-{process_tag()}.json"
    write_json_atomic(path, failed)
    return path


def load_rows(results_dir: Path) -> list[dict]:
    """Every completed row under results_dir/runs, sorted by run id."""
    rows = []
    for path in sorted(Path(results_dir).glob("runs/*/row.json")):
        row = json.loads(path.read_text())
        if row.get("status") == "completed":
            rows.append(row)
    return rows


def dev_score(row: dict) -> float:
    return float(row["metrics"]["dev"]["best"][row["primary_metric"]])


def completed_row(results_dir: str | Path, run_id: str) -> dict | None:
    """The run's completed row, if it has one (what skip_done=true skips)."""
    path = Path(results_dir) / "runs" / run_id / "row.json"
    if not path.is_file():
        return None
    row = json.loads(path.read_text())
    return row if row.get("status") == "completed" else None
