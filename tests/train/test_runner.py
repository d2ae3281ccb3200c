"""The runner end to end: rows with provenance, failures that leave no success, what the row records."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ptune.store.find import completed_rows
from ptune.store.run_id import run_id
from ptune.tasks.data import UnusableDataFile
from ptune.train import runner
from tests.helpers import SMOKE


def test_row_holds_metrics_params_and_provenance(make_cfg, tmp_path, write_samples):
    data = write_samples(tmp_path)
    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.epochs=2")
    row = runner.execute(cfg)
    saved = json.loads((Path(cfg.paths.results_dir) / "runs" / row.run_id / "row.json").read_text())
    assert saved == json.loads(json.dumps(row.to_json()))
    assert saved["status"] == "completed" and saved["method"] == "ptv2" and saved["prompt_length"] == 16
    assert saved["best_epoch"] in (1, 2) and len(saved["history"]) == 2
    assert set(saved["metrics"]["dev"]) == {"best", "last"} and "accuracy" in saved["metrics"]["dev"]["best"]
    assert saved["metrics"]["test"] == {"best": None}  # unlabelled test: predictions only
    assert saved["params"]["trainable"] < saved["params"]["total"]
    assert {"torch", "transformers", "python"} <= saved["provenance"]["versions"].keys()
    assert {"commit", "dirty"} <= saved["provenance"]["git"].keys()
    assert saved["config"]["method"]["name"] == "ptv2" and "paths" not in saved["config"]
    for key in ("train_seconds", "train_examples_per_second", "peak_memory_mib"):
        assert saved[key] > 0
    predictions = Path(cfg.paths.results_dir) / "runs" / row.run_id / "predictions"
    assert (predictions / "dev" / "RTE.jsonl").is_file() and (predictions / "test" / "RTE.jsonl").is_file()


def test_missing_data_names_the_path_and_leaves_no_record(make_cfg, tmp_path):
    """Found by the preflight: something to change (exit code 2), not a run that failed, so no failure record."""
    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={tmp_path / 'nowhere'}")
    with pytest.raises(UnusableDataFile, match=r"nowhere/super_glue/RTE/train.jsonl[\s\S]*data_dir") as refused:
        runner.execute(cfg)
    assert refused.value.exit_code == 2
    assert not (Path(cfg.paths.results_dir) / "runs" / run_id(cfg)).exists()
    assert completed_rows(Path(cfg.paths.results_dir)) == []


def test_interrupted_run_is_recorded_as_such(make_cfg, tmp_path, monkeypatch, write_samples):
    data = write_samples(tmp_path)
    cfg = make_cfg(*SMOKE, "method=prompt", f"data_dir={data}")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "train_epoch", interrupt)
    with pytest.raises(KeyboardInterrupt):
        runner.execute(cfg)
    folder = Path(cfg.paths.results_dir) / "runs" / run_id(cfg)
    assert not (folder / "row.json").exists()
    assert json.loads(next(folder.glob("failed-*.json")).read_text())["status"] == "interrupted"


def test_malformed_data_names_file_and_line(make_cfg, tmp_path, write_samples):
    data = write_samples(tmp_path)
    train = data / "super_glue" / "RTE" / "train.jsonl"
    train.write_text(train.read_text() + "{not json\n")
    lines = len(train.read_text().splitlines())
    with pytest.raises(ValueError, match=f"{train}:{lines}: not valid JSON"):
        runner.execute(make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}"))


def test_the_progress_bar_does_not_change_the_run(make_cfg, tmp_path, write_samples):
    """Same config, bar on or off: the same data order and so the same numbers (the run id ignores the bar)."""
    data = write_samples(tmp_path)
    runs = [runner.execute(make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", f"trainer.progress={show}",
                                 "trainer.epochs=2", "trainer.batch_size=2"))
            for show in (False, True)]
    assert runs[0].run_id == runs[1].run_id
    assert runs[0].history == runs[1].history


def test_the_row_records_the_cpu_threads_it_ran_with(make_cfg, tmp_path, write_samples):
    data = write_samples(tmp_path)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        row = runner.execute(make_cfg(*SMOKE, "method=prompt", f"data_dir={data}"))
    finally:
        torch.set_num_threads(before)
    assert row.provenance["cpu_threads"] == 1
