"""ptune pick: a search sweep's best settings per (task, method), written as the by_run preset the final runs use."""
from __future__ import annotations

import re
import shutil

import pytest
import yaml

import ptune.config.compose
import ptune.sweeps.grid
import ptune.sweeps.pick
import ptune.sweeps.plan
from ptune.config.compose import compose
from ptune.store.run_id import experiment_config
from ptune.sweeps.grid import grid, jobs
from ptune.sweeps.pick import choices, preset_text

SEARCH = ["sweep=search_minilm_ptv2", "task=copa"]


def search_row(job, best, last) -> dict:
    """The fields of the job's row (for the write_row fixture) with these best- and last-epoch dev accuracies."""
    return {"run_id": job.run_id, "primary_metric": "accuracy", "config": experiment_config(compose(job.overrides)),
            "dev": {"accuracy": best}, "last": {"accuracy": last}}


def test_the_command_line_narrows_the_search_grid_as_ptune_run_would():
    combos = grid(SEARCH)
    assert len(combos) == 3 * 2  # lr x prompt length, one task, one seed
    assert all(combo.count("task=copa") == 1 and not any(o.startswith("task=rte") for o in combo) for combo in combos)


def test_the_best_dev_score_wins_and_is_written_as_the_preset_the_final_runs_use(
        write_row, tmp_path, monkeypatch, capsys):
    conf = shutil.copytree(ptune.config.compose.config_dir(), tmp_path / "conf")  # the preset is written into a copy
    (conf / "preset/by_run/minilm_ptv2_minilm_copa.yaml").unlink(missing_ok=True)  # as before any search
    for module in (ptune.config.compose, ptune.sweeps.pick, ptune.sweeps.grid):
        monkeypatch.setattr(module, "config_dir", lambda: conf)
    overrides = [*SEARCH, f"paths.results_dir={tmp_path}"]
    found = jobs(overrides)
    scores = [(55.0, 50.0), (61.0, 60.0), (61.0, 58.0), (40.0, 40.0), (58.0, 58.0)]
    for job, (best, last) in zip(found, scores):
        write_row(tmp_path, **search_row(job, best, last))
    picked, waiting = choices(jobs(overrides), "search_minilm_ptv2")
    assert picked == [] and waiting == ["copa ptv2: 5/6 search runs done, not picked yet"]

    write_row(tmp_path, **search_row(found[5], 61.0, 60.0))  # ties found[1]; found[2]: a worse last score
    (choice,), waiting = choices(jobs(overrides), "search_minilm_ptv2")
    assert waiting == [] and choice.keys == ["method.lr", "prompt_length"]
    assert choice.best.run_id == found[1].run_id
    winner = dict(o.split("=", 1) for o in found[1].overrides)
    monkeypatch.chdir(tmp_path.parent)  # the project root: the committed preset names its rows relative to it
    text = preset_text(choice)
    assert f"(rows under {tmp_path.name}/runs/)" in text and str(tmp_path.parent) not in text
    preset = yaml.safe_load(text)
    assert preset["method"]["lr"] == float(winner["method.lr"])
    assert preset["prompt_length"] == int(winner["prompt_length"])
    assert text.count("#   method.lr=") == 6 and choice.path() == conf / "preset/by_run/minilm_ptv2_minilm_copa.yaml"
    edge = (f"method.lr={winner['method.lr']} is the smallest of the 3 searched (3.0e-3 to 3.0e-2): the best may lie "
            "beyond it")  # two prompt lengths are both edges: never flagged
    assert winner["method.lr"] == "3.0e-3" and choice.at_grid_edges() == [edge]
    assert f"# At the edge of the grid: {edge}." in text.splitlines()

    # Applied as preset=minilm's by_run file, it sets the final runs; the search's own runs keep their ids.
    before = compose(["preset=minilm", "model=minilm", "method=ptv2", "task=copa"])
    assert ptune.sweeps.pick.main([*overrides, "--write"]) == 0
    setting = f"method.lr={winner['method.lr']} prompt_length={winner['prompt_length']}"
    printed = capsys.readouterr().out
    assert f"copa ptv2: {setting} (dev 61.00 of 6 runs)\n  at the edge of the grid: {edge}\n" in printed
    assert choice.path().read_text() == text
    final = compose(["preset=minilm", "model=minilm", "method=ptv2", "task=copa"])
    assert (before.method.lr, before.prompt_length) != (final.method.lr, final.prompt_length)
    assert final.method.lr == preset["method"]["lr"] and final.prompt_length == preset["prompt_length"]
    assert final.preset_applied.startswith("minilm: method.lr, prompt_length chosen by")
    assert [job.run_id for job in jobs(overrides)] == [job.run_id for job in found]


def test_a_winner_inside_the_grid_is_not_flagged(write_row, tmp_path):
    found = jobs([*SEARCH, f"paths.results_dir={tmp_path}"])
    for job in found:  # the best at method.lr=1.0e-2, the middle of 3.0e-3, 1.0e-2, 3.0e-2
        best = 70.0 if "method.lr=1.0e-2" in job.overrides else 50.0
        write_row(tmp_path, **search_row(job, best, 50.0))
    (choice,), _ = choices(jobs([*SEARCH, f"paths.results_dir={tmp_path}"]), "search_minilm_ptv2")
    assert choice.values(choice.best)["method.lr"] == "1.0e-2" and choice.at_grid_edges() == []
    assert "At the edge" not in preset_text(choice)


def conf_copy(tmp_path, monkeypatch):
    conf = shutil.copytree(ptune.config.compose.config_dir(), tmp_path / "conf")
    for module in (ptune.config.compose, ptune.sweeps.pick, ptune.sweeps.grid):
        monkeypatch.setattr(module, "config_dir", lambda: conf)
    return conf


def test_prompt_and_prefix_search_the_learning_rate_at_ptv2s_chosen_prompt_length(write_row, tmp_path, monkeypatch):
    conf = conf_copy(tmp_path, monkeypatch)
    ptv2_pick = conf / "preset/by_run/minilm_ptv2_minilm_wsc.yaml"
    ptv2_pick.unlink(missing_ok=True)
    overrides = ["sweep=search_minilm_prefix", "task=wsc", f"paths.results_dir={tmp_path}"]
    with pytest.raises(Exception, match=re.escape(f"{ptv2_pick} does not exist: run and pick that search first")):
        jobs(overrides)  # Hydra wraps the resolver's error; its message names the missing file

    ptv2_pick.write_text('# @package _global_\npreset_applied: "minilm: chosen"\nmethod:\n  lr: 0.01\n'
                         "prompt_length: 32\n")
    found = jobs(overrides)
    assert len(found) == 3 and {compose(job.overrides).prompt_length for job in found} == {32}
    for job, best in zip(found, (60.0, 66.0, 62.0)):
        write_row(tmp_path, **search_row(job, best, best))
    (choice,), _ = choices(jobs(overrides), "search_minilm_prefix")
    assert choice.keys == ["method.lr", "prompt_length"] and choice.best.run_id == found[1].run_id
    preset = yaml.safe_load(preset_text(choice))
    assert preset["prompt_length"] == 32 and preset["method"]["lr"] == compose(found[1].overrides).method.lr


def test_a_pick_that_changes_says_what_it_was_and_that_old_final_rows_stay(write_row, tmp_path, monkeypatch, capsys):
    """A search extended after its pick (new learning rates) can move the pick: the final rows made at the old
    setting would still fill the table's cell, so --write says what changed and where such rows should go."""
    conf = conf_copy(tmp_path, monkeypatch)
    (conf / "preset/by_run/minilm_ptv2_minilm_copa.yaml").unlink(missing_ok=True)
    overrides = [*SEARCH, f"paths.results_dir={tmp_path / 'search'}"]
    found = jobs(overrides)
    for number, job in enumerate(found):
        write_row(tmp_path / "search", **search_row(job, 50.0 + number, 50.0))  # the grid's last run wins
    assert ptune.sweeps.pick.main([*overrides, "--write"]) == 0
    assert "changed" not in capsys.readouterr().out  # no earlier pick
    assert ptune.sweeps.pick.main([*overrides, "--write"]) == 0
    assert "changed" not in capsys.readouterr().out  # the same pick again

    winner = dict(o.split("=", 1) for o in found[-1].overrides)
    write_row(tmp_path / "search", **search_row(found[0], 99.0, 50.0))  # the first run now wins
    assert ptune.sweeps.pick.main([*overrides, "--write"]) == 0
    out = capsys.readouterr().out
    was = f"method.lr={float(winner['method.lr'])} prompt_length={winner['prompt_length']}"
    assert f"changed: it was {was}." in out and "results/superseded/runs/" in out


def test_a_task_whose_grid_is_widened_past_an_edge_is_picked_by_its_own_sweep_file(
        write_row, tmp_path, monkeypatch, capsys):
    """The fix the edge flag asks for: conf/sweep/<search>_<task>.yaml includes the shared search and widens that
    task's grid; the runs both grids share keep their ids (done runs count), and only that sweep picks the task."""
    conf = conf_copy(tmp_path, monkeypatch)
    (conf / "preset/by_run/minilm_finetune_minilm_conll03.yaml").unlink(missing_ok=True)
    (conf / "sweep/search_minilm_finetune_conll03.yaml").write_text(
        "# @package _global_\ndefaults:\n  - search_minilm_finetune\n  - _self_\n"
        "hydra:\n  sweeper:\n    params:\n      task: conll03\n      method.lr: 1.0e-5,2.0e-5,5.0e-5,1.0e-4\n")
    results = f"paths.results_dir={tmp_path}"
    shared = jobs(["sweep=search_minilm_finetune", "task=conll03", results])
    widened = jobs(["sweep=search_minilm_finetune_conll03", results])
    assert [job.run_id for job in widened[:3]] == [job.run_id for job in shared] and len(widened) == 4
    assert widened[3].overrides[-2:] == ["method.lr=1.0e-4", "seed=1"]
    assert compose(widened[3].overrides).preset_applied == compose(shared[0].overrides).preset_applied
    for job, best in zip(widened, (88.0, 90.0, 91.0, 92.0)):
        write_row(tmp_path, **search_row(job, best, best))

    picked, waiting = choices(jobs(["sweep=search_minilm_finetune", "task=conll03", results]),
                              "search_minilm_finetune")
    assert picked == [] and waiting == ["conll03 finetune: not picked here: the task has its own grid, "
                                        "ptune pick sweep=search_minilm_finetune_conll03 picks it"]
    assert ptune.sweeps.pick.main(["sweep=search_minilm_finetune_conll03", results, "--write"]) == 0
    assert "conll03 finetune: method.lr=1.0e-4 (dev 92.00 of 4 runs)" in capsys.readouterr().out
    preset = (conf / "preset/by_run/minilm_finetune_minilm_conll03.yaml").read_text()
    assert "sweep=search_minilm_finetune_conll03" in preset and yaml.safe_load(preset)["method"]["lr"] == 1.0e-4
    assert "At the edge of the grid: method.lr=1.0e-4 is the largest of the 4 searched" in preset
