"""Published reference numbers: results/reference/published.csv, with their sources in sources.yaml.

published.csv: one number a line -- model, method, prompt_length, task, split, metric, value,
trainable_percent, source, verified, note. `source` names an entry of sources.yaml (label, verified,
citation); `verified` repeats that entry's flag so that the csv reads on its own, and must agree with it.
Model names are ptune's conf/model names ("unspecified" where the source does not name the backbone).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import yaml

COLUMNS = ("model", "method", "prompt_length", "task", "split", "metric", "value", "trainable_percent",
           "source", "verified", "note")
UNSPECIFIED_MODEL = "unspecified"


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    verified: bool
    citation: str

    @property
    def display(self) -> str:
        """The label a table shows: unverified sources say so."""
        return self.label if self.verified or "(unverified)" in self.label else f"{self.label} (unverified)"


@dataclass(frozen=True)
class Reference:
    model: str
    method: str
    prompt_length: int | None
    task: str
    split: str
    metric: str
    value: float
    trainable_percent: float | None
    source: Source
    note: str


def default_reference_dir(results_dir: Path) -> Path | None:
    """<results>/reference, else the checkout's results/reference; None when neither exists."""
    for candidate in (Path(results_dir) / "reference", Path(__file__).resolve().parents[2] / "results" / "reference"):
        if (candidate / "published.csv").is_file():
            return candidate
    return None


def load_sources(path: Path) -> dict[str, Source]:
    data = yaml.safe_load(path.read_text()) or {}
    sources = {}
    for key, entry in data.items():
        missing = {"label", "verified", "citation"} - set(entry or {})
        if missing:
            raise ValueError(f"{path}: source {key!r} lacks {sorted(missing)}")
        sources[key] = Source(key, str(entry["label"]), bool(entry["verified"]), " ".join(str(entry["citation"]).split()))
    return sources


def _number(text: str, where: str, kind=float):
    if text.strip() == "":
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{where}: expected a number, got {text!r}") from None


def load_references(folder: Path) -> list[Reference]:
    """Every published number in folder/published.csv, checked against folder/sources.yaml."""
    folder = Path(folder)
    sources = load_sources(folder / "sources.yaml")
    path = folder / "published.csv"
    references = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: expected the header {','.join(COLUMNS)}, got {reader.fieldnames}")
        for line, record in enumerate(reader, start=2):
            where = f"{path}:{line}"
            source = sources.get(record["source"])
            if source is None:
                raise ValueError(f"{where}: source {record['source']!r} is not in sources.yaml ({sorted(sources)})")
            if record["verified"] not in ("true", "false") or (record["verified"] == "true") != source.verified:
                raise ValueError(f"{where}: verified={record['verified']!r} disagrees with source "
                                 f"{source.key!r} (verified: {str(source.verified).lower()})")
            value = _number(record["value"], f"{where} value")
            if value is None:
                raise ValueError(f"{where}: value is empty")
            references.append(Reference(
                model=record["model"], method=record["method"],
                prompt_length=_number(record["prompt_length"], f"{where} prompt_length", int),
                task=record["task"], split=record["split"], metric=record["metric"], value=value,
                trainable_percent=_number(record["trainable_percent"], f"{where} trainable_percent"),
                source=source, note=record["note"]))
    return references
