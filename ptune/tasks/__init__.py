"""Task implementations, discovered by importing every module in this folder."""
import importlib
import pkgutil

from ptune.tasks.base import SPLITS, TASKS, Task

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build_task(cfg, data_dir) -> Task:
    return TASKS.get(cfg.impl)(cfg, data_dir)


__all__ = ["SPLITS", "TASKS", "Task", "build_task"]
