"""A sweep's grid: the sweep yaml's `hydra.sweeper.params` (comma lists) times the command's own KEY=A,B
overrides, one override list per job, each job composed as `ptune run` would and found done or not (what
`ptune plan` and `ptune pick` walk)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import yaml
from omegaconf import DictConfig

from ptune.config.compose import compose, config_dir
from ptune.store.find import completed_row
from ptune.store.reuse import find_twin
from ptune.store.row import Row
from ptune.store.run_id import experiment_config, run_id


@dataclass
class Job:
    """One run of the grid."""
    overrides: list[str]
    task: str
    method: str
    epochs: int
    run_id: str
    row: Row | None  # its completed row, when done (what skip_done=true skips)
    reusable: bool  # not done, but its twin under reuse_rows_from is copied instead of trained (ptune/store/reuse.py)
    cfg: DictConfig  # as `ptune run` composes it

    @property
    def results_dir(self) -> str:
        return str(self.cfg.paths.results_dir)


def jobs(overrides: list[str]) -> list[Job]:
    """The grid's jobs, in grid order."""
    found = []
    for job_overrides in grid(overrides):
        cfg = compose(job_overrides)
        identifier = run_id(cfg)
        row = completed_row(cfg.paths.results_dir, identifier)
        reusable = bool(not row and cfg.reuse_rows_from
                        and find_twin(cfg.reuse_rows_from, identifier, experiment_config(cfg)))
        found.append(Job(job_overrides, cfg.task.name, cfg.method.name, int(cfg.trainer.epochs), identifier, row,
                         reusable, cfg))
    return found


def grid(overrides: list[str]) -> list[list[str]]:
    """One override list per job: the sweep file's params and the command's comma lists, expanded. A key given
    on the command line replaces the sweep file's list for it (as in `ptune run`)."""
    params: dict[str, list[str]] = {}
    fixed = []
    for override in overrides:
        key, _, value = override.partition("=")
        if key == "sweep":
            params = sweep_params(value) | params
            fixed.append(override)
        elif "," in value and not value.startswith(("[", "{")):
            params[key] = value.split(",")
        else:
            params.pop(key, None)
            fixed.append(override)
    fixed_keys = {override.partition("=")[0] for override in fixed}
    params = {key: values for key, values in params.items() if key not in fixed_keys}
    keys = list(params)
    return [fixed + [f"{k}={v}" for k, v in zip(keys, values)] for values in itertools.product(*params.values())]


def sweep_params(name: str, seen: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The sweep file's `hydra.sweeper.params` as lists, merged as Hydra composes them: a sweep that names
    another sweep in its defaults list (a grid widened for one task, e.g. search_minilm_finetune_conll03) takes
    that sweep's params and sets its own over them (after them unless its `_self_` comes first)."""
    path = config_dir() / "sweep" / f"{name}.yaml"
    if not path.is_file():
        raise SystemExit(f"ptune plan: no sweep {name!r} ({path} does not exist)")
    if name in seen:
        raise SystemExit(f"ptune plan: {path}: its defaults list includes itself through {' -> '.join(seen)}")
    loaded = yaml.safe_load(path.read_text()) or {}
    params = ((loaded.get("hydra") or {}).get("sweeper") or {}).get("params") or {}
    own = {}
    for key, value in params.items():
        text = str(value)
        if "(" in text:
            raise SystemExit(f"ptune plan: {path}: hydra.sweeper.params.{key}={text!r}: only comma lists can be "
                             "planned (not Hydra's range / choice / interval)")
        own[key] = [item.strip() for item in text.split(",")]
    defaults = loaded.get("defaults") or []
    if "_self_" not in defaults:
        defaults = [*defaults, "_self_"]  # Hydra's default: a config's own values win over its defaults
    found: dict[str, list[str]] = {}
    for entry in defaults:
        if entry == "_self_":
            found |= own
        elif isinstance(entry, str):
            found |= sweep_params(entry, (*seen, name))
        else:
            raise SystemExit(f"ptune plan: {path}: defaults entry {entry!r}: only other sweeps of conf/sweep/ "
                             "(by name) can be planned")
    return found
