"""logger=csv: metrics.csv read back with the csv module, config.yaml with yaml."""
from __future__ import annotations

import csv
from collections import Counter

import pytest
import yaml

from tests.train.tracking.conftest import EPOCH_ENDS, TRAIN_STEPS


def test_metrics_csv_holds_every_metric_at_its_steps_once(tracked):
    folder = tracked.outputs / "csv" / tracked.row.run_id
    with (folder / "metrics.csv").open(newline="") as lines:
        rows = list(csv.DictReader(lines))
    assert Counter((row["step"], row["name"]) for row in rows).most_common(1)[0][1] == 1  # no step twice

    def steps(name):
        return [int(row["step"]) for row in rows if row["name"] == name]

    assert steps("train/loss") == TRAIN_STEPS and steps("dev/accuracy") == EPOCH_ENDS
    last_loss = [float(row["value"]) for row in rows if row["name"] == "train/epoch_loss"]
    assert last_loss == pytest.approx([h["train_loss"] for h in tracked.row.history])
    assert yaml.safe_load((folder / "config.yaml").read_text())["trainer"]["log_every"] == 3
