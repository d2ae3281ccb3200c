"""Shared test fixtures: offline, tiny models, composed configs, the real data folder when present."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from ptune.config.compose import compose, config_dir  # noqa: E402
from ptune.store import find, write  # noqa: E402
from ptune.store.row import Row  # noqa: E402

TINY_MODELS = sorted(p.stem for p in (config_dir() / "model").glob("tiny-*.yaml"))
METHODS = sorted(p.stem for p in (config_dir() / "method").glob("*.yaml"))
TASKS = sorted(p.stem for p in (config_dir() / "task").glob("*.yaml"))


def shared_data_dir() -> Path | None:
    """../shared/data beside the checkout, or PTUNE_DATA_DIR; None when neither exists."""
    candidates = [os.environ.get("PTUNE_DATA_DIR"), Path(__file__).resolve().parents[2] / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def real_data_dir() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("real task data (../shared/data or PTUNE_DATA_DIR) is not present")
    return found


@pytest.fixture
def make_cfg(tmp_path):
    """compose() with results and outputs in the test's own folder."""

    def make(*overrides: str):
        return compose([f"paths.results_dir={tmp_path / 'results'}", f"paths.output_dir={tmp_path / 'outputs'}",
                        *overrides])

    return make


@pytest.fixture
def write_row():
    """Write a row as a run writes it, for tests that need rows without training one:

        write_row(results_dir, run_id="rte-x", task="rte", dev={"accuracy": 61.0}, last=None, **other Row fields)

    dev / last: the dev scores at the best / last epoch (last defaults to dev's); status "completed" (the default)
    writes row.json, another status a failure record (what a failed run leaves). Returns the run folder."""

    def build(results_dir, *, dev: dict | None = None, last: dict | None = None, status: str = "completed",
              **fields) -> Path:
        metrics = fields.pop("metrics", {}) or ({"dev": {"best": dev, "last": dev if last is None else last}}
                                                if dev is not None else {})
        row = Row(status=status, metrics=metrics, **fields)
        folder = find.run_path(results_dir, row.run_id)
        if status == "completed":
            write.write_row(folder, row)
        else:
            write.write_json_atomic(folder / "failed-20250101-000000.json", row.to_json())
        return folder

    return build
