"""What a task is: where its data comes from, how examples become features, how outputs are scored.

A task is one yaml in conf/task/ (`name` = file name, `impl` = a class registered in TASKS) and, when no
existing implementation fits, one module in ptune/tasks/ (its schema in ptune/tasks/schemas.py). Splits are always
called train, dev, test.

    task = build_task(cfg.task, data_dir)
    examples = task.examples("dev")                     # local files under data_dir, else the hub
    task.data_files("dev")                              # the local files that reads ([] from the hub)
    features = task.features(examples, tokenizer, max_length)
    predictions = task.predict(examples, features, outputs)   # outputs: one logits tensor per feature
    metrics = task.score(examples, predictions)          # None when the split has no labels
    task.write_predictions(predictions, folder, "dev")
"""
from __future__ import annotations

from pathlib import Path

import torch

from ptune.errors import DataError, HubUnreachableError, SetupError
from ptune.tasks.dev_split import split_by_group
from ptune.tasks.hub import cache_only, load_split


class Task:
    head = "classification"
    words_pretokenized = False  # True: inputs are pre-split words (byte-level BPE needs add_prefix_space)

    def __init__(self, cfg, data_dir: str | Path | None):
        self.cfg = cfg
        self.name = cfg.name
        self.data_dir = Path(data_dir) if data_dir else None
        self.primary_metric: str = cfg.metric

    @property
    def eval_splits(self) -> list[str]:
        """Evaluated after training; "dev" selects the best epoch, the others are reported at it."""
        return list(self.cfg.eval_splits)

    @property
    def num_labels(self) -> int:
        return len(self.cfg.labels) if self.cfg.get("labels") else 2  # only some task schemas name labels

    # data -------------------------------------------------------------------------------------------
    split_unit: str | None = None  # what task.split_dev splits the dev file by ("article"); None: not offered

    @property
    def split_dev(self):
        """task.split_dev (ptune/tasks/dev_split.py): train and dev both cut from the official dev file."""
        return self.cfg.get("split_dev")

    def split_group(self, record: dict) -> str:
        """The group a record belongs to for task.split_dev (its article, its passage)."""
        raise NotImplementedError

    def examples(self, split: str) -> list[dict]:
        if split not in ("train", *self.eval_splits):
            raise ValueError(f"task {self.name}: unknown split {split!r}; expected train or one of {self.eval_splits}")
        if self.split_dev is not None:
            return self.dev_part(split)
        return self.read_split(split)

    def read_split(self, split: str) -> list[dict]:
        return self.local_examples(split) if self.data_dir is not None else self.hub_examples(split)

    def dev_part(self, split: str) -> list[dict]:
        if self.split_unit is None:
            raise ValueError(f"task {self.name}: task.split_dev is not offered for this task")
        if split not in ("train", "dev"):
            raise ValueError(f"task {self.name} with split_dev: only train and dev exist, not {split!r}")
        source = self.data_description().get("file") or f"{self.name}'s dev split"
        train, held_out = split_by_group(self.read_split("dev"), self.split_dev, self.split_group, self.split_unit,
                                         str(source))
        return train if split == "train" else held_out

    def local_examples(self, split: str) -> list[dict]:
        raise NotImplementedError

    def local_files(self, split: str) -> list[Path]:
        """The files under data_dir that local_examples(split) reads."""
        raise NotImplementedError

    def data_files(self, split: str) -> list[Path]:
        """The local files examples(split) reads (none from the hub; with split_dev, the dev file for both splits):
        what a run checks before any work (ptune/train/preflight.py)."""
        if self.data_dir is None:
            return []
        return self.local_files("dev" if self.split_dev is not None else split)

    def hub_examples(self, split: str) -> list[dict]:
        return [self.from_hub(dict(row)) for row in self.hub_rows(split)]

    def hub_rows(self, split: str):
        """The split's records from the dataset hub (`cfg.hub`: path, name, splits, revision; see ptune/tasks/hub.py)."""
        hub = self.cfg.get("hub")
        if not hub or not hub.get("path") or not hub.get("splits", {}).get(split):
            note = f": {hub.note}" if hub and hub.get("note") else ""
            raise SetupError(f"task {self.name!r} has no {split!r} split on the dataset hub{note}; "
                             "set data_dir to local files")
        try:
            return load_split(hub, hub.splits[split])
        except Exception as error:  # the hub raises many kinds; all mean the same to the user
            # HF_HUB_OFFLINE=1 and the split not in the hub cache: data_dir must change (exit 2); nothing ran
            raise (HubUnreachableError if cache_only() else DataError)(
                f"could not load task {self.name!r} ({hub.path}, {hub.get('name')}, {hub.splits[split]}) from the "
                f"dataset hub: {error}\nOffline? Set data_dir=/path/to/data (see docs/tasks.md).") from error

    def from_hub(self, row: dict) -> dict:
        """Map a hub record to the local record layout (override when they differ)."""
        return row

    def has_split(self, split: str) -> bool:
        """Whether the split can be had at all (locally: its file exists)."""
        return True

    def data_description(self) -> dict:
        """Extra facts for the row's data section (e.g. a note that train and dev come from one file)."""
        return {}

    # model side ---------------------------------------------------------------------------------------
    def features(self, examples: list[dict], tokenizer, max_length: int) -> list[dict]:
        raise NotImplementedError

    def predict(self, examples: list[dict], features: list[dict], outputs: list[torch.Tensor]):
        raise NotImplementedError

    def score(self, examples: list[dict], predictions) -> dict[str, float] | None:
        raise NotImplementedError

    def write_predictions(self, predictions, folder: Path, split: str) -> Path:
        raise NotImplementedError
