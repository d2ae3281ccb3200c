"""reuse_rows_from: a final run that repeats a search's run (same config but the preset label) copies its row and
predictions instead of training; any other difference trains."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptune.store.find import completed_rows
from ptune.store.run_id import experiment_config, run_id
from ptune.sweeps import grid, plan
from ptune.train import runner
from tests.helpers import SMOKE


def search_and_final(make_cfg, tmp_path, data, *overrides):
    search = make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "preset_applied=the search",
                      f"paths.results_dir={tmp_path / 'results' / 'search'}", *overrides)
    final = make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "preset_applied=chosen by the search",
                     f"reuse_rows_from={tmp_path / 'results' / 'search'}", *overrides)
    return search, final


def must_not_train(*args, **kwargs):
    raise AssertionError("trained although a twin was there")


def test_a_final_run_with_a_finished_twin_copies_its_row_and_predictions(make_cfg, tmp_path, monkeypatch,
                                                                          prediction_files, run_folder, write_samples):
    search, final = search_and_final(make_cfg, tmp_path, write_samples(tmp_path))
    trained = runner.execute(search)
    assert run_id(final) != trained.run_id  # the label keeps the search apart from the finals
    monkeypatch.setattr(runner, "train_and_evaluate", must_not_train)
    reused = runner.execute(final)
    assert reused.run_id == run_id(final) and reused.config == experiment_config(final)
    assert reused.metrics == trained.metrics and reused.history == trained.history
    assert reused.reused_from == {"run_id": trained.run_id, "folder": f"search/runs/{trained.run_id}"}
    assert json.loads((run_folder(final, reused) / "row.json").read_text()) == json.loads(json.dumps(reused.to_json()))
    assert prediction_files(run_folder(final, reused)) == prediction_files(run_folder(search, trained))
    assert [row.run_id for row in completed_rows(Path(final.paths.results_dir))] == [reused.run_id]


@pytest.mark.parametrize("difference", ["seed=2", "method.lr=0.02"])
def test_a_run_that_differs_in_anything_but_the_label_trains(make_cfg, tmp_path, monkeypatch, difference,
                                                             write_samples):
    search, final = search_and_final(make_cfg, tmp_path, write_samples(tmp_path))
    runner.execute(search)
    other = make_cfg(*SMOKE, "method=ptv2", f"data_dir={final.data_dir}", "preset_applied=chosen by the search",
                     f"reuse_rows_from={final.reuse_rows_from}", difference)
    monkeypatch.setattr(runner, "train_and_evaluate", must_not_train)
    with pytest.raises(AssertionError, match="trained although"):
        runner.execute(other)


def test_reuse_rows_from_changes_no_run_id(make_cfg):
    assert run_id(make_cfg(*SMOKE)) == run_id(make_cfg(*SMOKE, "reuse_rows_from=results/search"))


def test_plan_counts_a_reusable_run_as_left_but_costing_no_training(make_cfg, tmp_path, write_samples):
    search, final = search_and_final(make_cfg, tmp_path, write_samples(tmp_path))
    runner.execute(search)
    overrides = [*SMOKE, "method=ptv2", f"data_dir={final.data_dir}", "preset_applied=chosen by the search",
                 f"paths.results_dir={final.paths.results_dir}", f"paths.output_dir={tmp_path / 'outputs'}"]
    job, = grid.jobs([*overrides, f"reuse_rows_from={final.reuse_rows_from}"])
    assert job.row is None and job.reusable
    searched = completed_rows(search.paths.results_dir)  # rows that would time the job if it trained
    assert plan.summary([job], searched)[-1] == ("0 of 1 runs done, 1 left: 1 copy a finished twin under "
                                                 "reuse_rows_from (no training).")
    job, = grid.jobs(overrides)
    assert not job.reusable
    assert plan.summary([job], searched)[-1].endswith("h of training for 1.")
