"""What tells table lines and figure series apart: a row's setting label, its config digest, the method order."""
from __future__ import annotations

import hashlib
import json

from ptune.store.row import Row

METHOD_ORDER = ("finetune", "prompt", "prefix", "ptv2")


def setting_label(row: Row) -> str:
    """What sets a run apart besides model, method, psl and seed: trainer, preset, init, positions, data cuts."""
    config = row.config
    trainer, task = config.get("trainer", {}), config.get("task", {})
    parts = [f"trainer={trainer.get('name', row.hyperparameters.get('name', '?'))}"]
    if config.get("preset_applied"):
        parts.append(f"preset={config['preset_applied'].split(':')[0]}")
    method = config.get("method", {})
    if method.get("init_std") is not None:  # null (torch's init) and rows made before the key show nothing
        parts.append(f"init_std={method['init_std']}")
    if method.get("shift_positions"):
        parts.append("shift_positions")
    if trainer.get("precision") not in (None, "auto"):  # auto: bf16 where native, the row's precision_used
        parts.append(f"precision={trainer['precision']}")
    if task.get("split_dev") is not None:
        parts.append(f"split_dev={task['split_dev']}")
    if trainer.get("max_train_examples") is not None:
        parts.append(f"train<={trainer['max_train_examples']}")
    return ", ".join(parts)


def config_digest(row: Row) -> str:
    """The run's config without its seed: rows with equal digests are seeds of one configuration."""
    config = {key: value for key, value in row.config.items() if key != "seed"}
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]


def method_rank(method: str) -> tuple:
    return (METHOD_ORDER.index(method), "") if method in METHOD_ORDER else (len(METHOD_ORDER), method)
