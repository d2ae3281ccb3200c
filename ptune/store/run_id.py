"""A run's id: `<task>-<model>-<method>[-psl<N>]-s<seed>-<hash of its experiment config>`.

Equal experiment configs give equal ids, so skip_done, resume, reuse and `ptune compare` find a run's row from its
command. Committed rows pin every id (tests/store/test_committed_rows.py): a change here must keep them.
"""
from __future__ import annotations

import hashlib
import json

from omegaconf import OmegaConf

from ptune.model.methods.schemas import prompt_length_of

# Keys that do not change what a run computes, left out of the run id.
NON_EXPERIMENT_KEYS = ("paths", "data_dir", "device", "resume", "skip_done", "reuse_rows_from", "trainer.progress",
                       "trainer.save_checkpoint", "trainer.save_last", "trainer.fold_prefix", "trainer.compile",
                       "trainer.cast_frozen", "hydra", "logger", "trainer.log_every")
# Keys added after rows were made, left out of the run id while they hold this default, so that adding such a key
# with a neutral default keeps every earlier run id (and skip_done / resume across the change).
NEUTRAL_DEFAULTS = {"task.split_dev": None, "task.split_by": None}


def experiment_config(cfg) -> dict:
    """The composed config without the keys that do not change what the run computes: what a row stores."""
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    for dotted in NON_EXPERIMENT_KEYS:
        node, leaf = parent_node(resolved, dotted)
        node.pop(leaf, None)
    for dotted, default in NEUTRAL_DEFAULTS.items():
        node, leaf = parent_node(resolved, dotted)
        if leaf in node and node[leaf] == default:
            del node[leaf]
    if prompt_length_of(cfg.method) is None:  # a method without prompts does not use it (its schema says so)
        resolved.pop("prompt_length", None)
    return resolved


def parent_node(config: dict, dotted: str) -> tuple[dict, str]:
    """(the dict that holds `dotted`'s last key, that key); an empty dict where a parent is missing."""
    *parents, leaf = dotted.split(".")
    for key in parents:
        config = config.get(key, {})
    return config, leaf


def run_id(cfg) -> str:
    return run_id_of(experiment_config(cfg))


def run_id_of(config: dict) -> str:
    """The run id of a stored experiment config (a row's `config`)."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
    length = config["method"].get("prompt_length")  # None: a method without prompts
    psl = "" if length is None else f"-psl{length}"
    names = "-".join(config[group]["name"] for group in ("task", "model", "method"))
    return f"{names}{psl}-s{config['seed']}-{digest}"
