"""CheckJobs: a sweep's every job is composed and checked in the main process before the first starts, on every
launcher; one bad job refuses the sweep in seconds with one error line naming it, and nothing runs (issue 36)."""
from __future__ import annotations

import time

import pytest

from tests.helpers import HEAVY_PACKAGES, SMOKE


def refused(result, *fragments: str) -> str:
    """Exit 2 and one last line `error: ...` holding the fragments, no traceback; the line."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr and lines[-1].startswith("error: "), result.stderr[-3000:]
    assert [line for line in lines if line.startswith("error: ")] == [lines[-1]]
    for fragment in fragments:
        assert fragment in lines[-1]
    return lines[-1]


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_one_bad_job_refuses_the_sweep_before_any_job_starts(launcher, tmp_path, ptune_imports):
    outputs, results = tmp_path / "outputs", tmp_path / "results"
    started = time.monotonic()
    result, imported = ptune_imports("run", "-m", f"hydra/launcher={launcher}", "prompt_length=4,-3", *SMOKE,
                                     f"paths.output_dir={outputs}", f"paths.results_dir={results}")
    seconds = time.monotonic() - started
    refused(result, "sweep job #1 of 2 (prompt_length=-3): prompt_length=-3: expected an integer >= 1",
            "no job was started")
    assert not outputs.exists() and not results.exists()  # job 0 did not run: no sweep folder, no row, no record
    assert not HEAVY_PACKAGES & imported  # every job's own config is checked before any backbone's
    assert seconds < 30, seconds  # ~1 s on an idle 2-core machine; job 0 alone trains for longer


def test_a_sweep_files_jobs_and_the_backbone_fit_are_checked_too(tmp_path, ptune_imports):
    """The sweep file's params expand as Hydra's BasicSweeper expands them; a prompt too long for the backbone's
    positions (the backbone's config is read) refuses its job as well."""
    outputs = tmp_path / "outputs"
    result, _ = ptune_imports("run", "-m", "sweep=prompt_lengths", "trainer.epochs=0", *SMOKE,
                              f"paths.output_dir={outputs}")
    refused(result, "sweep job #0 of 5 (prompt_length=4): trainer.epochs=0: expected an integer >= 1")
    result, _ = ptune_imports("run", "-m", "prompt_length=range(4,5)", "+foo=1,2", *SMOKE,
                              f"paths.output_dir={outputs}")
    refused(result, "sweep job #0 of 2 (+foo=1): foo: no such key")
    result, _ = ptune_imports("run", "-m", "prompt_length=4,100000", "task=rte,cb", "model=tiny-bert",
                              "trainer=smoke", f"paths.output_dir={outputs}")
    refused(result, "sweep job #2 of 4 (prompt_length=100000 task=rte): prompt_length=100000: more prefix keys")
    assert not outputs.exists()


def test_an_optuna_sweep_has_its_fixed_part_checked(tmp_path, ptune_imports):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    outputs = tmp_path / "outputs"
    result, imported = ptune_imports("run", "hparams_search=ptv2_lr", "trainer.epochs=0", *SMOKE,
                                     f"paths.output_dir={outputs}")
    refused(result, "error: the sweep's fixed part (hparams_search=ptv2_lr trainer.epochs=0 ",
            "trainer.epochs=0: expected an integer >= 1; no job was started")
    assert not outputs.exists() and not HEAVY_PACKAGES & imported


def test_a_job_whose_data_file_is_missing_refuses_the_sweep_before_any_job_starts(tmp_path, ptune_imports,
                                                                                 write_samples):
    """On a launcher that runs the jobs here (basic, joblib), each job's data files are checked too (the
    preflight's check_inputs), once per distinct (model, task, data_dir)."""
    data = write_samples(tmp_path / "data")
    (data / "super_glue" / "CB" / "train.jsonl").unlink()
    outputs, results = tmp_path / "outputs", tmp_path / "results"
    result, _ = ptune_imports("run", "-m", "task=rte,cb", "seed=1,2", "model=tiny-bert", "trainer=smoke",
                              f"data_dir={data}", f"paths.output_dir={outputs}", f"paths.results_dir={results}")
    refused(result, "sweep job #2 of 4 (task=cb seed=1): data file not found", "CB/train.jsonl", "no job was started")
    assert not outputs.exists() and not results.exists()
