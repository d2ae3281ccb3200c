"""ptune plan (what make reproduce prints first): the sweep's grid, which runs are done, and the estimate."""
from __future__ import annotations

import functools
import json
import shutil

import pytest

import ptune.config.compose
import ptune.sweeps.grid
import ptune.sweeps.plan
from ptune.sweeps.grid import grid
from ptune.sweeps.plan import Job, jobs, main, summary


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
    assert next(line for line in lines if line.startswith("| rte |")) == "| rte | 0/3 | 0/3 | 0/3 | 1/3 | 0.1 + 9 not timed |"
    assert next(line for line in lines if line.startswith("| copa |")).endswith("| 12 not timed |")
    assert lines[-1] == ("1 of 72 runs done, 71 left: about 0.1 h of training for the runs with a done row to time "
                         "them by; 69 run(s) with no such row: not estimated.")


def test_a_sweep_the_plan_cannot_expand_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="no sweep 'nope'"):
        grid(["sweep=nope"])


def timed_row(results_dir, name, task, method, seconds, epochs, examples, precision="bf16", max_length=128,
              psl=16):
    """A completed row with what the plan times other runs by: seconds per example and epoch, and its key."""
    folder = results_dir / "runs" / name
    folder.mkdir(parents=True)
    config = {"task": {"name": task, "max_length": max_length}, "method": {"name": method, "prompt_length": psl},
              "model": {"name": "minilm"}}
    (folder / "row.json").write_text(json.dumps({
        "status": "completed", "config": config, "hyperparameters": {"precision_used": precision},
        "train_seconds": seconds, "epochs_run": epochs, "data": {"train_examples": examples}}))


def test_a_pair_not_run_in_this_sweep_is_timed_by_other_rows_of_its_task_method_backbone_and_precision(tmp_path):
    row = functools.partial(timed_row, tmp_path)
    row("a", "rte", "ptv2", 100.0, 2, 500)   # 0.1 s per example-epoch
    row("b", "rte", "ptv2", 300.0, 2, 500)   # 0.3 (slowed by a busy machine): the fastest, 0.1, times the jobs
    row("c", "rte", "ptv2", 9999.0, 1, 10, precision="fp32")  # other precision: not used
    row("d", "rte", "ptv2", 9999.0, 1, 10, max_length=256)    # other length: not used
    row("e", "rte", "ptv2", 9999.0, 1, 10, psl=64)            # other prompt length: not used
    similar = ("rte", "ptv2", "minilm", 128, "bf16", 16)
    left = [Job([], "rte", "ptv2", 10, f"id{i}", None, similar, 900) for i in range(2)]
    unknown = Job([], "rte", "ptv2", 10, "id9", None, similar, None)  # its data could not be read
    lines = summary(left + [unknown], [tmp_path])
    assert lines[2] == "| rte | 0/3 | 0.5 + 1 not timed |"
    # 2 jobs x 0.1 s x 900 examples x 10 epochs = 1800 s
    assert lines[-1] == ("0 of 3 runs done, 3 left: about 0.5 h of training for the runs with a done row to time "
                         "them by; 1 run(s) with no such row: not estimated.")


def test_a_final_run_is_timed_by_the_search_rows_under_reuse_rows_from(tmp_path):
    search = tmp_path / "search"
    timed_row(search, "rte-search-run", "rte", "finetune", 200.0, 2, 1000, psl=None)  # 0.1 s per example-epoch
    similar = ("rte", "finetune", "minilm", 128, "bf16", None)
    job = Job([], "rte", "finetune", 20, "id1", None, similar, 900, str(tmp_path), reuse_rows_from=str(search))
    assert summary([job], [tmp_path])[-1].endswith("1 run(s) with no such row: not estimated.")
    # 0.1 s x 900 examples x 20 epochs = 1800 s
    assert summary([job], [tmp_path, search])[2] == "| rte | 0/1 | 0.5 |"


def test_plan_main_times_the_final_runs_by_the_search_folder_its_sweep_reuses(tmp_path, capsys, write_samples):
    """main's own glue: the folders that time a job are its results_dir and its reuse_rows_from."""
    data = write_samples(tmp_path / "data")  # RTE's train file: SPLIT_SIZES["train"] = 6 examples
    results = tmp_path / "results"
    timed_row(results / "search", "rte-search-run", "rte", "finetune", 30000.0, 2, 1000, psl=None)  # 15 s each
    main(["sweep=reproduce_minilm", "task=rte", "method=finetune", f"paths.results_dir={results}", f"data_dir={data}"])
    # reproduce_minilm reuses ${paths.results_dir}/search: 3 seeds x 15 s x 6 examples x 20 epochs = 5400 s
    assert capsys.readouterr().out.splitlines()[2] == "| rte | 0/3 | 1.5 |"


def test_a_prompt_length_with_no_row_is_timed_along_the_line_through_the_two_nearest_lengths(tmp_path):
    row = functools.partial(timed_row, tmp_path)
    row("a", "rte", "ptv2", 100.0, 1, 1000, psl=16)   # 0.1 s per example-epoch
    row("b", "rte", "ptv2", 200.0, 1, 1000, psl=64)   # 0.2: +0.1 per 48 prompt tokens
    row("c", "rte", "ptv2", 9999.0, 1, 1000, psl=4)   # a slow row at psl 4 would not move the line for psl 128 ...
    row("d", "rte", "ptv2", 50.0, 1, 1000, psl=4)     # ... since the fastest per length counts: 0.05 at psl 4
    row("e", "rte", "prompt", 100.0, 1, 1000, psl=16)  # another method: not used

    def hours(length, method="ptv2"):
        similar = ("rte", method, "minilm", 128, "bf16", length)
        return summary([Job([], "rte", method, 10, "id", None, similar, 1800)], [tmp_path])

    # psl 128 from 16 and 64: 0.2 + 64 x 0.1 / 48 = 0.3333 s x 1800 examples x 10 epochs = 6000 s
    assert hours(128)[2] == "| rte | 0/1 | 1.7 |"
    assert hours(128)[-1] == ("0 of 1 runs done, 1 left: about 1.7 h of training for the runs with a done row to time "
                              "them by (1 of them by rows at other prompt lengths).")
    # psl 8 from 4 and 16: 0.05 + 4 x 0.05 / 12 = 0.0667 s x 18000 = 1200 s
    assert hours(8)[2] == "| rte | 0/1 | 0.3 |"
    assert hours(32, "prompt")[2] == "| rte | 0/1 | 1 not timed |"  # one length only: no line


def test_a_done_run_times_only_jobs_at_its_own_prompt_length(tmp_path):
    """A prompt-length sweep: its done psl-4 run (1 s per epoch) must not time the psl-128 job, which the rows at
    other prompt lengths time instead (here none: not timed)."""
    def job(length, row=None):
        return Job([], "rte", "prompt", 20, f"id{length}", row, ("rte", "prompt", "minilm", 128, "bf16", length), 1000)

    done = job(4, {"train_seconds": 20.0, "epochs_run": 20})
    assert summary([done, job(4)], [tmp_path])[2] == "| rte | 1/2 | 0.0 |"
    assert summary([done, job(128)], [tmp_path])[2] == "| rte | 1/2 | 1 not timed |"


def test_a_row_at_a_longer_prompt_that_ran_faster_caps_the_rate_of_shorter_ones(tmp_path):
    """A single psl-16 row slowed by a busy machine (1 s per example-epoch) is capped by the psl-64 row's 0.1: a
    longer prompt never costs less. The cap also flattens the line that times psl 4; psl 128 keeps its own."""
    row = functools.partial(timed_row, tmp_path, task="conll03", method="prompt", epochs=1, examples=1000)
    row("slow", seconds=1000.0, psl=16)
    row("fast", seconds=100.0, psl=64)
    row("long", seconds=300.0, psl=128)

    def hours(length):
        similar = ("conll03", "prompt", "minilm", 128, "bf16", length)
        return summary([Job([], "conll03", "prompt", 10, "id", None, similar, 3600)], [tmp_path])[2]

    # 0.1 s x 3600 examples x 10 epochs = 3600 s, at psl 16 (capped) and psl 4 (the flat line through 16 and 64)
    assert hours(16) == hours(4) == "| conll03 | 0/1 | 1.0 |"
    assert hours(128) == "| conll03 | 0/1 | 3.0 |"


def test_a_task_with_no_row_is_timed_per_token_by_rows_of_its_method_on_other_tasks(tmp_path):
    """BoolQ before its first run: ptv2's rows on WiC give seconds per training token; the job's own tokens and
    epochs scale them. Another method, precision or prompt length does not time it."""
    row = functools.partial(timed_row, tmp_path)
    row("a", "wic", "ptv2", 200.0, 2, 1000, psl=16)
    row("b", "rte", "ptv2", 900.0, 2, 1000, psl=16)
    row("c", "wic", "prompt", 1.0, 2, 1000, psl=16)
    row("d", "wic", "ptv2", 1.0, 2, 1000, psl=64)
    row("e", "wic", "ptv2", 1.0, 2, 1000, psl=16, precision="fp32")
    for name, tokens in {"a": 50_000, "b": 100_000, "c": 50_000, "d": 50_000, "e": 50_000}.items():
        path = tmp_path / "runs" / name / "row.json"
        saved = json.loads(path.read_text())
        saved["data"]["train_tokens"] = tokens
        path.write_text(json.dumps(saved))
    # a: 200 s / (2 epochs x 50k tokens) = 0.002 s per token; b: 0.0045 (the fastest counts)

    def plan(method="ptv2", psl=16, tokens=300_000):
        similar = ("boolq", method, "minilm", 128, "bf16", psl)
        return summary([Job([], "boolq", method, 10, "id", None, similar, 2450, train_tokens=tokens)], [tmp_path])

    # 0.002 s x 300k tokens x 10 epochs = 6000 s
    assert plan()[2] == "| boolq | 0/1 | 1.7 |"
    assert plan()[-1] == ("0 of 1 runs done, 1 left: about 1.7 h of training for the runs with a done row to time "
                          "them by (1 by rows of other tasks, per training token).")
    assert plan("finetune", None)[2] == "| boolq | 0/1 | 1 not timed |"
    assert plan(psl=32)[2] == "| boolq | 0/1 | 1 not timed |"
    assert plan(tokens=None)[2] == "| boolq | 0/1 | 1 not timed |"  # its data could not be read


def test_tokens_of_a_row_without_them_are_counted_from_its_saved_config(make_cfg, tmp_path, write_samples):
    """Rows made before ptune recorded train_tokens: the plan tokenizes their training split again from the row's
    config (the data folder from the plan's own), and gets what a run counts."""
    from ptune.model.backbones import load_tokenizer
    from ptune.store.rows import experiment_config
    from ptune.sweeps.plan import row_train_tokens, train_tokens
    from ptune.tasks import build_task
    from ptune.train.feature_cache import load_split

    data = write_samples(tmp_path / "data")
    cfg = make_cfg("task=rte", "model=tiny-bert", "method=ptv2", f"data_dir={data}")
    task = build_task(cfg.task, cfg.data_dir)
    _, features = load_split(task, load_tokenizer(cfg.model), cfg, "train")
    expected = sum(len(feature["input_ids"]) for feature in features)
    assert expected > len(features) > 0
    assert train_tokens(cfg) == expected
    row = {"config": experiment_config(cfg), "data": {"train_examples": len(features)}}
    assert row_train_tokens(row, make_cfg(f"data_dir={data}"), {}) == expected
    assert row_train_tokens(row | {"data": {"train_tokens": 7}}, None, {}) == 7
    assert train_tokens(make_cfg("task=rte", "model=tiny-bert", f"data_dir={tmp_path / 'nowhere'}")) is None


def test_only_jobs_no_row_of_their_own_task_times_are_tokenized(monkeypatch, tmp_path):
    """Tokenizing a training split costs seconds (the queue polls the plan): a job timed by rows of its own task
    and method never tokenizes; one left to the per-token tier does (the real train_tokens caches per split)."""
    import ptune.sweeps.plan as plan

    calls = []
    monkeypatch.setattr(plan, "train_tokens", lambda cfg, cache: calls.append(cfg) or 1000)
    timed_row(tmp_path, "a", "rte", "ptv2", 100.0, 2, 500)  # 0.1 s per example-epoch: 500 s for the job
    rte = Job([], "rte", "ptv2", 10, "id1", None, ("rte", "ptv2", "minilm", 128, "bf16", 16), 500, config="rte")
    assert summary([rte], [tmp_path])[2] == "| rte | 0/1 | 0.1 |" and calls == []
    boolq = [Job([], "boolq", "ptv2", 10, f"id{i}", None, ("boolq", "ptv2", "minilm", 128, "bf16", 16), 2450,
                 config="boolq") for i in range(2)]
    summary([rte, *boolq], [tmp_path])
    assert calls == ["boolq", "boolq"]  # once per job here; the real train_tokens caches per split


def test_only_jobs_no_done_row_of_their_own_task_method_times_read_their_data(monkeypatch, tmp_path):
    """Reading a training split costs seconds on every poll of the queue: a job timed by done rows of its own task
    and method never reads it; one timed by other rows (here the search's, per example) does, once per job."""
    import ptune.sweeps.plan as plan

    calls = []
    monkeypatch.setattr(plan, "train_examples", lambda cfg, counts: calls.append(cfg) or 900)
    similar = ("rte", "ptv2", "minilm", 128, "bf16", 16)
    done = Job([], "rte", "ptv2", 10, "id0", {"train_seconds": 100.0, "epochs_run": 10}, similar)  # 10 s per epoch
    rte = Job([], "rte", "ptv2", 10, "id1", None, similar, config="rte")
    assert summary([done, rte], [tmp_path])[2] == "| rte | 1/2 | 0.0 |" and calls == []
    timed_row(tmp_path, "a", "wic", "ptv2", 100.0, 1, 1000)  # 0.1 s per example-epoch
    wic = Job([], "wic", "ptv2", 10, "id2", None, ("wic", "ptv2", "minilm", 128, "bf16", 16), config="wic")
    # 0.1 s x 900 examples (read now) x 10 epochs = 900 s
    assert summary([done, rte, wic], [tmp_path])[3] == "| wic | 0/1 | 0.2 |" and calls == ["wic"]


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
