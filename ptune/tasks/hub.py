"""One split of a task from the dataset hub, the way datasets 5.x loads it (parquet repos, no loading scripts).

`task.hub` in conf/task/<name>.yaml says where and how:
- `path`, `name` (the card's config), `splits` (ptune split -> hub split), `revision` (a commit, tag or branch);
- `data_files` (optional, hub split -> glob(s) inside the repo): read those parquet files directly instead of
  going through the dataset card. For repos whose card datasets 5.x rejects (lukasgarbas/conll-03 declares its
  data files as a mapping, which the card parser refuses before loading anything).

`PTUNE_HUB_MIRROR=/folder` makes every hub id `<owner>/<name>` resolve to `/folder/<owner>/<name>`, a local copy
of the repo in the hub's layout (e.g. from `hf download --repo-type dataset <owner>/<name> --local-dir ...`).
The same loader then reads that folder the way it reads the hub (card configs, or data_files), so the tests
check every task's hub layout offline; `revision` is not checked against a mirror.
"""
from __future__ import annotations

import os
from pathlib import Path

from ptune.hub_access import offline, require_hub

MIRROR_ENV = "PTUNE_HUB_MIRROR"


def mirror_folder(path: str) -> Path | None:
    """The local copy of hub repo `path` under $PTUNE_HUB_MIRROR, or None when no mirror is set."""
    root = os.environ.get(MIRROR_ENV)
    if not root:
        return None
    folder = Path(root) / path
    if not folder.is_dir():
        raise FileNotFoundError(f"{MIRROR_ENV}={root} holds no copy of hub dataset {path!r} (expected {folder})")
    return folder


def load_split(hub, split: str):
    """The hub split `split` (already mapped to the hub's split name) of `hub` (task.hub) as a datasets.Dataset."""
    import datasets  # deferred: a heavy package, needed only for hub tasks

    if not hub.get("revision"):
        raise ValueError(f"hub dataset {hub.path!r}: set hub.revision (a commit hash, tag or branch) in its task yaml")
    mirror = mirror_folder(hub.path)
    if not mirror:
        require_hub_dataset(hub)
    data_files = hub.get("data_files")
    if data_files:
        if split not in data_files:
            raise ValueError(f"hub dataset {hub.path!r}: hub.data_files names no files for split {split!r}; "
                             f"it has {sorted(data_files)}")
        patterns = [data_files[split]] if isinstance(data_files[split], str) else list(data_files[split])
        base = str(mirror) if mirror else f"hf://datasets/{hub.path}@{hub.revision}"
        return datasets.load_dataset("parquet", data_files={split: [f"{base}/{p}" for p in patterns]}, split=split)
    if mirror:
        return datasets.load_dataset(str(mirror), hub.get("name"), split=split)
    return datasets.load_dataset(hub.path, hub.get("name"), split=split, revision=hub.revision)


def cache_only() -> bool:
    """Whether hub datasets can come only from the hub cache (HF_HUB_OFFLINE=1, no mirror): a split missing there is
    for the user to supply (data_dir), not a failed run."""
    return offline() and not os.environ.get(MIRROR_ENV)


def require_hub_dataset(hub) -> None:
    """Before hub dataset `hub.path` loads (without a mirror): the hub must answer (ptune/hub_access.py)."""
    if not os.environ.get(MIRROR_ENV):
        require_hub(f"task dataset {hub.path!r}", "set data_dir to a folder with the task's files (docs/tasks.md), "
                    f"or {MIRROR_ENV} to a local copy of the hub repo")


def class_label_names(features, *path: str) -> list[str] | None:
    """The names of the ClassLabel at `path` in a dataset's features (through lists and dicts), or None.

    class_label_names(features, "sentences", "named_entities") -> ["O", "B-PERSON", ...]
    """
    node = features
    for key in path:
        while hasattr(node, "feature"):  # List / Sequence
            node = node.feature
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    while hasattr(node, "feature"):
        node = node.feature
    return list(node.names) if hasattr(node, "names") else None
