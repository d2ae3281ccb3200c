"""ptune plan (what make reproduce prints first): the sweep's grid, which runs are done, and the estimate."""
from __future__ import annotations

import json

import pytest

from ptune.plan import grid, jobs, summary


def test_the_reproduce_grid_is_every_task_method_and_seed():
    combos = grid(["sweep=reproduce_minilm", "data_dir=/data"])
    assert len(combos) == 6 * 4 * 3
    assert combos[0][:2] == ["sweep=reproduce_minilm", "data_dir=/data"]
    assert {tuple(c[2:4]) for c in combos} == {("preset=minilm", "model=minilm")}
    assert grid(["task=rte", "seed=1,2"]) == [["task=rte", "seed=1"], ["task=rte", "seed=2"]]


def test_done_runs_are_counted_and_the_rest_estimated_from_them(tmp_path):
    overrides = ["sweep=reproduce_minilm", f"paths.results_dir={tmp_path}"]
    found = jobs(overrides)
    first = next(job for job in found if job.task == "rte" and job.method == "ptv2")
    assert first.epochs == 20 and first.row is None  # preset=minilm's RTE schedule
    folder = tmp_path / "runs" / first.run_id
    folder.mkdir(parents=True)
    (folder / "row.json").write_text(json.dumps({"status": "completed", "train_seconds": 100.0, "epochs_run": 20}))
    lines = summary(jobs(overrides))
    assert "| rte | " in "\n".join(lines) and "1/3" in next(line for line in lines if line.startswith("| rte |"))
    assert lines[-1] == ("1 of 72 runs done, 71 left: about 0.1 h of training for the runs with a done (task, method) "
                         "to go by; 69 run(s) of (task, method) pairs with no done run yet: not estimated.")


def test_a_sweep_the_plan_cannot_expand_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="no sweep 'nope'"):
        grid(["sweep=nope"])
