"""SuperGLUE tasks: the local layout `<data_dir>/super_glue/<Task>/{train,val,test}.jsonl` or the hub's
aps/super_glue (parquet, loads with datasets 5.x), and predictions in the leaderboard's `<Task>.jsonl` form.

`pair_classification` covers the sentence-pair tasks (RTE, CB, BoolQ); WiC and WSC subclass it with their own
text pair (ptune/tasks/superglue/templated.py), as does COPA as 2-way multiple choice; MultiRC and ReCoRD, whose
records hold many answers / candidates, live in ptune/tasks/superglue/reading.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ptune.tasks import TASKS
from ptune.tasks.base import Task
from ptune.tasks.data import DataFileError, read_jsonl_lines, require_file
from ptune.tasks.dev_split import split_note
from ptune.tasks.superglue import metrics

LOCAL_SPLIT_FILES = {"train": "train.jsonl", "dev": "val.jsonl", "test": "test.jsonl"}


class SuperGlueTask(Task):

    def local_path(self, split: str) -> Path:
        return self.data_dir / "super_glue" / self.cfg.local_name / LOCAL_SPLIT_FILES[split]

    def local_files(self, split: str) -> list[Path]:
        return [self.local_path(split)]

    def local_examples(self, split: str) -> list[dict]:
        path = require_file(self.local_path(split),
                            hint=f" as super_glue/{self.cfg.local_name}/{LOCAL_SPLIT_FILES[split]}")
        examples = []
        for line, record in read_jsonl_lines(path, required=tuple(self.cfg.required)):
            try:
                examples += self.from_local(record)
            except DataFileError as error:
                raise DataFileError(f"{path}:{line}: {error}") from None
        return examples

    def from_local(self, record: dict) -> list[dict]:
        """One local jsonl record -> the task's examples (MultiRC and ReCoRD flatten a passage into many)."""
        return [self.normalise(record)]

    def from_hub(self, row: dict) -> dict:
        return self.normalise(row)

    def has_split(self, split: str) -> bool:
        if self.split_dev is not None:
            return split in ("train", "dev")
        return self.data_dir is None or self.local_path(split).is_file()

    @property
    def split_unit(self) -> str | None:
        return self.cfg.get("split_by")

    def split_group(self, record: dict) -> str:
        return record[self.cfg.split_by]

    def data_description(self) -> dict:
        if self.split_dev is None:
            return {}
        source = (f"super_glue/{self.cfg.local_name}/{LOCAL_SPLIT_FILES['dev']}" if self.data_dir
                  else f"hub {self.cfg.hub.path} {self.cfg.hub.splits.dev}")
        return {"file": source, "note": split_note(self.split_dev, self.split_unit)}

    def normalise(self, record: dict) -> dict:
        """Labels become class indices into cfg.labels (None when unlabelled: test, or the hub's -1).

        Local files spell labels as strings or JSON booleans, the hub as class indices; names match without
        regard to case (a local `true` is the yaml's "True" for WSC, whose leaderboard wants "True")."""
        label = record.get("label")
        if label is None or label == -1:
            record["label"] = None
        elif isinstance(label, (bool, str)):
            names = [str(name).lower() for name in self.cfg.labels]
            if str(label).lower() not in names:
                raise DataFileError(f"task {self.name}: label {label!r} of idx {record.get('idx')} is not one of "
                                    f"task.labels {list(self.cfg.labels)}; fix the record or the task's labels")
            record["label"] = names.index(str(label).lower())
        return record

    def labelled(self, examples: list[dict]) -> bool:
        return all(e["label"] is not None for e in examples)

    def write_predictions(self, predictions: list[dict], folder: Path, split: str) -> Path:
        """`<Task>.jsonl`, one prediction per line, as the SuperGLUE leaderboard takes it."""
        path = Path(folder) / f"{self.cfg.local_name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(p) + "\n" for p in predictions))
        return path


def encode_pairs(tokenizer, pairs: list[tuple[str, str | None]], max_length: int) -> list[dict]:
    """Tokenize (first, second) text pairs, or single texts where every second is None (one segment);
    the longer text is cut first when a pair is too long."""
    seconds = [b for _, b in pairs]
    if any(b is None for b in seconds) and not all(b is None for b in seconds):
        raise ValueError("encode_pairs: either every example is a pair or none is")
    encoded = tokenizer([a for a, _ in pairs], None if seconds and seconds[0] is None else seconds,
                        truncation=True, max_length=max_length)
    return [{key: encoded[key][i] for key in encoded} for i in range(len(pairs))]


@TASKS.register("pair_classification")
class PairClassification(SuperGlueTask):
    """Two text fields (cfg.fields) as a sentence pair; one label per example, written as its name."""

    def text_pair(self, example: dict) -> tuple[str, str]:
        first, second = self.cfg.fields
        return example[first], example[second]

    def features(self, examples, tokenizer, max_length):
        encoded = encode_pairs(tokenizer, [self.text_pair(e) for e in examples], max_length)
        return [{**inputs, "labels": e["label"] if e["label"] is not None else -100}
                for inputs, e in zip(encoded, examples)]

    def predict(self, examples, features, outputs):
        names = list(self.cfg.labels)
        return [{"idx": e["idx"], "label": names[int(torch.argmax(o))]} for e, o in zip(examples, outputs)]

    def score(self, examples, predictions):
        if not self.labelled(examples):
            return None
        names = list(self.cfg.labels)
        gold = [e["label"] for e in examples]
        predicted = [names.index(p["label"]) for p in predictions]
        scores = {"accuracy": metrics.accuracy(gold, predicted)}
        if "f1_macro" in self.cfg.metrics:
            scores["f1_macro"] = metrics.f1_macro(gold, predicted, labels=list(range(len(names))))
        return scores
