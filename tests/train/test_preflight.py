"""The checks before any training work (ptune/train/preflight.py), in process; through the CLI, each bad input
with its exit code and one line: tests/test_bad_input.py."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ptune.config.compose import compose
from ptune.errors import SetupError
from ptune.tasks import build_task
from ptune.tasks.data import DataFileError, UnusableDataFile
from ptune.train import preflight
from tests.helpers import SMOKE, TASKS, superglue_tasks


def what_is_missing(error) -> str:
    """"data file not found: <path>" or "no <pattern> files under <folder>", without the hint that follows."""
    return re.split(r"\. Set data_dir|; expected", str(error))[0]


@pytest.mark.parametrize("name", TASKS)
def test_the_files_checked_are_the_files_the_task_reads(name, tmp_path):
    """Every task, on an empty data folder: the preflight refuses the very file its reader would have failed on."""
    task = build_task(compose([f"task={name}"]).task, tmp_path / "empty")
    with pytest.raises(UnusableDataFile) as checked:
        preflight.check_data(task)
    with pytest.raises(DataFileError) as read:
        task.examples("train")
    assert what_is_missing(checked.value) == what_is_missing(read.value)
    assert build_task(compose([f"task={name}"]).task, None).data_files("train") == []  # the hub: no local files


@pytest.mark.parametrize("name", superglue_tasks())
def test_sample_files_pass(name, tmp_path, write_samples):
    task = build_task(compose([f"task={name}"]).task, write_samples(tmp_path))
    preflight.check_data(task)
    assert {path.name for split in ("train", "dev", "test") for path in task.data_files(split)} == \
        {"train.jsonl", "val.jsonl", "test.jsonl"}


def test_writable_probe_leaves_nothing_and_names_the_key(tmp_path):
    folder = tmp_path / "results" / "runs"
    preflight.check_writable(folder, "paths.results_dir")
    assert folder.is_dir() and not list(folder.iterdir())
    (tmp_path / "file").write_text("")
    with pytest.raises(SetupError, match=r"paths.output_dir: cannot write to .*file/outputs") as refused:
        preflight.check_writable(tmp_path / "file" / "outputs", "paths.output_dir")
    assert refused.value.exit_code == 2


def test_a_model_folder_that_does_not_exist_is_refused(tmp_path):
    cfg = compose(["model=minilm", f"model.pretrained={tmp_path / 'no-such-model'}"])
    with pytest.raises(SetupError, match=r"model.pretrained=.*no-such-model: no such folder"):
        preflight.check_model_folders(cfg.model)
    preflight.check_model_folders(compose(["model=minilm"]).model)  # pkg: is no folder to check
    (tmp_path / "saved").mkdir()
    preflight.check_model_folders(compose(["model=minilm", f"model.pretrained={tmp_path / 'saved'}"]).model)


def test_a_clean_check_returns_no_state_and_leaves_no_probe(make_cfg, tmp_path, write_samples):
    cfg = make_cfg(*SMOKE, f"data_dir={write_samples(tmp_path / 'data')}")
    assert preflight.check(cfg, "rte-run", {}) is None
    assert [p.name for p in Path(cfg.paths.results_dir).rglob("*")] == ["runs"]
    assert list(Path(cfg.paths.output_dir).iterdir()) == []
