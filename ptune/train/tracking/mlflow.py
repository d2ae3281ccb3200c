"""logger=mlflow: one MLflow run per ptune run (run name = run id), an experiment per sweep (<experiment>/<sweep>).

The store is MLFLOW_TRACKING_URI when set, else a local SQLite file, sqlite:///outputs/mlflow.db, with artifacts
in outputs/mlartifacts (`mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db`). Params: the resolved config,
flattened; metrics with their steps; artifacts: row.json and predictions/. A resumed run reopens the same MLflow run.
"""
from __future__ import annotations

import time
from pathlib import Path

from ptune.train.tracking.base import BACKENDS, Backend

STATUS = {"completed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
BATCH = 100  # params per log_batch request: MLflow's limit


@BACKENDS.register("mlflow")
class MlflowBackend(Backend):
    artifacts = True

    def start(self) -> dict:
        # deferred: mlflow is the optional `tracking` extra, and a second to import
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        settings, reopen = self.run.settings, self.run.reopen
        uri = reopen["tracking_uri"] if reopen else settings["tracking_uri"]
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.client = MlflowClient(tracking_uri=uri)
        if reopen:
            self.run_id = reopen["run_id"]
            self.client.update_run(self.run_id, status="RUNNING")
            return reopen
        name = settings["experiment"] + (f"/{self.run.group}" if self.run.group else "")
        experiment = self.client.get_experiment_by_name(name)
        local = uri.startswith(("sqlite:", "file:")) or "://" not in uri  # a server keeps artifacts where it decides
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(
            name, artifact_location=Path(settings["artifact_dir"]).resolve().as_uri() if local else None)
        tags = {"ptune.run_id": self.run.run_id, "ptune.sweep": self.run.group or ""}
        self.run_id = self.client.create_run(experiment_id, tags=tags, run_name=self.run.run_id).info.run_id
        params = [Param(key, str(value)[:6000]) for key, value in flatten(self.run.config).items()]
        for first in range(0, len(params), BATCH):
            self.client.log_batch(self.run_id, params=params[first:first + BATCH])
        return {"tracking_uri": uri, "run_id": self.run_id}

    def log(self, step: int, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric  # deferred: see start

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, step) for k, v in metrics.items()])

    def finish(self, folder: Path | None, status: str) -> None:
        if folder is not None:
            self.client.log_artifact(self.run_id, str(folder / "row.json"))
            if (folder / "predictions").is_dir():
                self.client.log_artifacts(self.run_id, str(folder / "predictions"), "predictions")
        self.client.set_terminated(self.run_id, STATUS[status])


def flatten(config: dict, prefix: str = "") -> dict:
    """{"trainer": {"epochs": 3}} -> {"trainer.epochs": 3}: MLflow params are flat."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
