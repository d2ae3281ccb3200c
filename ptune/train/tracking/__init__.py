"""Experiment tracking (train layer): the `logger` config group's backends (conf/logger/), each one module on the
interface of base.py, registered by name; tracker.py starts the ones a run's config names and fans its calls out.

    ptune run logger=tensorboard ...          # or csv, mlflow, wandb, or a list: logger=[tensorboard,mlflow]

The libraries are optional (pip install ptune[tracking]) and imported only by the backend that uses them, so that
logger=none (the default) imports and costs nothing. docs/tracking.md says what is logged and how to open it.
"""
# Importing the backend modules registers them in BACKENDS.
from ptune.train.tracking import csv, mlflow, tensorboard, wandb  # noqa: F401
from ptune.train.tracking.base import BACKENDS  # noqa: F401
