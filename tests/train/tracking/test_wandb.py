"""logger=wandb: the offline run folders hold the run, its config, history and artifact (read with wandb's own
protobuf records; conftest.records reads the framing W&B's .wandb transaction log is written in)."""
from __future__ import annotations

from collections import Counter

import pytest

from ptune.train.tracking.base import RunInfo
from ptune.train.tracking.wandb import WandbBackend, wandb_mode
from tests.train.tracking.conftest import EPOCH_ENDS, TRAIN_STEPS, records

pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")
def test_the_offline_run_holds_the_history_once_across_the_resume(tracked):
    files = sorted((tracked.outputs / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 2  # the stopped run and its resume, under one W&B run id
    runs, history, artifacts = [], Counter(), []
    for path in files:
        for record in records(path):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                runs.append(record.run)
            elif kind == "history":
                history.update(("/".join(item.nested_key) or item.key, record.history.step.num)
                               for item in record.history.item)
            elif kind == "artifact":
                artifacts.append(sorted(entry.path for entry in record.artifact.manifest.contents))
    assert {run.run_id for run in runs} == {files[0].stem.removeprefix("run-")}
    assert {run.display_name for run in runs} == {tracked.row.run_id}
    config = {item.key: item.value_json for item in runs[0].config.update}
    assert '"ptv2"' in config["method"]
    assert max(history.values()) == 1  # no step logged twice
    assert sorted(step for name, step in history if name == "train/loss") == TRAIN_STEPS
    assert sorted(step for name, step in history if name == "dev/accuracy") == EPOCH_ENDS
    assert artifacts == [["predictions/dev/RTE.jsonl", "predictions/test/RTE.jsonl", "row.json"]]


def test_wandb_goes_online_only_with_an_api_key(monkeypatch, tmp_path):
    for name in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    assert wandb_mode("auto") == "offline"
    (tmp_path / "netrc").write_text("machine api.wandb.ai login user password secret\n")
    assert wandb_mode("auto") == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode("auto") == "disabled" and wandb_mode("offline") == "offline"


def test_an_online_start_that_fails_goes_on_offline(monkeypatch, tmp_path, caplog):
    wandb = pytest.importorskip("wandb")
    modes = []

    def init(mode, **options):
        modes.append(mode)
        if mode == "online":
            raise TimeoutError("no network")
        return "the offline run"

    monkeypatch.setattr(wandb, "init", init)
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    settings = {"project": "ptune", "entity": None, "dir": str(tmp_path), "mode": "auto", "init_timeout": 1}
    backend = WandbBackend(RunInfo("rte-some-run", {}, None, settings, None))
    handle = backend.start()
    assert modes == ["online", "offline"] and backend.wandb == "the offline run"
    assert handle["group"] is None and "this run logs offline" in caplog.text
