"""Table definitions: conf/table/<name>.yaml = name, title, note, columns (label, task, split, metric).

Each column names a task (conf/task/<task>.yaml), the split and the metric key as the result rows store them
(row["metrics"][split]["best"][metric]). Used by `ptune table` (ptune/reports/tables.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ptune.config.compose import config_dir

COLUMN_KEYS = ("label", "task", "split", "metric")


@dataclass(frozen=True)
class Column:
    label: str
    task: str
    split: str
    metric: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    note: str
    columns: tuple[Column, ...]


def load_table_specs(folder: Path | None = None) -> list[TableSpec]:
    """Every conf/table/*.yaml, sorted by name; a malformed one names its file and key."""
    specs = []
    for path in sorted(Path(folder or config_dir() / "table").glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        for key in ("name", "title", "note", "columns"):
            if key not in data:
                raise ValueError(f"{path}: missing key {key!r}")
        if data["name"] != path.stem:
            raise ValueError(f"{path}: name {data['name']!r} must equal the file name {path.stem!r}")
        columns = []
        for index, column in enumerate(data["columns"]):
            if set(column or {}) != set(COLUMN_KEYS):
                raise ValueError(f"{path}: columns[{index}] must have exactly the keys {COLUMN_KEYS}, got {column}")
            columns.append(Column(**{key: str(column[key]) for key in COLUMN_KEYS}))
        specs.append(TableSpec(data["name"], data["title"], " ".join(data["note"].split()), tuple(columns)))
    return specs
