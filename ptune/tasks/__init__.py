"""Tasks: what a task is (base), reading task files (data) and the hub (hub), and one subpackage per benchmark
(superglue/, tagging/, qa/). Every module below this folder is imported, so that each registers its tasks.

Layer: imports ptune.errors and ptune.registry only (never model, config, store, train, reports, sweeps).
"""
import importlib
import pkgutil

from ptune.tasks.base import TASKS, Task

for _module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
    importlib.import_module(_module.name)


def build_task(cfg, data_dir) -> Task:
    return TASKS.get(cfg.impl)(cfg, data_dir)


__all__ = ["TASKS", "Task", "build_task"]
