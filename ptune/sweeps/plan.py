"""How far a sweep has come: per (task, method) its runs done and left, and the hours the rest takes.

    ptune plan sweep=reproduce_minilm data_dir=../shared/data      # what `make reproduce` prints first

The jobs are the sweep's grid (ptune/sweeps/grid.py); a job is done when its run id has a completed row under its
results_dir (what skip_done=true skips), and a job whose twin under reuse_rows_from will be copied
(ptune/store/reuse.py) costs nothing. Any other job left takes

    its epochs x its training tokens per epoch x seconds per training token

read from the completed rows under its results_dir and its reuse_rows_from. Its tokens per epoch are those a row
with the same task data recorded (same task config, with its max_length, tokenizer and max_train_examples):
nothing is tokenized here. The seconds per token are the median over comparable rows: same task, kind of
device, backbone, method, precision and prompt length. A job with no row for either is counted as not timed.
Evaluation time is not included. Left out one at a time, the 246 committed rows that trained (results/runs,
results/search) are timed by the others: this rule times 110, off by 4% (median) and 43% at worst; the four-tier
estimator it replaced was off by 4% and 46% on those 110 (it timed 238, reading each job's data: 7% and 93%), and
one rate shared by all tasks by 9% and 62%.
"""
from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass

from ptune.errors import SetupError
from ptune.model.device import autocast_dtype, pick_device, precision_name
from ptune.reports.markdown import markdown_table
from ptune.store.find import completed_rows
from ptune.store.row import Row
from ptune.store.run_id import experiment_config
from ptune.sweeps.grid import Job, jobs


@dataclass(frozen=True)
class Keys:
    """What makes two runs alike for the plan."""
    cost: tuple  # (task, device kind, backbone, method, precision, prompt length): one rate per training token
    data: str  # what a run's training tokens per epoch depend on


@dataclass(frozen=True)
class Timing:
    """What the plan reads of a completed row (row_timing and keys: the only readers of row fields)."""
    keys: Keys
    seconds: float | None  # training time, evaluation excluded
    epochs: int | None
    tokens: int | None  # training tokens per epoch, when the row recorded them
    reused: bool  # a copy of a twin's row: its seconds are the twin's, not a run of its own


def keys(config: dict, device: str, precision: str) -> Keys:
    """Keys of a run from its experiment config (a row's `config`) and where and how it runs."""
    task, model, method = config["task"], config["model"], config["method"]
    data = [task, model.get("pretrained"), model.get("tokenizer"), config["trainer"].get("max_train_examples")]
    return Keys((task["name"], device, model["name"], method["name"], precision, method.get("prompt_length")),
                json.dumps(data, sort_keys=True))


def row_timing(row: Row) -> Timing:
    """A completed row's Keys and timing. Rows that did not record their precision predate bf16 autocast: fp32."""
    device = str(row.provenance.get("device", "")).split(":")[0]  # cuda:1 runs as fast as cuda:0
    return Timing(keys(row.config, device, row.hyperparameters.get("precision_used", "fp32")),
                  row.train_seconds, row.epochs_run, row.data.get("train_tokens"), row.reused_from is not None)


def job_keys(job: Job) -> Keys:
    """A job's Keys: its device and precision as its run would resolve them here."""
    try:
        device = pick_device(job.cfg.device)
        precision = precision_name(autocast_dtype(job.cfg.trainer.precision, device))
    except SetupError:  # planned here for a machine with that device: rows of its type match, at the job's precision
        return keys(experiment_config(job.cfg), str(job.cfg.device).split(":")[0], str(job.cfg.trainer.precision))
    except ValueError:  # a precision this machine cannot run: the job's own word, which no row matches
        precision = str(job.cfg.trainer.precision)
    return keys(experiment_config(job.cfg), device.type, precision)


def rates(rows: list[Row]) -> tuple[dict[str, int], dict[tuple, float]]:
    """(training tokens per epoch per data key, seconds per training token per cost key) of completed rows. A row
    that did not record its tokens takes them from a row with the same data. The task is part of the cost key:
    a task's sequence lengths and head change its cost per token, and a rate pooled over tasks erred twice as much
    (module docstring). The median, not the fastest: a shared machine only slows a run, but the runs of a sweep
    share it alike, so the fastest row undercuts most of them (worst 46% vs 43%); the median ignores a lone slow
    row as well."""
    timings = [row_timing(row) for row in rows]
    tokens: dict[str, int] = {}
    for timing in timings:
        if timing.tokens:
            tokens.setdefault(timing.keys.data, timing.tokens)
    samples: dict[tuple, list[float]] = {}
    for timing in timings:
        count = timing.tokens or tokens.get(timing.keys.data)
        if count and timing.seconds and timing.epochs and not timing.reused:
            samples.setdefault(timing.keys.cost, []).append(timing.seconds / (timing.epochs * count))
    return tokens, {cost: statistics.median(values) for cost, values in samples.items()}


def summary(found: list[Job], rows: list[Row]) -> list[str]:
    """The plan's lines: a table of done/total per (task, method) and hours left per task, then one sentence.
    `rows`: the completed rows that time the jobs left."""
    tokens, rate = rates(rows)
    cells: dict[tuple[str, str], list[int]] = {}
    seconds: dict[str, float] = {}
    untimed: dict[str, int] = {}
    for job in found:
        cell = cells.setdefault((job.task, job.method), [0, 0])
        cell[0] += job.row is not None
        cell[1] += 1
        if job.row is not None or job.reusable:
            continue
        wanted = job_keys(job)
        if wanted.data in tokens and wanted.cost in rate:
            seconds[job.task] = seconds.get(job.task, 0.0) + job.epochs * tokens[wanted.data] * rate[wanted.cost]
        else:
            untimed[job.task] = untimed.get(job.task, 0) + 1
    tasks = list(dict.fromkeys(job.task for job in found))
    methods = list(dict.fromkeys(job.method for job in found))
    table = markdown_table(["task", *methods, "hours left"], [
        [task, *("{}/{}".format(*cells[task, m]) if (task, m) in cells else "" for m in methods),
         hours_left(seconds.get(task, 0.0), untimed.get(task, 0))] for task in tasks])
    done = sum(job.row is not None for job in found)
    reusable = sum(job.reusable for job in found)
    timed = len(found) - done - reusable - sum(untimed.values())
    parts = [f"about {sum(seconds.values()) / 3600:.1f} h of training for {timed}"] * bool(timed)
    if untimed:
        parts.append(f"{sum(untimed.values())} not timed (no row with their task data, or no comparable row)")
    if reusable:
        parts.append(f"{reusable} copy a finished twin under reuse_rows_from (no training)")
    text = f"{done} of {len(found)} runs done, {len(found) - done} left" + (": " + "; ".join(parts)) * bool(parts)
    return [*table.splitlines(), "", text + "."]


def hours_left(seconds: float, unknown: int) -> str:
    """A task's estimate: its timed hours, and how many of its runs could not be timed."""
    text = f"{seconds / 3600:.1f}" if seconds or not unknown else ""
    return text + (f"{' + ' if text else ''}{unknown} not timed" if unknown else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptune plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="sweep=NAME and any KEY=VALUE or KEY=A,B of the run")
    args = parser.parse_args(argv)
    found = jobs(args.overrides)
    folders = dict.fromkeys(str(folder) for job in found for folder in (job.results_dir, job.cfg.reuse_rows_from)
                            if folder)
    print("\n".join(summary(found, [row for folder in folders for row in completed_rows(folder)])))
    return 0
