"""The tasks' typed configs (Hydra structured-config schemas), by `impl` name, free of torch: the config layer
registers and checks them before the runner imports torch, so that a config error answers at once.

A task implementation registers its schema here under its impl: TaskConfig's keys plus its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

from ptune.registry import Registry

TASK_SCHEMAS: Registry[type] = Registry("task implementation")


@dataclass
class TaskConfig:
    """What every task has; a task implementation's own schema adds its keys."""
    name: str = MISSING
    impl: str = MISSING
    version: int = MISSING              # bumped when a change moves the task's numbers: part of the run id
    # the task's benchmark family (superglue, ner, srl, qa; tests select by it): no ptune code reads it, but it is in
    # every resolved config, so dropping it would change every committed run id (ptune/store/run_id.py hashes that
    # config)
    family: str = MISSING
    hub: Optional[Any] = MISSING       # dataset-hub source (path, name, splits, ...); null: none
    metric: str = MISSING               # the primary metric: selects the best dev epoch
    metrics: List[str] = MISSING
    max_length: int = MISSING
    eval_splits: List[str] = field(default_factory=lambda: ["dev", "test"])  # "dev" selects, the rest report


@TASK_SCHEMAS.register("multirc")
@TASK_SCHEMAS.register("record")
@dataclass
class SuperGlueConfig(TaskConfig):
    local_name: str = MISSING              # the task's folder and file stem: super_glue/<local_name>/
    required: List[str] = MISSING          # keys every local record must have
    labels: Optional[List[str]] = None     # class names where the task has them


@TASK_SCHEMAS.register("pair_classification")
@dataclass
class PairClassificationConfig(SuperGlueConfig):
    fields: List[str] = MISSING            # the two text fields of a record
    labels: List[str] = MISSING
    split_by: Optional[str] = None         # the field task.split_dev groups records by (BoolQ: passage)
    split_dev: Optional[Any] = None        # null, or a number / fraction of split_by groups held out as dev


@TASK_SCHEMAS.register("copa")
@TASK_SCHEMAS.register("wic")
@dataclass
class TemplatedConfig(SuperGlueConfig):
    template: str = MISSING   # a name from the task class's TEMPLATES


@TASK_SCHEMAS.register("wsc")
@dataclass
class WscConfig(TemplatedConfig):
    variant: str = MISSING    # wsc (the official runs) | wsc.fixed


@TASK_SCHEMAS.register("ner")
@TASK_SCHEMAS.register("conll05_srl")
@TASK_SCHEMAS.register("conll12_srl")
@dataclass
class TaggingConfig(TaskConfig):
    entity_types: List[str] = MISSING   # B-/I- tags per type, plus O
    local: Optional[Any] = MISSING      # the local files' layout under data_dir (folder, files or splits, ...)


@TASK_SCHEMAS.register("squad")
@dataclass
class SquadConfig(TaskConfig):
    squad_version: int = MISSING            # the SQuAD release: 1 or 2 (unanswerable questions)
    local_folder: str = MISSING
    local_files: Dict[str, str] = MISSING   # split -> file name under local_folder
    split_dev: Optional[Any] = MISSING      # null, a number of articles, or a fraction in (0, 1)
    stride: int = MISSING
    n_best_size: int = MISSING
    max_answer_length: int = MISSING
    null_score_diff_threshold: Optional[float] = None  # 2.0 only: answer "" above this null-score margin
