"""Typed schemas of the config groups (Hydra structured configs), so that a wrong type or an unknown choice
fails while the config is composed, naming the key, the value and what was expected:

    ptune run method.lr=abc        ->  error: method.lr=abc: Value 'abc' of type 'str' could not be converted to Float
    ptune run trainer.precision=fp64   ->  ... Invalid value 'fp64', expected one of [auto, fp32, bf16, fp16]

Each yaml of a group names its schema first in its defaults list (Hydra's "Structured Config schema"
pattern), e.g. conf/method/ptv2.yaml: `defaults: [/schema/method/deep_prompt@_here_, _self_]`. The schemas
hold types only; every value lives in the yaml (one place), except optional keys that most yamls leave
out, whose default lives here. A method's or task's schema is registered under its `impl` name in
ptune/model/methods/schemas.py or ptune/tasks/schemas.py, which import no torch: `ptune run` composes and checks the
config before the runner imports torch, so that a config error answers at once.
Ranges that depend on more than one key (prompt length against the backbone) are checked in ptune/config/checks.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

from omegaconf import MISSING

from ptune.model.methods.schemas import METHOD_SCHEMAS
from ptune.tasks.schemas import TASK_SCHEMAS


class Precision(str, Enum):
    auto = "auto"  # bf16 where the device supports it, else fp32
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"


class Schedule(str, Enum):
    linear = "linear"
    exponential = "exponential"


@dataclass
class TrainerConfig:
    name: str = MISSING
    epochs: int = MISSING
    batch_size: int = MISSING
    eval_batch_size: int = MISSING
    grad_accum: int = MISSING
    weight_decay: float = MISSING
    warmup_ratio: float = MISSING
    schedule: Schedule = MISSING
    lr_decay_gamma: float = MISSING
    max_grad_norm: Optional[float] = MISSING
    precision: Precision = MISSING
    gradient_checkpointing: bool = MISSING
    group_by_length: bool = MISSING
    compile: bool = MISSING
    cast_frozen: bool = MISSING
    max_train_examples: Optional[int] = MISSING
    max_eval_examples: Optional[int] = MISSING
    save_checkpoint: bool = MISSING
    save_last: bool = MISSING
    fold_prefix: bool = MISSING
    progress: bool = MISSING
    log_every: int = MISSING


# The values of `resume` (what a run does with its saved state, ptune/train/resume.py) -> what the run reads. Not an
# Enum: YAML and the command line give true / false as bools, which an OmegaConf Enum refuses; ptune/config/checks.py
# refuses any other value.
RESUME_CHOICES = {"true": True, "false": False, "auto": "auto"}


def resume_mode(value) -> bool | str:
    """resume=true | false | auto as a run reads it (auto: continue when a saved state exists, else start afresh)."""
    return RESUME_CHOICES[str(value).lower()]


@dataclass
class RunConfig:
    """The primary config (conf/config.yaml); the groups are typed by their own schemas."""
    method: Any = MISSING
    model: Any = MISSING
    task: Any = MISSING
    trainer: Any = MISSING
    paths: Any = MISSING
    logger: Any = None          # {backend name: its settings} (conf/logger/, ptune/train/tracking/)
    prompt_length: int = MISSING
    seed: int = MISSING
    data_dir: Optional[str] = MISSING
    device: str = MISSING
    resume: Any = MISSING       # one of RESUME_CHOICES
    skip_done: bool = MISSING
    reuse_rows_from: Optional[str] = None  # a results folder whose same-computation rows are copied, not rerun
    preset_applied: Optional[str] = None  # set by preset=paper: which published settings applied


def register() -> None:
    """Store every schema in Hydra's ConfigStore (before composing): schema/run, schema/trainer,
    schema/method/<impl>, schema/task/<impl>."""
    # deferred: Hydra, which the schemas above do not need
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    store.store(group="schema", name="run", node=RunConfig, provider="ptune")
    store.store(group="schema", name="trainer", node=TrainerConfig, provider="ptune")
    for impl in METHOD_SCHEMAS.names():
        store.store(group="schema/method", name=impl, node=METHOD_SCHEMAS.get(impl), provider="ptune")
    for impl in TASK_SCHEMAS.names():
        store.store(group="schema/task", name=impl, node=TASK_SCHEMAS.get(impl), provider="ptune")
