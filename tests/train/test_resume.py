"""Runs that survive being stopped: SIGTERM saves the state, resume=true writes the uninterrupted run's row
and predictions, skip_done=true skips finished runs, and impossible options fail before any work."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from ptune.errors import SetupError
from ptune.model import device
from ptune.store.find import completed_rows
from ptune.store.run_id import run_id
from ptune.train import resume, runner
from tests.helpers import SMOKE, sigterm_at_step

TIMES = ("started", "finished", "train_seconds", "train_examples_per_second", "peak_memory_mib", "provenance")


@pytest.mark.parametrize("method,stop_step", [("ptv2", 5), ("ptv2", 10), ("finetune", 7)])
def test_resumed_run_writes_the_uninterrupted_row(make_cfg, tmp_path, monkeypatch, method, stop_step, write_rte,
                                                  prediction_files, run_folder):
    """20 examples, batch 2: 10 steps an epoch. Step 10 stops at the end of epoch 1, 5 and 7 mid-epoch."""
    data = write_rte(tmp_path)
    overrides = (*SMOKE, f"method={method}", f"data_dir={data}", "trainer.epochs=3", "trainer.batch_size=2",
                 "trainer.max_train_examples=null")
    whole = runner.execute(make_cfg(*overrides, f"paths.results_dir={tmp_path / 'whole'}"))

    cfg = make_cfg(*overrides, f"paths.results_dir={tmp_path / 'stopped'}")
    sigterm_at_step(monkeypatch, stop_step)
    with pytest.raises(resume.Preempted):
        runner.execute(cfg)
    monkeypatch.undo()
    folder = Path(cfg.paths.results_dir) / "runs" / run_id(cfg)
    [failure] = folder.glob("failed-*.json")
    record = json.loads(failure.read_text())
    assert record["status"] == "interrupted" and record["resumable"] and "resume=true" in record["resume"]
    assert not (folder / "row.json").exists()

    resumed = runner.execute(make_cfg(*overrides, f"paths.results_dir={tmp_path / 'stopped'}", "resume=true"))
    assert resumed.run_id == whole.run_id
    assert {k: v for k, v in resumed.to_json().items() if k not in TIMES} == \
        {k: v for k, v in whole.to_json().items() if k not in TIMES}
    assert resumed.provenance["resumed"] == [{"epoch": stop_step // 10, "step": stop_step % 10}]
    assert prediction_files(run_folder(cfg, resumed)) == prediction_files(run_folder(cfg, whole).parents[2] / "whole"
                                                                          / "runs" / whole.run_id)
    assert not resume.state_path(cfg.paths.output_dir, resumed.run_id).exists()  # a finished run leaves no state


def test_resume_refuses_a_missing_state_or_a_changed_config(make_cfg, tmp_path, monkeypatch, write_rte):
    data = write_rte(tmp_path)
    overrides = (*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.epochs=2", "trainer.batch_size=2",
                 "trainer.max_train_examples=null")
    with pytest.raises(SetupError, match=r"resume=true: no saved state for run .*state\.pt"):
        runner.execute(make_cfg(*overrides, "resume=true"))
    sigterm_at_step(monkeypatch, 3)
    with pytest.raises(resume.Preempted):
        runner.execute(make_cfg(*overrides))
    monkeypatch.undo()
    with pytest.raises(SetupError, match=r"differs in trainer\.epochs \(saved 2, now 3\)"):
        runner.execute(make_cfg(*overrides, "trainer.epochs=3", "resume=true"))
    with pytest.raises(ValueError, match="resume='maybe': expected true, false or auto"):
        runner.execute(make_cfg(*overrides, "resume=maybe"))
    # auto: continues the saved state, and starts afresh where there is none
    assert runner.execute(make_cfg(*overrides, "resume=auto")).provenance["resumed"] == [{"epoch": 0, "step": 3}]
    assert runner.execute(make_cfg(*overrides, "seed=2", "resume=auto")).provenance["resumed"] == []


def test_impossible_precision_fails_before_any_work(make_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)
    cfg = make_cfg(*SMOKE, "method=ptv2", "device=cpu", "trainer.precision=bf16", f"data_dir={tmp_path / 'nowhere'}")
    with pytest.raises(ValueError, match="trainer.precision=bf16: cpu device cpu has no native bf16"):
        runner.execute(cfg)
    with pytest.raises(ValueError, match="trainer.precision=fp16 needs a CUDA device"):
        runner.execute(make_cfg(*SMOKE, "method=ptv2", "device=cpu", "trainer.precision=fp16"))
    assert not (Path(cfg.paths.results_dir) / "runs").exists()  # nothing recorded: nothing was started
    assert device.autocast_dtype("auto", runner.torch.device("cpu")) is None


def test_skip_done_skips_a_completed_run_only(make_cfg, tmp_path, monkeypatch, write_samples):
    data = write_samples(tmp_path)
    first = runner.execute(make_cfg(*SMOKE, "method=prompt", f"data_dir={data}"))

    def must_not_train(*args, **kwargs):
        raise AssertionError("a completed run was trained again")

    monkeypatch.setattr(runner, "train_and_evaluate", must_not_train)
    assert runner.execute(make_cfg(*SMOKE, "method=prompt", f"data_dir={data}", "skip_done=true")).to_json() == \
        json.loads(json.dumps(first.to_json()))
    with pytest.raises(AssertionError, match="trained again"):
        runner.execute(make_cfg(*SMOKE, "method=prompt", f"data_dir={data}", "seed=2", "skip_done=true"))


def test_a_stopped_multirun_restarted_with_skip_done_runs_only_what_is_missing(tmp_path, ptune, write_samples):
    data = write_samples(tmp_path)
    results = tmp_path / "results"
    sweep = ("run", "-m", "method=prompt,ptv2", "task=rte", "model=tiny-bert", "trainer=smoke", f"data_dir={data}",
             f"paths.results_dir={results}", f"paths.output_dir={tmp_path / 'outputs'}")
    assert ptune(*sweep).returncode == 0
    done = {r.method: r for r in completed_rows(results)}
    (results / "runs" / done["ptv2"].run_id / "row.json").unlink()  # as if the sweep had stopped there
    kept = (results / "runs" / done["prompt"].run_id / "row.json").read_text()
    again = ptune(*sweep, "skip_done=true")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already done (skip_done=true), skipped" in again.stdout + again.stderr
    assert (results / "runs" / done["prompt"].run_id / "row.json").read_text() == kept
    assert sorted(r.method for r in completed_rows(results)) == ["prompt", "ptv2"]


def test_sigterm_stops_a_sweep_with_its_state_saved(tmp_path, write_samples):
    """A real SIGTERM to `ptune run -m`: the running job saves its state and is recorded as resumable, the
    sweep's later jobs do not start, and the exit code says SIGTERM (143)."""
    import subprocess
    import sys
    import time

    data = write_samples(tmp_path)
    results, outputs = tmp_path / "results", tmp_path / "outputs"
    command = [sys.executable, "-m", "ptune.cli", "run", "-m", "method=prompt,ptv2", "task=rte", "model=tiny-bert",
               "trainer=smoke", "trainer.epochs=100000", f"data_dir={data}", f"paths.results_dir={results}",
               f"paths.output_dir={outputs}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=os.environ | {"HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + 120
    while not list(outputs.glob("state/*/state.pt")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 143, output[-3000:]
    assert "rerun the same command with resume=true" in output
    [failure] = results.glob("runs/*/failed-*.json")
    record = json.loads(failure.read_text())
    assert record["method"] == "prompt" and record["status"] == "interrupted" and record["resumable"]
    assert resume.state_path(outputs, record["run_id"]).is_file()
    assert [p.name for p in (results / "runs").iterdir()] == [record["run_id"]]  # ptv2 never started


def test_sigint_asks_to_stop_as_sigterm_does_and_a_second_one_interrupts():
    """Ctrl-C while training: the run saves and stops with exit code 130 (SIGTERM: 143); Ctrl-C again stops at once."""
    before = signal.getsignal(signal.SIGINT)
    with resume.StopRequests() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop.stopped("after epoch 1").exit_code == 130
        assert str(stop.stopped("after epoch 1")) == "stopped by SIGINT after epoch 1"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
    with resume.StopRequests() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)  # a scheduler may repeat its notice: still one orderly stop
        assert stop.stopped("in epoch 2 after step 3").exit_code == 143
