"""logger=mlflow: the MLflow client on the local SQLite store finds the run, its params, metric histories and row."""
from __future__ import annotations

import json

import pytest

from tests.train.tracking.conftest import EPOCH_ENDS, TRAIN_STEPS

tracking = pytest.importorskip("mlflow.tracking")


def test_the_sqlite_store_holds_the_run_with_params_histories_and_artifacts(tracked, tmp_path):
    client = tracking.MlflowClient(tracking_uri=f"sqlite:///{tracked.outputs}/mlflow.db")
    experiment = client.get_experiment_by_name("ptune")  # a lone run: the experiment itself, no sweep
    [run] = client.search_runs([experiment.experiment_id])  # the resumed run reopened the same MLflow run
    assert (run.info.run_name, run.info.status) == (tracked.row.run_id, "FINISHED")
    assert run.data.tags["ptune.run_id"] == tracked.row.run_id
    params = run.data.params
    assert (params["method.name"], params["trainer.epochs"], params["logger.mlflow.experiment"]) == \
        ("ptv2", "2", "ptune")

    def steps(key):
        return sorted(metric.step for metric in client.get_metric_history(run.info.run_id, key))

    assert steps("train/loss") == TRAIN_STEPS and steps("dev/accuracy") == EPOCH_ENDS
    assert run.data.metrics["dev/best/accuracy"] == pytest.approx(tracked.row.score())
    assert {artifact.path for artifact in client.list_artifacts(run.info.run_id)} == {"row.json", "predictions"}
    row_file = client.download_artifacts(run.info.run_id, "row.json", str(tmp_path))
    assert json.loads(open(row_file).read()) == json.loads(json.dumps(tracked.row.to_json()))
