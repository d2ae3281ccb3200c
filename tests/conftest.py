"""Shared test fixtures: offline, tiny models, composed configs, sample data, the real data folder when present.

The builders are fixtures that hand out functions (tests call them with their own arguments); the config choices
tests parametrize over are in tests/helpers.py, since pytest reads them before any fixture exists."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from ptune.config.compose import compose  # noqa: E402
from ptune.store import find, write  # noqa: E402
from ptune.store.row import Row  # noqa: E402
from tests import helpers, samples  # noqa: E402


def shared_data_dir() -> Path | None:
    """../shared/data beside the checkout, or PTUNE_DATA_DIR; None when neither exists."""
    candidates = [os.environ.get("PTUNE_DATA_DIR"), Path(__file__).resolve().parents[2] / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def pytest_collection_modifyitems(items):
    """A test that reads the real data carries the slow marker (pyproject.toml says what slow means)."""
    unmarked = [item.nodeid for item in items
                if "real_data_dir" in getattr(item, "fixturenames", ()) and item.get_closest_marker("slow") is None]
    if unmarked:
        raise pytest.UsageError(f"mark these @pytest.mark.slow (they take real_data_dir): {', '.join(unmarked)}")


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


@pytest.fixture
def write_samples():
    """write_samples(root) -> root: tiny SuperGLUE files of every task under root (use as data_dir)."""
    return samples.write_samples


@pytest.fixture
def write_rte():
    """write_rte(root, size=20) -> root: write_samples with an RTE train file of `size` examples of varied lengths."""
    return samples.write_rte


@pytest.fixture
def ptune():
    """ptune(*args, cwd=None): the CLI in a subprocess, offline -> CompletedProcess with text stdout / stderr."""
    return helpers.ptune


@pytest.fixture
def ptune_imports():
    """ptune_imports(*args, cwd=None, env=None) -> (CompletedProcess, the top-level packages the process imported);
    tests.helpers.HEAVY_PACKAGES must be missing from them after a config error."""
    return helpers.ptune_imports


@pytest.fixture
def build():
    """build(model, method, *overrides, task=..., max_length=64) -> (PromptedModel, tokenizer, cfg), prompt_length 5."""
    return helpers.build


@pytest.fixture
def encode():
    """encode(tokenizer, pairs, **tokenizer_kwargs) -> a padded batch of sentence pairs (helpers.PAIRS)."""
    return helpers.encode


@pytest.fixture
def run_folder():
    """run_folder(cfg, row) -> results_dir/runs/<run id>."""
    return helpers.run_folder


@pytest.fixture
def prediction_files():
    """prediction_files(run folder) -> {relative path: bytes} of every file under its predictions/."""
    return helpers.prediction_files
