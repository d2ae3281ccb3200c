"""Every superglue task (conf/task/*.yaml with family: superglue) end to end: ptv2 on tiny-bert with
trainer=smoke, on tiny samples in the official local layout written here (no shared data needed).

    ptune run method=ptv2 task=<task> model=tiny-bert trainer=smoke data_dir=<samples>
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_superglue_samples import superglue_tasks, write_samples

from ptune.train.runner import execute


@pytest.mark.parametrize("name", superglue_tasks())
def test_task_runs_end_to_end_and_writes_leaderboard_files(name, tmp_path, make_cfg):
    data_dir = write_samples(tmp_path / "data")
    cfg = make_cfg(f"task={name}", "model=tiny-bert", "method=ptv2", "prompt_length=4", "trainer=smoke",
                   f"data_dir={data_dir}", "task.max_length=64")
    row = execute(cfg)
    assert row["status"] == "completed"
    assert set(row["metrics"]["dev"]["best"]) == set(cfg.task.metrics)
    assert row["metrics"]["test"]["best"] is None  # official test files carry no labels
    run_folder = Path(cfg.paths.results_dir) / "runs" / row["run_id"]
    for split in ("dev", "test"):
        path = run_folder / "predictions" / split / f"{cfg.task.local_name}.jsonl"
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert lines and all("idx" in line and ("label" in line or "passage" in line) for line in lines)
