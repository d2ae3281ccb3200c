"""ptune plan (what make reproduce prints first): the sweep's grid, which runs are done, and the hours left from
the seconds per training token of comparable rows."""
from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

import ptune.config.compose
import ptune.sweeps.grid
from ptune.store.row import Row
from ptune.store.run_id import experiment_config
from ptune.sweeps.grid import grid, jobs
from ptune.sweeps.plan import job_keys, main, summary


def test_the_reproduce_grid_is_every_task_method_and_seed():
    combos = grid(["sweep=reproduce_minilm", "data_dir=/data"])
    assert len(combos) == 6 * 4 * 3
    assert combos[0][:2] == ["sweep=reproduce_minilm", "data_dir=/data"]
    assert {tuple(c[2:4]) for c in combos} == {("preset=minilm", "model=minilm")}
    assert grid(["task=rte", "seed=1,2"]) == [["task=rte", "seed=1"], ["task=rte", "seed=2"]]


def timed_row(job, seconds, epochs, tokens, precision=None, **config):
    """A completed row of the job's kind and data (its config, its precision here, a CPU run), run `epochs` epochs
    in `seconds` on `tokens` training tokens per epoch (None: not recorded); `config` replaces config sections'
    keys, e.g. method={"prompt_length": 64}."""
    recorded = experiment_config(job.cfg)
    for section, values in config.items():
        recorded[section] = {**recorded[section], **values}
    return Row(status="completed", run_id="some-other-run", config=recorded, provenance={"device": "cpu"},
               hyperparameters={"precision_used": precision or job_keys(job).cost[4]}, train_seconds=seconds,
               epochs_run=epochs, data={"train_examples": 7} | ({"train_tokens": tokens} if tokens else {}))


def test_done_runs_are_counted_and_the_rest_timed_by_them(tmp_path):
    overrides = ["sweep=reproduce_minilm", f"paths.results_dir={tmp_path}"]
    found = jobs(overrides)
    first = next(job for job in found if job.task == "rte" and job.method == "ptv2")
    assert first.epochs == 20 and first.row is None  # preset=minilm's RTE schedule
    folder = tmp_path / "runs" / first.run_id
    folder.mkdir(parents=True)
    (folder / "row.json").write_text(json.dumps(timed_row(first, 2000.0, 20, 100_000).to_json()))  # 0.001 s per token
    found = jobs(overrides)
    assert sum(job.row is not None for job in found) == 1
    lines = summary(found, [job.row for job in found if job.row])
    # the two other RTE ptv2 seeds: 2 x 20 epochs x 100k tokens x 0.001 s = 4000 s; RTE's other methods have its
    # tokens but no rate of their own method; the other tasks have neither
    assert lines[:3] == ["| task | finetune | prompt | prefix | ptv2 | hours left |", "|---|---|---|---|---|---|",
                         "| rte | 0/3 | 0/3 | 0/3 | 1/3 | 1.1 + 9 not timed |"]
    assert lines[3] == "| copa | 0/3 | 0/3 | 0/3 | 0/3 | 12 not timed |"
    assert lines[-1] == ("1 of 72 runs done, 71 left: about 1.1 h of training for 2; 69 not timed (no row with "
                         "their task data, or no comparable row).")


def test_the_rate_is_the_median_seconds_per_token_of_comparable_rows(tmp_path):
    """Comparable: same task, device kind, backbone, method, precision and prompt length. A row without recorded
    tokens takes those of a row with the same task data; a reused row's seconds are its twin's, not its own."""
    found = jobs(["task=rte", "method=ptv2", "seed=1,2", "trainer.epochs=10", f"paths.results_dir={tmp_path}"])
    rte = found[0]
    rows = [timed_row(rte, 100.0, 1, 1000),    # 0.1 s per token
            timed_row(rte, 600.0, 2, 1000),    # 0.3
            timed_row(rte, 600.0, 1, None),    # 0.6 on the 1000 tokens of the rows with the same task data
            timed_row(rte, 9999.0, 1, 1000, precision="fp16"),                 # another precision
            timed_row(rte, 9999.0, 1, 1000, method={"prompt_length": 64}),     # another prompt length
            timed_row(rte, 9999.0, 1, 1000, method={"name": "prompt"}),        # another method
            timed_row(rte, 9999.0, 1, 1000, model={"name": "bert-base"}),      # another backbone
            timed_row(rte, 9999.0, 1, 1000, task={"name": "wic"}),             # another task
            dataclasses.replace(timed_row(rte, 9999.0, 1, 1000), provenance={"device": "cuda:0"}),  # another device
            dataclasses.replace(timed_row(rte, 9999.0, 1, 1000), reused_from={"run_id": "x"})]      # a copy: not a timing
    # the median of 0.1, 0.3, 0.6: 0.3 s x 1000 tokens x 10 epochs x 2 jobs = 6000 s (the fastest would give 2000)
    assert summary(found, rows)[2:] == [
        "| rte | 0/2 | 1.7 |", "", "0 of 2 runs done, 2 left: about 1.7 h of training for 2."]
    assert summary(found, rows[:2])[2] == "| rte | 0/2 | 1.1 |"  # the median of two: 0.2 s per token


def test_jobs_without_a_row_of_their_task_data_or_their_kind_are_not_timed(tmp_path):
    """Nothing is tokenized: a job whose task data (task config, tokenizer, max_train_examples) no row recorded is
    not timed, nor one with no comparable row; both are counted per task. The tokens of a row of another method
    on the same task data time a job (the method does not change them)."""
    found = jobs(["task=rte", "method=ptv2,prompt", "seed=1", "trainer.epochs=10", f"paths.results_dir={tmp_path}"])
    ptv2, prompt = found
    cut = jobs(["task=rte", "method=ptv2", "trainer.max_train_examples=500", f"paths.results_dir={tmp_path}"])
    rows = [timed_row(prompt, 50.0, 1, None), timed_row(ptv2, 1.0, 1, 5000)]  # 0.01 s per token on 5000 tokens
    assert summary(found + cut, rows)[2:] == [
        "| rte | 0/2 | 0/1 | 0.1 + 1 not timed |", "",
        ("0 of 3 runs done, 3 left: about 0.1 h of training for 2; 1 not timed (no row with their task data, or no "
         "comparable row).")]  # ptv2: 0.0002 s x 5000 x 10 = 10 s, prompt: 0.01 s x 5000 x 10 = 500 s
    assert summary(found, rows[1:])[2] == "| rte | 0/1 | 0/1 | 0.0 + 1 not timed |"  # no prompt row: no rate for it
    assert summary(found, [])[2] == "| rte | 0/1 | 0/1 | 2 not timed |"


def test_a_job_whose_twin_will_be_copied_costs_nothing(tmp_path):
    job, = jobs(["task=rte", "method=ptv2", "trainer.epochs=10", f"paths.results_dir={tmp_path}"])
    rows = [timed_row(job, 3600.0, 10, 1000)]
    assert summary([job], rows)[2] == "| rte | 0/1 | 1.0 |"
    reused = dataclasses.replace(job, reusable=True)
    assert summary([reused], rows)[2:] == [
        "| rte | 0/1 | 0.0 |", "",
        "0 of 1 runs done, 1 left: 1 copy a finished twin under reuse_rows_from (no training)."]


def test_plan_main_times_the_final_runs_by_the_search_folder_its_sweep_reuses(tmp_path, capsys):
    """main's own glue: the rows that time a job are those under its results_dir and its reuse_rows_from, and its
    data is not read (data_dir names a folder with no data)."""
    results = tmp_path / "results"
    overrides = ["sweep=reproduce_minilm", "task=rte", "method=finetune", f"paths.results_dir={results}",
                 f"data_dir={tmp_path / 'nowhere'}"]
    job = jobs(overrides)[0]
    folder = results / "search" / "runs" / "rte-search-run"  # reproduce_minilm reuses ${paths.results_dir}/search
    folder.mkdir(parents=True)
    (folder / "row.json").write_text(json.dumps(dataclasses.replace(timed_row(job, 200.0, 2, 1000), config={
        **experiment_config(job.cfg), "seed": 99}).to_json()))  # another seed: no twin, only a timing (0.1 s per token)
    main(overrides)
    # 3 seeds x 20 epochs x 1000 tokens x 0.1 s = 6000 s
    assert capsys.readouterr().out.splitlines()[2] == "| rte | 0/3 | 1.7 |"


def test_a_sweep_that_includes_another_takes_its_params_and_sets_its_own_over_them(tmp_path, monkeypatch):
    conf = shutil.copytree(ptune.config.compose.config_dir(), tmp_path / "conf")
    for module in (ptune.config.compose, ptune.sweeps.grid):
        monkeypatch.setattr(module, "config_dir", lambda: conf)
    (conf / "sweep/wider.yaml").write_text("defaults:\n  - search_minilm_finetune\n"
                                           "hydra:\n  sweeper:\n    params:\n      task: wic\n"
                                           "      method.lr: 1.0e-4\n")
    (conf / "sweep/base_wins.yaml").write_text("defaults:\n  - _self_\n  - search_minilm_finetune\n"
                                               "hydra:\n  sweeper:\n    params:\n      task: wic\n")
    (conf / "sweep/loop.yaml").write_text("defaults:\n  - loop\n")
    assert grid(["sweep=wider"]) == [["sweep=wider", "preset=minilm", "model=minilm", "method=finetune", "task=wic",
                                      "method.lr=0.0001", "seed=1"]]  # one value: a yaml float, as Hydra reads it
    assert len(grid(["sweep=base_wins"])) == 6 * 3  # its own task list comes first, the included sweep's over it
    with pytest.raises(SystemExit, match="includes itself"):
        grid(["sweep=loop"])
