"""Bad input, as a new user meets it, through the real CLI in a subprocess: each case exits with its code (2: change
something before running; 1: the run failed while running; 130: Ctrl-C), its last line is `error: ...` naming
what is wrong, nothing prints a traceback, and nothing is left under results_dir that reads as a row (no row.json,
no staging folder). The table of exit codes: docs/configuration.md (tests/test_errors.py)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ptune.store.find import completed_rows
from ptune.train import resume
from tests.helpers import HEAVY_PACKAGES, ptune, ptune_imports
from tests.samples import write_samples

BAD_RUNS = {}  # case name -> (make(data, tmp_path) -> overrides, exit code, fragment of the error line)
CONFIG_ERRORS = []  # the cases refused while the config is composed and checked


def bad_run(code: int, fragment: str, config_error: bool = False):
    """Register a case: `make` may spoil the sample data folder and returns the overrides of the run."""

    def register(make):
        BAD_RUNS[make.__name__] = (make, code, fragment)
        if config_error:
            CONFIG_ERRORS.append(make.__name__)
        return make

    return register


@bad_run(2, "method.lr=abc", config_error=True)
def bad_type(data, tmp_path):
    return ["method.lr=abc"]


@bad_run(2, "trainer.epoch", config_error=True)
def unknown_key(data, tmp_path):
    return ["trainer.epoch=2"]


@bad_run(2, "foo: no such key", config_error=True)
def plus_key(data, tmp_path):
    return ["+foo=1"]


@bad_run(2, "trainer.epochs=0: expected an integer >= 1", config_error=True)
def out_of_range(data, tmp_path):
    return ["trainer.epochs=0"]


@bad_run(2, "could not load task 'rte' (aps/super_glue, rte, train) from the dataset hub")
def hub_task_offline(data, tmp_path):
    """No data_dir: the task comes from the dataset hub, which HF_HUB_OFFLINE=1 leaves to its (empty) cache."""
    return ["data_dir=null"]


@bad_run(2, "data file not found")
def missing_data_dir(data, tmp_path):
    return [f"data_dir={tmp_path / 'nowhere'}"]


def rte_train(data: Path) -> Path:
    return data / "super_glue" / "RTE" / "train.jsonl"


@bad_run(2, "train.jsonl is a folder, not a file")
def data_file_is_a_folder(data, tmp_path):
    rte_train(data).unlink()
    rte_train(data).mkdir()
    return []


@bad_run(2, "train.jsonl: the file is empty")
def empty_train_file(data, tmp_path):
    rte_train(data).write_text("")
    return []


@bad_run(2, "train.jsonl:1: not a text file")
def binary_train_file(data, tmp_path):
    rte_train(data).write_bytes(bytes(range(256)) * 4)
    return []


@bad_run(2, "train.jsonl:3: not a text file (byte 0xe9")
def latin1_train_file(data, tmp_path):
    lines = rte_train(data).read_text().splitlines()
    lines[2] = lines[2].replace("town", "caf\u00e9")
    rte_train(data).write_bytes("\n".join(lines).encode("latin-1"))
    return []


@bad_run(2, "device=cuda: ")
def cuda_without_cuda(data, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    return ["device=cuda"]


@bad_run(2, "trainer.precision=fp16 needs a CUDA device")
def fp16_on_cpu(data, tmp_path):
    return ["device=cpu", "trainer.precision=fp16"]


@bad_run(2, "no-such-model: no such folder")
def missing_model_folder(data, tmp_path):
    return [f"model.tokenizer={tmp_path / 'no-such-model'}"]


@bad_run(2, "resume=true: no saved state for run")
def resume_without_state(data, tmp_path):
    return ["resume=true"]


@bad_run(2, "paths.results_dir: cannot write to")
def read_only_results(data, tmp_path):
    return [f"paths.results_dir={read_only_folder(tmp_path)}"]


def read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write to: a read-only one of its own, or (run as root, who writes anywhere
    chmod allows) /sys, which no container may write."""
    own = tmp_path / "read-only"
    own.mkdir()
    own.chmod(0o555)
    for folder in (own, Path("/sys")):
        try:
            (folder / "probe").mkdir()
        except OSError:
            return folder
        (folder / "probe").rmdir()
    pytest.skip("no read-only folder here")


def run_args(tmp_path: Path, data: Path, overrides: list[str]) -> list[str]:
    model = [] if any(o.startswith("model=") for o in overrides) else ["model=tiny-bert"]
    return ["run", "task=rte", *model, "trainer=smoke", f"data_dir={data}",
            f"paths.results_dir={tmp_path / 'results'}", f"paths.output_dir={tmp_path / 'outputs'}", *overrides]


def assert_one_error_line(result, code: int, fragment: str) -> str:
    """Exit code `code`, the last line of stderr `error: ...` holding `fragment`, no traceback or Hydra report."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "Error executing job" not in output, output[-3000:]  # Hydra's own line before ptune's: not printed
    last = result.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith("error: ") and fragment in last, result.stderr[-3000:]
    return last


def assert_nothing_reads_as_a_row(results: Path, rows: int = 0):
    """`rows` completed rows (those there before), no other row.json and no staging folder left."""
    assert len(completed_rows(results)) == rows
    assert len(list(results.glob("runs/*/row.json"))) == rows if results.is_dir() else rows == 0
    assert not [p for p in results.glob("runs/.*") if ".staging-" in p.name or ".old-" in p.name]


@pytest.mark.parametrize("case", BAD_RUNS)
def test_bad_input_fails_first_in_one_line(case, tmp_path, write_samples):
    make, code, fragment = BAD_RUNS[case]
    data = write_samples(tmp_path / "data")
    overrides = make(data, tmp_path)
    result = ptune(*run_args(tmp_path, data, overrides))
    assert_one_error_line(result, code, fragment)
    results = Path(next((o.split("=", 1)[1] for o in overrides if o.startswith("paths.results_dir=")),
                        tmp_path / "results"))
    assert_nothing_reads_as_a_row(results)
    assert not list(results.glob("runs/*/failed-*.json"))  # nothing ran: nothing to record


@pytest.mark.parametrize("case", CONFIG_ERRORS)
def test_a_config_error_never_imports_torch(case, tmp_path, write_samples):
    make, code, fragment = BAD_RUNS[case]
    data = write_samples(tmp_path / "data")
    result, imported = ptune_imports(*run_args(tmp_path, data, make(data, tmp_path)))
    assert result.returncode == code, result.stderr[-3000:]
    assert "ptune" in imported  # the report holds the process's imports
    assert not HEAVY_PACKAGES & imported


DISK_FULL = """
import errno, sys
from ptune.store import write

def full(path, data):
    raise OSError(errno.ENOSPC, "No space left on device", str(path))

write.write_json_atomic = full  # every JSON write of the run: its row, and its failure record
from ptune.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_full_disk_leaves_one_line_and_no_staging_folder(tmp_path, write_samples):
    data = write_samples(tmp_path / "data")
    result = subprocess.run([sys.executable, "-c", DISK_FULL, *run_args(tmp_path, data, [])], capture_output=True,
                            text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"}, timeout=600)
    last = assert_one_error_line(result, 1, "disk full writing ")
    assert "row.json (No space left on device)" in last and "Free space" in last
    # the row was being written into its staging folder (runs/ itself the preflight's probe makes): that is gone
    assert f"{tmp_path / 'results' / 'runs'}/." in last and ".staging-" in last
    assert_nothing_reads_as_a_row(tmp_path / "results")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One smoke run with its checkpoint: (results_dir, output_dir, run id, data_dir)."""
    tmp_path = tmp_path_factory.mktemp("trained")
    data = write_samples(tmp_path / "data")
    result = ptune(*run_args(tmp_path, data, []))
    assert result.returncode == 0, result.stderr[-3000:]
    [row] = completed_rows(tmp_path / "results")
    return tmp_path / "results", tmp_path / "outputs", row.run_id, data


@pytest.mark.parametrize("argument,fragment", [
    ("checkpoint={tmp}/none.pt", "none.pt"),
    ("data_dir={tmp}/nowhere", "data file not found"),
    ("paths.output_dir={tmp}/elsewhere", "no checkpoint for run"),
])
def test_eval_of_what_is_not_there_fails_in_one_line(argument, fragment, trained, tmp_path):
    results, outputs, run_id, data = trained
    paths = [f"paths.results_dir={results}", f"paths.output_dir={outputs}", f"data_dir={data}"]
    result = ptune("eval", f"run={run_id}", *paths, argument.format(tmp=tmp_path))
    assert_one_error_line(result, 2, fragment)
    assert_nothing_reads_as_a_row(results, rows=1)


def test_sigint_saves_the_state_in_one_line_and_resume_auto_finishes(tmp_path, write_samples):
    """Ctrl-C during training: the state is saved, one line, exit 130; the same command with resume=auto finishes
    the run from there."""
    data = write_samples(tmp_path / "data")
    args = run_args(tmp_path, data, ["trainer.epochs=20", "trainer.batch_size=2"])
    process = subprocess.Popen([sys.executable, "-m", "ptune.cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + 120
    while not list((tmp_path / "outputs").glob("state/*/state.pt")) and time.monotonic() < deadline \
            and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    stopped = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert_one_error_line(stopped, 130, "stopped by SIGINT")
    assert "rerun the same command with resume=true" in stderr
    results = tmp_path / "results"
    assert_nothing_reads_as_a_row(results)
    [failure] = results.glob("runs/*/failed-*.json")
    record = json.loads(failure.read_text())
    assert record["status"] == "interrupted" and record["resumable"]
    assert resume.state_path(tmp_path / "outputs", record["run_id"]).is_file()

    resumed = ptune(*args, "resume=auto")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    [row] = completed_rows(results)
    assert row.run_id == record["run_id"] and row.epochs_run == 20 and row.provenance["resumed"]
    assert not resume.state_path(tmp_path / "outputs", row.run_id).exists()
