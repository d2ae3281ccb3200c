"""SuperGLUE tasks: the local layout `<data_dir>/super_glue/<Task>/{train,val,test}.jsonl` or the hub's
aps/super_glue, and predictions in the leaderboard's `<Task>.jsonl` form. `pair_classification` covers
the sentence-pair tasks (RTE, CB, BoolQ); tasks that need their own input format subclass SuperGlueTask.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ptune.data import read_jsonl, require_file
from ptune.tasks import metrics
from ptune.tasks.base import TASKS, Task

LOCAL_SPLIT_FILES = {"train": "train.jsonl", "dev": "val.jsonl", "test": "test.jsonl"}


class SuperGlueTask(Task):
    def local_path(self, split: str) -> Path:
        return self.data_dir / "super_glue" / self.cfg.local_name / LOCAL_SPLIT_FILES[split]

    def local_examples(self, split: str) -> list[dict]:
        require_file(self.local_path(split), hint=f" as super_glue/{self.cfg.local_name}/{LOCAL_SPLIT_FILES[split]}")
        return [self.normalise(r) for r in read_jsonl(self.local_path(split), required=tuple(self.cfg.required))]

    def from_hub(self, row: dict) -> dict:
        return self.normalise(row)

    def has_split(self, split: str) -> bool:
        return self.data_dir is None or self.local_path(split).is_file()

    def normalise(self, record: dict) -> dict:
        """Labels become class indices into cfg.labels (None when unlabelled: test, or the hub's -1)."""
        label = record.get("label")
        if label is None or label == -1:
            record["label"] = None
        elif isinstance(label, bool) or isinstance(label, str):
            names = list(self.cfg.labels)
            key = str(label).lower() if isinstance(label, bool) else label
            if key not in names:
                raise ValueError(f"task {self.name}: label {label!r} of idx {record.get('idx')} is not one of {names}")
            record["label"] = names.index(key)
        return record

    def write_predictions(self, predictions: list[dict], folder: Path, split: str) -> Path:
        path = Path(folder) / f"{self.cfg.local_name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(p) + "\n" for p in predictions))
        return path


@TASKS.register("pair_classification")
class PairClassification(SuperGlueTask):
    """Two text fields as a sentence pair; one label per example."""

    def features(self, examples, tokenizer, max_length):
        first, second = self.cfg.fields
        encoded = tokenizer([e[first] for e in examples], [e[second] for e in examples],
                            truncation=True, max_length=max_length)
        return [{**{k: encoded[k][i] for k in encoded}, "labels": e["label"] if e["label"] is not None else -100}
                for i, e in enumerate(examples)]

    def predict(self, examples, features, outputs):
        names = list(self.cfg.labels)
        return [{"idx": e["idx"], "label": names[int(torch.argmax(o))]} for e, o in zip(examples, outputs)]

    def score(self, examples, predictions):
        if any(e["label"] is None for e in examples):
            return None
        names = list(self.cfg.labels)
        gold = [e["label"] for e in examples]
        predicted = [names.index(p["label"]) for p in predictions]
        scores = {"accuracy": metrics.accuracy(gold, predicted)}
        if "f1_macro" in self.cfg.get("metrics", []):
            scores["f1_macro"] = metrics.f1_macro(gold, predicted, labels=list(range(len(names))))
        return scores
