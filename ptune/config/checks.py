"""Every range check on a composed config, in one place, before any work (types are the schemas' job).

    validate(cfg)   # raises ConfigError naming the key, its value and what was expected
    check_config(cfg); check_sources(cfg); check_backbone_fit(cfg)   # the same in steps (a sweep: each for all jobs)

Besides single keys (lr > 0, epochs >= 1, ...) it checks the prompt length against the backbone: shallow
prompts take input positions (max_length + prompt_length must fit the position table); deep prefixes take
none, but more prefix keys than the backbone has positions is refused as a sanity bound (it never attended
over that many keys; the longest published P-tuning v2 prompt is 224); and every prompt widens each
attention matrix, whose estimated memory must fit the device the run uses (attention_memory_bytes).
build_model repeats the position check for callers that build a model without validate().

check_config reads the config alone and imports no torch or transformers (nor does this module): `ptune run`
checks before the runner loads them, so that a config error answers in about the time Python and Hydra take to
start. check_sources asks the hub once, where a backbone or the task's data is to come from it
(ptune/hub_access.py); check_backbone_fit reads the backbone's config (transformers) and the device (torch).
"""
from __future__ import annotations

import dataclasses
import os
import re

from omegaconf import OmegaConf

from ptune.config.schema import RESUME_CHOICES, RunConfig, TrainerConfig
from ptune.errors import ConfigError
from ptune.hub_access import require_hub_model
from ptune.model.methods.schemas import METHOD_SCHEMAS, prompt_length_of
from ptune.model.positions import check_positions
from ptune.tasks.hub import require_hub_dataset
from ptune.tasks.schemas import TASK_SCHEMAS

DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:\d+)?")
# Bytes per attention-matrix element (batch x heads x queries x keys) that a training step keeps per layer
# in fp32: probabilities saved for the backward pass, dropout mask and output, transient scores. Measured
# ~14.7 on CPU (tiny-bert, SDPA, tests/config/test_checks.py); 12 keeps the estimate below what a run really
# takes, so that only runs that cannot fit are refused. Half of it under bf16 / fp16 autocast.
ATTENTION_BYTES_PER_ELEMENT = 12


def validate(cfg) -> None:
    """Every check: the config's own, the hub's where the run needs it, then the backbone's."""
    check_config(cfg)
    check_sources(cfg)
    check_backbone_fit(cfg)


def check_sources(cfg) -> None:
    """A backbone or task data to come from the hub needs the hub to answer: one short attempt, before anything
    loads, instead of a minute of retries (HubUnreachableError; ptune/hub_access.py)."""
    if cfg.model.get("pretrained") and not cfg.model.get("tiny"):
        require_hub_model(cfg.model.name, cfg.model.pretrained)
    if cfg.data_dir is None and cfg.task.get("hub") is not None:
        require_hub_dataset(cfg.task.hub)


def check_config(cfg) -> None:
    """What the config alone says is wrong: missing values, schemas, undeclared keys, ranges (no torch)."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"no value for {', '.join(missing)}: set it in its yaml or on the command line")
    check_schemas(cfg)
    check_declared_keys(cfg)
    for key, value, ok, expected in ranges(cfg):
        if not ok:
            raise ConfigError.bad_value(key, value, expected)


def check_backbone_fit(cfg, device_memory: bool = True) -> None:
    """Whether the prompt fits the backbone's positions and (device_memory) its attention the device's memory.
    device_memory=False: a sweep's main process, which checks every job without initialising CUDA (its workers'
    to use); each job checks the memory again where it runs."""
    if prompt_length_of(cfg.method) is None:
        return
    backbone = backbone_config(cfg.model)
    if backbone is not None:
        check_positions(cfg.method, backbone, cfg.task.max_length, cfg.model.name)
        if device_memory:
            check_attention_memory(cfg, backbone)


def check_schemas(cfg) -> None:
    """Each group's yaml must name the schema of the implementation it picks (impl)."""
    for group, schemas in (("method", METHOD_SCHEMAS), ("task", TASK_SCHEMAS)):
        node = cfg[group]
        expected = schemas.get(node.impl)
        if OmegaConf.get_type(node) is not expected:
            raise ConfigError(f"conf/{group}/{node.name}.yaml: impl {node.impl!r} needs the schema "
                              f"/schema/{group}/{node.impl}@_here_ first in its defaults list")


def check_declared_keys(cfg) -> None:
    """Only keys a schema declares may shape a run (and its run id): `+key=value` forces any key into the config."""
    schemas = (("", cfg, RunConfig), ("method.", cfg.method, METHOD_SCHEMAS.get(cfg.method.impl)),
               ("task.", cfg.task, TASK_SCHEMAS.get(cfg.task.impl)), ("trainer.", cfg.trainer, TrainerConfig))
    for prefix, node, schema in schemas:
        unknown = sorted(set(node) - {field.name for field in dataclasses.fields(schema)})
        if unknown:
            raise ConfigError(f"{prefix}{unknown[0]}: no such key in the config's schema (ptune/config/schema.py, "
                              "ptune/model/methods/schemas.py, ptune/tasks/schemas.py); `ptune run --cfg job` lists "
                              "the keys")


def ranges(cfg):
    """(key, value, within range, what was expected) for every single-key range."""
    method, trainer, task = cfg.method, cfg.trainer, cfg.task
    psl = prompt_length_of(method)
    yield "method.lr", method.lr, method.lr > 0, "a learning rate > 0"
    for key in [k for k in method if k.endswith("dropout")]:
        yield f"method.{key}", method[key], 0 <= method[key] < 1, "a probability in [0, 1)"
    if psl is not None:
        key = "prompt_length" if psl == cfg.prompt_length else "method.prompt_length"
        yield key, psl, psl >= 1, f"an integer >= 1 (method {method.name} prepends that many prompt vectors)"
    for key in ("epochs", "batch_size", "eval_batch_size", "grad_accum", "log_every"):
        yield f"trainer.{key}", trainer[key], trainer[key] >= 1, "an integer >= 1"
    for key in ("max_train_examples", "max_eval_examples"):
        yield f"trainer.{key}", trainer[key], trainer[key] is None or trainer[key] >= 1, "null (all) or >= 1"
    yield "trainer.weight_decay", trainer.weight_decay, trainer.weight_decay >= 0, "a number >= 0"
    yield "trainer.warmup_ratio", trainer.warmup_ratio, 0 <= trainer.warmup_ratio < 1, "a fraction in [0, 1)"
    yield "trainer.lr_decay_gamma", trainer.lr_decay_gamma, 0 < trainer.lr_decay_gamma <= 1, "a factor in (0, 1]"
    yield ("trainer.max_grad_norm", trainer.max_grad_norm, trainer.max_grad_norm is None or trainer.max_grad_norm > 0,
           "null (no clipping) or a norm > 0")
    yield "task.max_length", task.max_length, task.max_length >= 8, "an integer >= 8 (tokens per input)"
    yield "task.metric", task.metric, task.metric in task.metrics, f"one of task.metrics {list(task.metrics)}"
    *choices, last = RESUME_CHOICES
    yield "resume", cfg.resume, str(cfg.resume).lower() in RESUME_CHOICES, f"{', '.join(choices)} or {last}"
    yield "device", cfg.device, DEVICE_PATTERN.fullmatch(str(cfg.device)) is not None, "auto, cpu, mps, cuda or cuda:N"


def backbone_config(model_cfg):
    """The backbone's transformers config (cheap: no weights), or None where it cannot be had now; the
    run's model loading then reports why."""
    # deferred: transformers, which check_config does not need (backbones imports it too)
    from transformers import AutoConfig

    from ptune.model.backbones import resolve_pretrained

    try:
        if model_cfg.get("tiny"):
            tiny = dict(OmegaConf.to_container(model_cfg.tiny))
            return AutoConfig.for_model(tiny.pop("model_type"), **tiny)
        return AutoConfig.from_pretrained(resolve_pretrained(model_cfg.pretrained))
    except Exception:  # a missing package, a hub error: not this check's to report
        return None


def attention_memory_bytes(cfg, backbone_config) -> int:
    """Estimated attention memory of one training step (every layer kept for the backward pass) or one
    evaluation batch (one layer at a time), whichever is larger, with the prompt in place."""
    psl = prompt_length_of(cfg.method) or 0
    shallow = psl if METHOD_SCHEMAS.get(cfg.method.impl).uses_positions else 0
    queries = cfg.task.max_length + shallow
    keys = queries + (psl - shallow)  # deep prefixes add keys only (every layer counted as prompted)
    heads, layers = backbone_config.num_attention_heads, backbone_config.num_hidden_layers
    per_example_layer = heads * queries * keys * ATTENTION_BYTES_PER_ELEMENT // (1 if full_precision(cfg) else 2)
    train = layers * cfg.trainer.batch_size * per_example_layer
    evaluate = cfg.trainer.eval_batch_size * per_example_layer
    return max(train, evaluate)


def full_precision(cfg) -> bool:
    from ptune.model.device import autocast_dtype, pick_device  # deferred: torch

    return autocast_dtype(cfg.trainer.precision, pick_device(cfg.device)) is None


def device_memory_bytes(device_name: str) -> int | None:
    """Total memory of the device a run would use: the GPU's, else the machine's RAM (None: unknown)."""
    import torch  # deferred: check_config does not need it

    from ptune.model.device import pick_device  # deferred: torch

    device = pick_device(device_name)
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device.index or 0).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_attention_memory(cfg, backbone_config) -> None:
    needed, available = attention_memory_bytes(cfg, backbone_config), device_memory_bytes(cfg.device)
    if available is not None and needed > available:
        psl = prompt_length_of(cfg.method)
        raise ConfigError(
            f"prompt_length={psl}: the attention matrices alone would take about {needed / 2**30:.1f} GiB "
            f"(batch {cfg.trainer.batch_size}, eval batch {cfg.trainer.eval_batch_size}, max_length "
            f"{cfg.task.max_length}, {backbone_config.num_hidden_layers} layers x "
            f"{backbone_config.num_attention_heads} heads), more than the {available / 2**30:.1f} GiB of device "
            f"{cfg.device}; lower prompt_length, trainer.batch_size or trainer.eval_batch_size")
