"""The runner end to end: rows with provenance, failures that leave no success, the CLI, unknown names."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.errors import ConfigCompositionException, MissingConfigException
from test_superglue_samples import write_samples

from ptune.config.compose import compose
from ptune.store import rows
from ptune.train import runner

SMOKE = ("task=rte", "model=tiny-bert", "trainer=smoke")


def ptune(*args, cwd=None):
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "ptune.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


def test_row_holds_metrics_params_and_provenance(make_cfg, tmp_path):
    data = write_samples(tmp_path)
    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.epochs=2")
    row = runner.execute(cfg)
    saved = json.loads((Path(cfg.paths.results_dir) / "runs" / row["run_id"] / "row.json").read_text())
    assert saved == json.loads(json.dumps(row))
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
    predictions = Path(cfg.paths.results_dir) / "runs" / row["run_id"] / "predictions"
    assert (predictions / "dev" / "RTE.jsonl").is_file() and (predictions / "test" / "RTE.jsonl").is_file()


def test_run_id_ignores_paths_but_not_the_experiment(make_cfg, tmp_path):
    base = rows.run_id(make_cfg(*SMOKE, "method=ptv2"))
    assert rows.run_id(make_cfg(*SMOKE, "method=ptv2", f"paths.results_dir={tmp_path}/x", "device=cpu")) == base
    assert rows.run_id(make_cfg(*SMOKE, "method=ptv2", "seed=2")) != base
    assert rows.run_id(make_cfg(*SMOKE, "method=ptv2", "prompt_length=8")) != base


def test_missing_data_names_the_path_and_leaves_no_row(make_cfg, tmp_path):
    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={tmp_path / 'nowhere'}")
    with pytest.raises(ValueError, match=r"nowhere/super_glue/RTE/train.jsonl[\s\S]*data_dir"):
        runner.execute(cfg)
    folder = Path(cfg.paths.results_dir) / "runs" / rows.run_id(cfg)
    assert not (folder / "row.json").exists()
    [failure] = folder.glob("failed-*.json")
    assert json.loads(failure.read_text())["status"] == "failed"
    assert rows.load_rows(Path(cfg.paths.results_dir)) == []


def test_interrupted_run_is_recorded_as_such(make_cfg, tmp_path, monkeypatch):
    data = write_samples(tmp_path)
    cfg = make_cfg(*SMOKE, "method=prompt", f"data_dir={data}")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "train_epoch", interrupt)
    with pytest.raises(KeyboardInterrupt):
        runner.execute(cfg)
    folder = Path(cfg.paths.results_dir) / "runs" / rows.run_id(cfg)
    assert not (folder / "row.json").exists()
    assert json.loads(next(folder.glob("failed-*.json")).read_text())["status"] == "interrupted"


def test_malformed_data_names_file_and_line(make_cfg, tmp_path):
    data = write_samples(tmp_path)
    train = data / "super_glue" / "RTE" / "train.jsonl"
    train.write_text(train.read_text() + "{not json\n")
    lines = len(train.read_text().splitlines())
    with pytest.raises(ValueError, match=f"{train}:{lines}: not valid JSON"):
        runner.execute(make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}"))


@pytest.mark.parametrize("group,name,choice", [("method", "ptv3", "ptv2"), ("task", "rtee", "rte"),
                                                ("model", "roberta-lrg", "roberta-large")])
def test_unknown_names_fail_before_any_work_listing_the_choices(group, name, choice):
    with pytest.raises(MissingConfigException) as error:
        compose([f"{group}={name}"])
    assert f"Could not find '{group}/{name}'" in str(error.value) and choice in str(error.value)


def test_unknown_keys_are_refused():
    with pytest.raises(ConfigCompositionException, match="lenght"):
        compose(["prompt_lenght=8"])


def test_cli_help_lists_the_commands():
    result = ptune("--help")
    assert result.returncode == 0 and "run" in result.stdout and "table" in result.stdout
    wrong = ptune("tabel")
    assert wrong.returncode == 2 and "Did you mean 'table'" in wrong.stderr


def test_cli_sweeps_four_methods_into_one_table(tmp_path):
    """The issue's acceptance command, on a sample the test writes."""
    data = write_samples(tmp_path)
    results = tmp_path / "results"
    sweep = ptune("run", "-m", "method=finetune,prompt,prefix,ptv2", "task=rte", "model=tiny-roberta",
                  "trainer=smoke", f"data_dir={data}", f"paths.results_dir={results}",
                  f"paths.output_dir={tmp_path / 'outputs'}")
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    assert sorted(r["method"] for r in rows.load_rows(results)) == ["finetune, prefix, prompt, ptv2".split(", ")][0]
    table = ptune("table", "--results", str(results), "--out", str(tmp_path / "tables"))
    assert table.returncode == 0, table.stderr[-3000:]
    text = (tmp_path / "tables" / "superglue.md").read_text()
    scores, rest = text.split("\nSelection:")
    selection, last = rest.split("\nLast epoch:")
    for table in (scores, selection, last):
        assert len([line for line in table.splitlines() if line.startswith("| tiny-roberta")]) == 4, text


def test_the_progress_bar_does_not_change_the_run(make_cfg, tmp_path):
    """Same config, bar on or off: the same data order and so the same numbers (the run id ignores the bar)."""
    data = write_samples(tmp_path)
    runs = [runner.execute(make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", f"trainer.progress={show}",
                                 "trainer.epochs=2", "trainer.batch_size=2"))
            for show in (False, True)]
    assert runs[0]["run_id"] == runs[1]["run_id"]
    assert runs[0]["history"] == runs[1]["history"]


def test_the_row_records_the_cpu_threads_it_ran_with(make_cfg, tmp_path):
    data = write_samples(tmp_path)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        row = runner.execute(make_cfg(*SMOKE, "method=prompt", f"data_dir={data}"))
    finally:
        torch.set_num_threads(before)
    assert row["provenance"]["cpu_threads"] == 1
