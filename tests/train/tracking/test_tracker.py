"""The tracker: every logger yaml has its backend, the logger changes no run id, logger=none costs nothing, only
the main rank tracks, a failing backend never fails the run, no step is logged twice after a crash, and a sweep's
runs are grouped in every backend."""
from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from ptune.config.compose import config_dir
from ptune.registry import UnknownNameError
from ptune.store.run_id import run_id
from ptune.train import runner
from ptune.train.tracking import BACKENDS
from ptune.train.tracking import csv as csv_backend
from ptune.train.tracking import tracker as tracking
from ptune.train.tracking.base import Backend
from tests.helpers import SMOKE, at_training_batch
from tests.train.tracking.conftest import EPOCH_ENDS, TRAIN_STEPS, records


def test_every_logger_yaml_has_its_backend():
    options = {path.stem for path in (config_dir() / "logger").glob("*.yaml")} - {"none"}
    assert BACKENDS.names() == sorted(options)
    assert all(issubclass(BACKENDS.get(name), Backend) for name in options)
    with pytest.raises(UnknownNameError, match="Did you mean 'mlflow'"):
        BACKENDS.get("mlflw")


def test_the_logger_changes_no_run_id(make_cfg):
    plain = make_cfg(*SMOKE, "method=ptv2")
    tracked = make_cfg(*SMOKE, "method=ptv2", "logger=[tensorboard,mlflow]", "trainer.log_every=1")
    assert dict(tracked.logger) and run_id(tracked) == run_id(plain)


def test_logger_none_imports_no_tracking_library():
    code = ("import sys; from ptune.train import runner; from ptune.train.tracking import tracker; "
            "print([m for m in ('mlflow', 'wandb', 'tensorboard', 'torch.utils.tensorboard') if m in sys.modules])")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_only_the_main_rank_tracks(make_cfg, tmp_path):
    cfg = make_cfg(*SMOKE, "logger=csv")
    other = tracking.start(cfg, "some-run", resuming=False, main=False)
    assert other.wanted and not other.backends  # sums the loss with the other ranks, logs nothing
    other.log(3, {"train/loss": 1.0})
    assert not (tmp_path / "outputs").exists()
    assert not tracking.start(make_cfg(*SMOKE), "some-run", resuming=False).wanted  # logger=none


def metric_rows(cfg, identifier) -> list[dict]:
    with (Path(cfg.paths.output_dir) / "csv" / identifier / "metrics.csv").open(newline="") as lines:
        return list(csv.DictReader(lines))


def test_a_failing_backend_warns_once_and_the_run_goes_on(make_cfg, tmp_path, write_rte, monkeypatch, caplog):
    calls = Counter()

    def broken_log(self, step, metrics):
        calls["log"] += 1
        raise OSError("disk full")

    monkeypatch.setattr(csv_backend.CsvBackend, "log", broken_log)
    cfg = make_cfg(*SMOKE, "method=prompt", f"data_dir={write_rte(tmp_path)}", "logger=csv", "trainer.log_every=1")
    with caplog.at_level(logging.WARNING):
        row = runner.execute(cfg)
    assert row.status == "completed" and calls["log"] == 1
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning == "logger csv failed in log (OSError: disk full); the run goes on without it"


def test_a_crash_after_the_last_saved_state_logs_no_step_twice(make_cfg, tmp_path, write_rte, monkeypatch):
    """A run that fails at step 17 (its state saved at step 10, steps 12 and 15 logged), resumed: the resumed run
    computes 11-17 again and logs them no second time."""
    def crash():
        raise RuntimeError("the machine went away")

    overrides = (*SMOKE, "method=ptv2", f"data_dir={write_rte(tmp_path)}", "trainer.epochs=2", "trainer.batch_size=2",
                 "trainer.max_train_examples=null", "trainer.log_every=3", "logger=csv")
    at_training_batch(monkeypatch, 17, crash)
    with pytest.raises(RuntimeError, match="went away"):
        runner.execute(make_cfg(*overrides))
    monkeypatch.undo()
    cfg = make_cfg(*overrides, "resume=true")
    assert [int(r["step"]) for r in metric_rows(cfg, run_id(cfg)) if r["name"] == "train/loss"] == [3, 6, 9, 12, 15]
    row = runner.execute(cfg)
    rows = metric_rows(cfg, row.run_id)
    assert max(Counter((r["step"], r["name"]) for r in rows).values()) == 1
    assert [int(r["step"]) for r in rows if r["name"] == "train/loss"] == TRAIN_STEPS
    assert [int(r["step"]) for r in rows if r["name"] == "dev/accuracy"] == EPOCH_ENDS


def test_a_sweep_groups_its_runs_in_every_backend(tmp_path, ptune, write_samples, monkeypatch):
    mlflow_tracking = pytest.importorskip("mlflow.tracking")
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    done = ptune("run", "-m", "method=prompt,ptv2", *SMOKE, f"data_dir={write_samples(tmp_path)}",
                 f"paths.results_dir={tmp_path / 'results'}", f"paths.output_dir={outputs}",
                 "logger=[tensorboard,mlflow,wandb]")
    assert done.returncode == 0, done.stderr[-3000:]
    [summary] = outputs.glob("multirun/*/*/summary.json")
    identifiers = sorted(job["run_id"] for job in json.loads(summary.read_text()))
    sweep = summary.parent.relative_to(outputs).as_posix()  # multirun/<date>/<time>
    assert sorted(p.name for p in (outputs / "tensorboard" / sweep).iterdir()) == identifiers  # curves overlay
    client = mlflow_tracking.MlflowClient(tracking_uri=f"sqlite:///{outputs}/mlflow.db")
    experiment = client.get_experiment_by_name(f"ptune/{sweep}")
    assert sorted(run.info.run_name for run in client.search_runs([experiment.experiment_id])) == identifiers
    groups = {record.run.run_group for path in outputs.glob("wandb/offline-run-*/run-*.wandb")
              for record in records(path) if record.WhichOneof("record_type") == "run"}
    assert groups == {sweep}


class Recording(Backend):
    """A backend that keeps what it is sent."""

    def __init__(self):
        self.logged, self.finished = [], []

    def log(self, step, metrics):
        self.logged.append((step, metrics))

    def finish(self, folder, status):
        self.finished.append(status)


def test_a_tracking_record_that_cannot_be_written_warns_once_and_fails_nothing(tmp_path, caplog):
    """tracking.json on a disk that refuses it (here: under a file): the metrics still reach the backend and the
    completed run's finish goes through (its row is published by then), with one warning."""
    (tmp_path / "file").write_text("")
    backend = Recording()
    tracker = tracking.Tracker({"recording": backend}, wanted=True, sidecar=tmp_path / "file" / "tracking.json")
    row = SimpleNamespace(metrics={"dev": {"best": {"accuracy": 61.0}}}, best_epoch=2)
    with caplog.at_level(logging.WARNING):
        tracker.log(3, {"train/loss": 0.5})
        tracker.log(6, {"train/loss": 0.4})
        tracker.finish(tmp_path, row)
    assert backend.logged == [(3, {"train/loss": 0.5}), (6, {"train/loss": 0.4}),
                              (6, {"dev/best/accuracy": 61.0, "best_epoch": 2.0})]
    assert backend.finished == ["completed"]
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith(f"logger: cannot write {tmp_path / 'file' / 'tracking.json'}")
