"""The result row: one run's outcome and full provenance, as `<results_dir>/runs/<run id>/row.json` stores it.

    row = Row.from_json(json.loads(path.read_text()))   # any format ever written, upgraded to this one
    row.score()                                          # THE reader of a score: dev, best epoch, primary metric
    row.score("test", epoch="last", metric="f1")

A row records the format it was written in (`format`); `upgrade` is the one place that reads older ones.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

FORMAT = 1  # bump on a change of the JSON below, and teach `upgrade` to read the format before it


@dataclass
class Row:
    """A run's row. The fields are the JSON's keys, in the order written; `extra` keeps any other key. Every field
    has a default, so that a partial row (written by hand, e.g. in a test) still reads."""

    run_id: str = ""
    status: str = "running"  # running -> completed (failures go to failed-*.json, never to row.json)
    started: str | None = None
    task: str = ""
    model: str = ""
    method: str = ""
    prompt_length: int | None = None  # None for a method without prompts
    seed: int | None = None
    hyperparameters: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)  # ptune/store/provenance.py
    config: dict = field(default_factory=dict)  # the experiment config the run id hashes (ptune/store/run_id.py)
    primary_metric: str | None = None
    best_epoch: int | None = None
    epochs_run: int | None = None
    metrics: dict = field(default_factory=dict)  # split -> {"best": {metric: value}, "last": {...} (dev only)}
    history: list = field(default_factory=list)  # per epoch: epoch, train_loss, dev metrics
    params: dict = field(default_factory=dict)  # trainable, total, trainable_percent
    train_seconds: float | None = None
    train_examples_per_second: float | None = None
    peak_memory_mib: float | None = None
    peak_memory_kind: str | None = None
    data: dict = field(default_factory=dict)  # source, split sizes, train_tokens
    finished: str | None = None
    reused_from: dict | None = None  # set when the row was copied from a twin run (ptune/store/reuse.py)
    format: int = FORMAT
    extra: dict = field(default_factory=dict)

    def score(self, split: str = "dev", epoch: str = "best", metric: str | None = None) -> float | None:
        """`metric` (default: the task's primary metric) on `split` with the weights of the best dev epoch
        ("best") or of the last epoch ("last", dev only); None where the row has no such score."""
        scores = (self.metrics.get(split) or {}).get(epoch) or {}
        value = scores.get(metric or self.primary_metric)
        return None if value is None else float(value)

    def to_json(self) -> dict:
        """The JSON object row.json holds (`reused_from` only when set, as rows have always had it)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        if data["reused_from"] is None:
            del data["reused_from"]
        return data | self.extra

    @classmethod
    def from_json(cls, data: dict) -> Row:
        data = upgrade(data)
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in data.items() if k in names},
                   extra={k: v for k, v in data.items() if k not in names})


def upgrade(data: dict) -> dict:
    """A row's JSON in any format ever written, as the current format reads it. The one place for old rows.

    Format 0: rows written before rows had a format; format 1 first recorded it and changed nothing else.
    (Keys added to the config since are left as written: the run id and the tables' digests hash them.)"""
    version = data.get("format", 0)
    if version > FORMAT:
        raise ValueError(f"row {data.get('run_id')}: format {version} is newer than this ptune reads ({FORMAT})")
    if version == 0:
        data = {**data, "format": 1}
    return data
