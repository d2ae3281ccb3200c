"""What a run checks before any training work, so that a thing the user must change fails in seconds, in one line,
with exit code 2 and no failure record (nothing ran):

- the device is present and the precision runs on it (ptune/model/device.py);
- a model folder named by model.pretrained / model.tokenizer exists;
- every data file the run will read (the task's own list: Task.data_files) exists, is a file, is UTF-8 text and
  is not empty (ptune/tasks/data.py check_readable);
- resume=true finds a saved state of this configuration (ptune/train/resume.py find_state);
- paths.results_dir and paths.output_dir are writable (a probe file, removed at once).

    saved = check(cfg, identifier, config)   # the saved state to resume from (None: start afresh)
"""
from __future__ import annotations

from pathlib import Path

from ptune.config.schema import resume_mode
from ptune.errors import SetupError
from ptune.hub_access import is_local_path
from ptune.model.device import autocast_dtype, pick_device
from ptune.store import find
from ptune.store.write import process_tag
from ptune.tasks import build_task
from ptune.tasks.data import check_readable
from ptune.train import resume
from ptune.train.feature_cache import splits_to_load


def check(cfg, identifier: str, config: dict) -> dict | None:
    """Raise a one-line error (exit code 2) for the first thing that would stop the run; return the saved state to
    resume from, which checking it loaded (None: start afresh). `config`: the run's experiment config."""
    autocast_dtype(cfg.trainer.precision, pick_device(cfg.device))
    check_inputs(cfg)
    saved = resume.find_state(cfg.paths.output_dir, identifier, config, resume_mode(cfg.resume))
    # last: the probes create the folders, which the checks above should not leave behind when they fail
    check_writable(find.run_path(cfg.paths.results_dir, identifier).parent, "paths.results_dir")
    check_writable(Path(cfg.paths.output_dir), "paths.output_dir")
    return saved


def check_inputs(cfg) -> None:
    """The model folders and data files the run reads (what a sweep checks for every job before the first starts)."""
    check_model_folders(cfg.model)
    check_data(build_task(cfg.task, cfg.data_dir))


def check_model_folders(model_cfg) -> None:
    for key in ("pretrained", "tokenizer"):
        source = model_cfg.get(key)
        if source and is_local_path(str(source)) and not Path(str(source)).expanduser().is_dir():
            raise SetupError(f"model.{key}={source}: no such folder; point it at a folder that save_pretrained "
                             f"wrote (config.json and the weights), give a hub id, or use model=minilm (offline)")


def check_data(task, splits: list[str] | None = None) -> None:
    """Every file the splits read (Task.data_files: none from the hub) exists and is non-empty UTF-8 text;
    `splits`: those of a run (splits_to_load) unless given (`ptune eval` reads one)."""
    for split in splits or splits_to_load(task):
        for path in task.data_files(split):
            hint = f" as {path.relative_to(task.data_dir)}" if path.is_relative_to(task.data_dir) else ""
            check_readable(path, hint)


def check_writable(folder: Path, key: str) -> None:
    """Create `folder` and a probe file in it, then remove the probe; `key` names the setting to change."""
    probe = folder / f".ptune-probe-{process_tag()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise SetupError(f"{key}: cannot write to {folder} ({error.strerror or error}); make it writable or set "
                         f"{key}=<a folder you can write>") from None
