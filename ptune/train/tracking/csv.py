"""logger=csv: <dir>/<sweep>/<run id>/metrics.csv, one `step,name,value` line per metric, beside config.yaml.

Long rows, so that a metric first seen late (dev scores, the row's final metrics) needs no new column, and a
resumed run appends to the same file. Read it with pandas: `pd.read_csv(path).pivot(index="step", columns="name")`.
"""
from __future__ import annotations

import csv
from pathlib import Path

import yaml

from ptune.train.tracking.base import BACKENDS, Backend, run_folder


@BACKENDS.register("csv")
class CsvBackend(Backend):
    def start(self) -> dict:
        folder = run_folder(self.run)
        folder.mkdir(parents=True, exist_ok=True)
        self.file = folder / "metrics.csv"
        if not self.run.reopen:
            self.file.write_text("step,name,value\n")
            (folder / "config.yaml").write_text(yaml.safe_dump(self.run.config, sort_keys=False))
        return {"folder": str(folder)}

    def log(self, step: int, metrics: dict[str, float]) -> None:
        with self.file.open("a", newline="") as out:
            csv.writer(out).writerows((step, name, value) for name, value in metrics.items())

    def finish(self, folder: Path | None, status: str) -> None:
        pass  # every line is written when logged
