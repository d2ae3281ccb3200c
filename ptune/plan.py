"""How far a sweep has come: its runs done and left, and roughly how long the rest takes.

    ptune plan sweep=reproduce_minilm data_dir=../shared/data      # what `make reproduce` prints first

The grid is the sweep yaml's `hydra.sweeper.params` (comma lists) times the command's own KEY=A,B overrides;
each job is composed as `ptune run` would compose it, and it is done when its run id has a completed row under
its results_dir (what skip_done=true skips). The estimate for a job left is the training time of done rows of
the same (task, method), scaled by epochs; jobs with no such row are counted as unknown. Evaluation time is
not included.
"""
from __future__ import annotations

import argparse
import itertools
import statistics
from dataclasses import dataclass

import yaml

from ptune.config import compose, config_dir
from ptune.resume import completed_row
from ptune.rows import run_id


@dataclass
class Job:
    overrides: list[str]
    task: str
    method: str
    epochs: int
    run_id: str
    row: dict | None  # its completed row, when done


def grid(overrides: list[str]) -> list[list[str]]:
    """One override list per job: the sweep file's params and the command's comma lists, expanded."""
    params: dict[str, list[str]] = {}
    fixed = []
    for override in overrides:
        key, _, value = override.partition("=")
        if key == "sweep":
            params |= sweep_params(value)
            fixed.append(override)
        elif "," in value and not value.startswith(("[", "{")):
            params[key] = value.split(",")
        else:
            fixed.append(override)
    keys = list(params)
    return [fixed + [f"{k}={v}" for k, v in zip(keys, values)] for values in itertools.product(*params.values())]


def sweep_params(name: str) -> dict[str, list[str]]:
    path = config_dir() / "sweep" / f"{name}.yaml"
    if not path.is_file():
        raise SystemExit(f"ptune plan: no sweep {name!r} ({path} does not exist)")
    params = (((yaml.safe_load(path.read_text()) or {}).get("hydra") or {}).get("sweeper") or {}).get("params") or {}
    found = {}
    for key, value in params.items():
        text = str(value)
        if "(" in text:
            raise SystemExit(f"ptune plan: {path}: hydra.sweeper.params.{key}={text!r}: only comma lists can be "
                             "planned (not Hydra's range / choice / interval)")
        found[key] = [item.strip() for item in text.split(",")]
    return found


def jobs(overrides: list[str]) -> list[Job]:
    found = []
    for job_overrides in grid(overrides):
        cfg = compose(job_overrides)
        identifier = run_id(cfg)
        found.append(Job(job_overrides, cfg.task.name, cfg.method.name, int(cfg.trainer.epochs), identifier,
                         completed_row(cfg.paths.results_dir, identifier)))
    return found


def seconds_per_epoch(done: list[Job]) -> dict[tuple[str, str], float]:
    """Median training seconds per epoch of the done rows, per (task, method)."""
    samples: dict[tuple[str, str], list[float]] = {}
    for job in done:
        epochs = job.row.get("epochs_run") or job.epochs
        if job.row.get("train_seconds") and epochs:
            samples.setdefault((job.task, job.method), []).append(job.row["train_seconds"] / epochs)
    return {key: statistics.median(values) for key, values in samples.items()}


def summary(found: list[Job]) -> list[str]:
    done = [job for job in found if job.row is not None]
    rates = seconds_per_epoch(done)
    cells: dict[tuple[str, str], list[int]] = {}
    left_seconds, unknown = 0.0, 0
    for job in found:
        cell = cells.setdefault((job.task, job.method), [0, 0])
        cell[1] += 1
        if job.row is not None:
            cell[0] += 1
        elif (job.task, job.method) in rates:
            left_seconds += rates[job.task, job.method] * job.epochs
        else:
            unknown += 1
    tasks = list(dict.fromkeys(job.task for job in found))
    methods = list(dict.fromkeys(job.method for job in found))
    lines = ["| task | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for task in tasks:
        lines.append(f"| {task} | " + " | ".join(
            "{}/{}".format(*cells[task, m]) if (task, m) in cells else "" for m in methods) + " |")
    estimate = f"about {left_seconds / 3600:.1f} h of training for the runs with a done (task, method) to go by"
    if unknown:
        estimate += f"; {unknown} run(s) of (task, method) pairs with no done run yet: not estimated"
    lines += ["", f"{len(done)} of {len(found)} runs done, {len(found) - len(done)} left: {estimate}."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptune plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="sweep=NAME and any KEY=VALUE or KEY=A,B of the run")
    args = parser.parse_args(argv)
    print("\n".join(summary(jobs(args.overrides))))
    return 0
