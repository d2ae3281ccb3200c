"""Sweeps on Hydra's launchers: every shipped launcher preset composes, a joblib pool of 2 workers writes the
rows a sequential sweep writes (one GPU per worker), failed jobs leave the others running and end in a
summary with a non-zero exit, skip_done holds across workers, and submitit_local runs a job end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_class
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import InterpolationResolutionError

from ptune.config.compose import config_dir
from ptune.config.schema import register
from ptune.store import write
from ptune.store.find import completed_rows
from ptune.sweeps import gpu_slots
from ptune.train import runner

TINY = ("task=rte", "model=tiny-bert", "trainer=smoke")
SHIPPED = sorted(p.stem for p in (config_dir() / "hydra" / "launcher").glob("*.yaml"))
PLUGINS = ["joblib", "submitit_local", "submitit_slurm"]  # ptune[cluster], installed by make install
register()  # the config schemas, for the tests that compose with Hydra itself (as ptune/sweeps/job.py does)


def ptune(*args, env=None, timeout=300):
    env = os.environ | {"HF_HUB_OFFLINE": "1"} | (env or {})
    return subprocess.run([sys.executable, "-m", "ptune.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def sweep_dir(outputs: Path) -> Path:
    [found] = outputs.glob("multirun/*/*")
    return found


def comparable(row: dict) -> dict:
    """What a run computes, without the times, memory and provenance that differ between processes."""
    return {k: row[k] for k in ("run_id", "best_epoch", "metrics", "history", "params")}


@pytest.mark.parametrize("launcher", PLUGINS + SHIPPED)
def test_every_launcher_preset_composes(launcher):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        options = GlobalHydra.instance().config_loader().get_group_options("hydra/launcher")
        cfg = compose(config_name="config", overrides=[f"hydra/launcher={launcher}", *TINY],
                      return_hydra_config=True)
    assert set(PLUGINS + SHIPPED) <= set(options)
    assert get_class(cfg.hydra.launcher._target_).__name__.endswith("Launcher")
    for callback in cfg.hydra.callbacks.values():
        get_class(callback._target_)
    if launcher in SHIPPED:  # the one-GPU SLURM preset: time, memory and partition are the user's to set
        assert cfg.hydra.launcher.gpus_per_node == 1 and cfg.hydra.launcher.tasks_per_node == 1
        for key in ("timeout_min", "mem_gb", "partition"):
            with pytest.raises(InterpolationResolutionError, match=f"hydra.launcher.{key} is not set"):
                getattr(cfg.hydra.launcher, key)
        with open_dict(cfg):
            cfg.hydra.launcher.merge_with({"timeout_min": 240, "mem_gb": 64, "partition": None})
        assert OmegaConf.to_container(cfg.hydra.launcher, resolve=True)["timeout_min"] == 240


def test_each_worker_process_claims_its_own_gpu(tmp_path, monkeypatch):
    hold = "import sys; from pathlib import Path; from ptune.sweeps import gpu_slots; " \
           f"print(gpu_slots.claim(['3', '5'], Path({str(tmp_path)!r})), flush=True); sys.stdin.read()"
    holders = [subprocess.Popen([sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        assert sorted(holder.stdout.readline().strip() for holder in holders) == ["3", "5"]  # never the same GPU
        monkeypatch.setattr(gpu_slots, "_claimed", None)
        with pytest.raises(RuntimeError, match="GPUs 3,5 are all held .* set hydra.launcher.n_jobs to at most 2"):
            gpu_slots.claim(["3", "5"], tmp_path)
    finally:
        for holder in holders:
            holder.communicate("", timeout=30)
    assert gpu_slots.claim(["3", "5"], tmp_path) in ("3", "5")  # a worker that exits frees its GPU
    assert gpu_slots.claim(["5"], tmp_path) == gpu_slots._claimed[0]  # and a worker keeps the one it has


def test_more_joblib_workers_than_gpus_is_refused_before_any_job(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["hydra/launcher=joblib", "hydra.launcher.n_jobs=3",
                                                       f"hydra.sweep.dir={tmp_path}"], return_hydra_config=True)
    with pytest.raises(SystemExit, match="n_jobs=3 starts 3 joblib workers but 2 GPUs are visible"):
        gpu_slots.WorkerGpus().on_multirun_start(cfg)
    assert gpu_slots.worker_count(-1) == os.cpu_count()


def test_joblib_pool_of_2_writes_the_sequential_rows_one_gpu_per_worker(make_cfg, tmp_path, write_samples):
    """4 tiny jobs on 2 workers (CUDA_VISIBLE_DEVICES=3,5 pretends 2 GPUs; torch still runs on the CPU)."""
    data = write_samples(tmp_path)
    results, outputs = tmp_path / "results", tmp_path / "outputs"
    sweep = ("run", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "method=prompt,ptv2", "seed=1,2",
             *TINY, f"data_dir={data}", f"paths.results_dir={results}", f"paths.output_dir={outputs}")
    pooled = ptune(*sweep, env={"CUDA_VISIBLE_DEVICES": "3,5"})
    assert pooled.returncode == 0, pooled.stderr[-3000:]
    sequential = [runner.execute(make_cfg(*TINY, f"method={method}", f"seed={seed}", f"data_dir={data}",
                                       f"paths.results_dir={tmp_path / 'sequential'}"))
                  for method in ("prompt", "ptv2") for seed in (1, 2)]
    written = {row.run_id: row for row in completed_rows(results)}
    assert sorted(written) == sorted(row.run_id for row in sequential)
    for row in sequential:
        assert comparable(written[row.run_id].to_json()) == comparable(json.loads(json.dumps(row.to_json())))

    outcomes = json.loads((sweep_dir(outputs) / "summary.json").read_text())
    assert [o["status"] for o in outcomes] == ["completed"] * 4 and [o["job"] for o in outcomes] == [0, 1, 2, 3]
    gpu_of = {o["pid"]: o["cuda_visible_devices"] for o in outcomes}
    assert all(gpu_of[o["pid"]] == o["cuda_visible_devices"] for o in outcomes)  # a worker keeps its GPU
    assert set(gpu_of.values()) <= {"3", "5"} and len(set(gpu_of.values())) == len(gpu_of)  # one worker per GPU



def test_failed_jobs_leave_the_others_running_and_skip_done_holds_across_workers(make_cfg, tmp_path, write_samples):
    """(rte, cb) x (seed 1, 2), CB's training file not JSON: rte seed 1 is done and skipped, rte seed 2 runs, both
    CB jobs fail at run time (a missing file or a bad value is refused before a sweep starts: test_callbacks.py);
    every job has its own run id."""
    data = write_samples(tmp_path)
    (data / "super_glue" / "CB" / "train.jsonl").write_text("{not json\n")
    results, outputs = tmp_path / "results", tmp_path / "outputs"
    done = runner.execute(make_cfg(*TINY, "method=ptv2", "seed=1", f"data_dir={data}", f"paths.results_dir={results}"))
    swept = ptune("run", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "method=ptv2", "task=rte,cb",
                  "seed=1,2", "skip_done=true", *[o for o in TINY if not o.startswith("task=")], f"data_dir={data}",
                  f"paths.results_dir={results}", f"paths.output_dir={outputs}")
    assert swept.returncode == 1, swept.stderr[-3000:]  # a sweep with failed jobs fails, after running the rest
    assert "2 of 4 sweep jobs did not complete" in swept.stderr
    outcomes = json.loads((sweep_dir(outputs) / "summary.json").read_text())
    assert [(o["job"], o["status"]) for o in outcomes] == [(0, "skipped"), (1, "completed"), (2, "failed"),
                                                           (3, "failed")]
    assert outcomes[0]["run_id"] == done.run_id
    assert sorted((r.task, r.seed) for r in completed_rows(results)) == [("rte", 1), ("rte", 2)]
    for failed in (outcomes[2], outcomes[3]):
        assert "CB/train.jsonl" in failed["error"], failed["error"]
        assert json.loads(Path(failed["failure_record"]).read_text())["status"] == "failed"
        assert failed["failure_record"] in swept.stdout + swept.stderr  # the summary names the record
    assert not list((results / "runs").glob(".*staging*"))  # every staging folder was published


def test_publishing_over_a_run_published_meanwhile_keeps_one_whole_folder(tmp_path, monkeypatch):
    """Two processes finish the same run id at once: the folder ends up as one of them wrote it, never mixed."""
    final = tmp_path / "runs" / "rte-x"
    staging = write.staging_folder(final)
    assert staging.name == f".rte-x.staging-{write.process_tag()}" and staging != write.staging_folder(tmp_path / "y")
    (staging / "predictions").mkdir(parents=True)
    (staging / "row.json").write_text("mine")
    real_replace, calls = os.replace, []

    def replace(source, target):
        calls.append((Path(source).name, Path(target).name))
        if len(calls) == 1:  # the other process publishes between our check and our rename
            (final / "predictions").mkdir(parents=True)
            (final / "row.json").write_text("theirs")
        real_replace(source, target)

    monkeypatch.setattr(write.os, "replace", replace)
    write.publish_run_folder(staging, final)
    assert (final / "row.json").read_text() == "mine" and sorted(p.name for p in final.iterdir()) == \
        ["predictions", "row.json"]
    assert sorted(p.name for p in final.parent.iterdir()) == ["rte-x"]  # nothing set aside is left
    assert calls[0] == (staging.name, "rte-x") and calls[1][0] == "rte-x"


def test_submitit_local_runs_a_job_end_to_end(tmp_path, write_samples):
    data = write_samples(tmp_path)
    results, outputs = tmp_path / "results", tmp_path / "outputs"
    done = ptune("run", "-m", "hydra/launcher=submitit_local", "method=prompt", *TINY, f"data_dir={data}",
                 f"paths.results_dir={results}", f"paths.output_dir={outputs}")
    assert done.returncode == 0, done.stderr[-3000:]
    [row] = completed_rows(results)
    [outcome] = json.loads((sweep_dir(outputs) / "summary.json").read_text())
    assert outcome["status"] == "completed" and outcome["run_id"] == row.run_id
    assert outcome["pid"] != os.getpid() and list(sweep_dir(outputs).glob(".submitit/*/*_result.pkl"))


def test_runs_and_sweeps_started_in_the_same_second_get_their_own_folders(monkeypatch):
    """Two queue workers that start sweeps in the same second must not share a sweep folder: the summary of
    one would count the other's running jobs as lost and exit 1. Hydra's ${now:} reads a clock frozen at one
    second that only moves its microseconds."""
    import datetime as real

    import hydra.core.utils

    ticks = iter(range(1, 1000))

    class SameSecond(real.datetime):
        @classmethod
        def now(cls, tz=None):
            return real.datetime(2026, 11, 29, 17, 36, 45, next(ticks))

    monkeypatch.setattr(hydra.core.utils, "datetime", SameSecond)
    folders = []
    for _ in range(2):
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            hydra.core.utils.setup_globals()
            cfg = compose(config_name="config", overrides=list(TINY), return_hydra_config=True)
        folders.append((str(cfg.hydra.sweep.dir), str(cfg.hydra.run.dir)))
    assert all("17-36-45" in folder for pair in folders for folder in pair)
    assert folders[0][0] != folders[1][0] and folders[0][1] != folders[1][1]
