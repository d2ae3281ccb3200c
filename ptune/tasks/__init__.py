"""Tasks: what a task is (base), reading task files (data) and the hub (hub), the tasks' config schemas (schemas),
and one subpackage per benchmark (superglue/, tagging/, qa/). Importing this package imports no task: TASKS imports
every module below this folder (each registers its tasks) the first time it is read, so that the config layer reads
the schemas before torch is imported.

Layer: imports ptune.errors, ptune.registry and ptune.hub_access only (never model, config, store, train,
reports, sweeps).
"""
import importlib
import pkgutil

from ptune.registry import Registry


def import_implementations() -> None:
    for module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        importlib.import_module(module.name)


TASKS = Registry("task implementation", discover=import_implementations)


def build_task(cfg, data_dir):
    """The Task of cfg.impl (ptune/tasks/base.py) on the files under data_dir (None: the hub)."""
    return TASKS.get(cfg.impl)(cfg, data_dir)


__all__ = ["TASKS", "build_task"]
