"""The Row model: JSON round trip, old rows upgraded when read, the one score reader, finding rows."""
from __future__ import annotations

import json

import pytest

from ptune.errors import ConfigError
from ptune.store import find
from ptune.store.row import FORMAT, Row, upgrade

UNVERSIONED = {"run_id": "rte-minilm-ptv2-psl16-s1-0123456789", "status": "completed", "started": "t0",
               "task": "rte", "model": "minilm", "method": "ptv2", "prompt_length": 16, "seed": 1,
               "hyperparameters": {"lr": 0.01}, "provenance": {"device": "cpu"}, "config": {"seed": 1},
               "primary_metric": "accuracy", "best_epoch": 2, "epochs_run": 3,
               "metrics": {"dev": {"best": {"accuracy": 61.5, "f1": 0.5}, "last": {"accuracy": 58.0}},
                           "test": {"best": None}},
               "history": [], "params": {"trainable_percent": 0.5}, "train_seconds": 1.0,
               "train_examples_per_second": 2.0, "peak_memory_mib": 3.0, "peak_memory_kind": "cpu_rss",
               "data": {"dev_examples": 277}, "finished": "t1"}


def test_a_row_written_before_formats_reads_as_the_current_format_with_nothing_else_changed():
    row = Row.from_json(UNVERSIONED)
    assert row.format == FORMAT == 1 and row.extra == {}
    assert row.to_json() == {**UNVERSIONED, "format": 1}
    assert list(row.to_json())[:len(UNVERSIONED)] == list(UNVERSIONED)  # the keys in the order rows have them


def test_a_row_round_trips_through_json_with_unknown_keys_kept():
    row = Row.from_json({**UNVERSIONED, "format": 1, "reused_from": {"run_id": "x", "folder": "search/runs/x"},
                         "note": "kept"})
    again = Row.from_json(json.loads(json.dumps(row.to_json())))
    assert again == row and again.extra == {"note": "kept"} and again.reused_from["run_id"] == "x"
    assert "reused_from" not in Row.from_json(UNVERSIONED).to_json()  # only rows copied from a twin have it


def test_a_row_of_a_newer_format_is_refused():
    with pytest.raises(ValueError, match="format 2 is newer"):
        upgrade({**UNVERSIONED, "format": FORMAT + 1})


def test_score_reads_any_split_epoch_and_metric_and_defaults_to_the_primary_dev_best():
    row = Row.from_json(UNVERSIONED)
    assert row.score() == 61.5 and row.score(epoch="last") == 58.0 and row.score(metric="f1") == 0.5
    assert row.score("test") is None and row.score("train") is None and row.score(epoch="last", metric="f1") is None


def test_find_reads_completed_rows_only_and_a_run_folder_by_id_or_prefix(tmp_path, write_row):
    write_row(tmp_path, run_id="rte-a-1", dev={"accuracy": 1.0})
    write_row(tmp_path, run_id="rte-b-2", dev={"accuracy": 2.0})
    write_row(tmp_path, run_id="rte-c-3", dev={"accuracy": 3.0}, status="failed")
    assert [row.run_id for row in find.completed_rows(tmp_path)] == ["rte-a-1", "rte-b-2"]
    assert find.completed_row(tmp_path, "rte-b-2").score(metric="accuracy") == 2.0
    assert find.completed_row(tmp_path, "rte-c-3") is None and find.completed_row(tmp_path, "nope") is None
    assert find.run_folder("rte-a", tmp_path) == tmp_path / "runs" / "rte-a-1"
    with pytest.raises(ConfigError, match="matches 2 runs"):
        find.run_folder("rte-", tmp_path)
    assert [folder.name for folder, _ in find.completed_twins(tmp_path, "rte-b")] == ["rte-b-2"]
