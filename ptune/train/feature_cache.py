"""Tokenized splits cached in the process, per (task, data, tokenizer, max length, split, limit).

A multirun sweeps methods, prompt lengths, learning rates and seeds over the same data in one process;
each (examples, features) pair is read and tokenized once. Cached lists are shared between runs and
must not be modified (the runner only reads them).
"""
from __future__ import annotations

import json
from collections import OrderedDict

from omegaconf import OmegaConf

MAX_ENTRIES = 12
_cache: OrderedDict[str, tuple[list, list]] = OrderedDict()


def cache_key(cfg, split: str, limit: int | None) -> str:
    tokenizer_source = {k: cfg.model.get(k) for k in ("pretrained", "tokenizer", "tiny")}
    return json.dumps({"task": OmegaConf.to_container(cfg.task, resolve=True), "data_dir": cfg.data_dir,
                       "tokenizer": OmegaConf.to_container(OmegaConf.create(tokenizer_source), resolve=True),
                       "split": split, "limit": limit}, sort_keys=True, default=str)


def cached_split(cfg, split: str, limit: int | None, load) -> tuple[list, list]:
    """`load()` -> (examples, features) on a miss; the cached pair on a hit."""
    key = cache_key(cfg, split, limit)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    _cache[key] = value = load()
    while len(_cache) > MAX_ENTRIES:
        _cache.popitem(last=False)
    return value


def clear() -> None:
    _cache.clear()


def splits_to_load(task) -> list[str]:
    """Train and every evaluation split that exists (tests may be missing): what a run reads."""
    return [split for split in ("train", *task.eval_splits) if split in ("train", "dev") or task.has_split(split)]


def load_splits(task, tokenizer, cfg) -> dict[str, tuple[list, list]]:
    """(examples, features) of every split a run reads (splits_to_load)."""
    return {split: load_split(task, tokenizer, cfg, split) for split in splits_to_load(task)}


def load_split(task, tokenizer, cfg, split: str) -> tuple[list, list]:
    """(examples, features) of one split, tokenized once per process (ptune/train/feature_cache.py)."""
    limit = cfg.trainer.max_train_examples if split == "train" else cfg.trainer.max_eval_examples

    def load():
        examples = task.examples(split)[:limit]
        return examples, task.features(examples, tokenizer, cfg.task.max_length)

    return cached_split(cfg, split, limit, load)
