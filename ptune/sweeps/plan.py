"""How far a sweep has come: its runs done and left, and roughly how long the rest takes.

    ptune plan sweep=reproduce_minilm data_dir=../shared/data      # what `make reproduce` prints first

The grid is the sweep yaml's `hydra.sweeper.params` (comma lists) times the command's own KEY=A,B overrides; each
job is composed as `ptune run` would compose it, and it is done when its run id has a completed row under its
results_dir (what skip_done=true skips). The estimate for a job left is the training time of done rows of the same
task, method, backbone, max length, precision and prompt length, scaled by epochs (the fastest such row: others were
slowed by a shared machine); for a job with none done yet, any completed row under the same results_dir or its
reuse_rows_from (the settings search) with the same task, method, backbone, max length, precision and prompt length
gives seconds per training example, times the job's training examples (its data read only then) and epochs; failing
that, such rows at two or more other prompt lengths give it along a line through the two nearest (a prompt's cost
grows with its length, so a row at a longer prompt that ran faster also caps the rate of every shorter one); failing
that (a task with no row yet), rows of the same method, backbone, precision and prompt length on other tasks give
seconds per training token (the tokens of a row's training features, as its run cut them), times the job's training
tokens (its split tokenized only then) and epochs; the rest are counted as not timed. A job whose twin under
reuse_rows_from will be copied (ptune/store/reuse.py) costs nothing. The table gives each task's hours left. Evaluation
time is not included.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from ptune.config.compose import compose
from ptune.store.reuse import find_twin
from ptune.store.rows import completed_row, experiment_config, run_id
from ptune.sweeps.grid import grid


@dataclass
class Job:
    overrides: list[str]
    task: str
    method: str
    epochs: int
    run_id: str
    row: dict | None  # its completed row, when done
    similar: tuple = ()  # (task, method, model, max_length, precision, psl): rows of other runs that time it
    train_examples: int | None = None  # what it will train on, when its data can be read (examples() reads it)
    results_dir: str = "results"
    reusable: bool = False  # not done, but its twin under reuse_rows_from is copied instead of trained (ptune/store/reuse.py)
    reuse_rows_from: str | None = None  # the search folder whose rows also time it
    train_tokens: int | None = None  # tokens of its training features per epoch, when its data can be read
    config: object = None  # its composed config: examples() and tokens() read its data only when summary needs them

    def examples(self, counts: dict) -> int | None:
        """train_examples, reading the job's training split the first time it is asked for."""
        if self.train_examples is None and self.config is not None:
            self.train_examples = train_examples(self.config, counts)
        return self.train_examples

    def tokens(self, cache: dict) -> int | None:
        """train_tokens, tokenizing the job's training split the first time it is asked for."""
        if self.train_tokens is None and self.config is not None:
            self.train_tokens = train_tokens(self.config, cache)
        return self.train_tokens

    @property
    def cost_key(self) -> tuple:
        """(method, model, precision, psl): what rows of other tasks must share to time it per token."""
        return tuple(self.similar[i] for i in (1, 2, 4, 5)) if self.similar else ()


def jobs(overrides: list[str]) -> list[Job]:
    found = []
    for job_overrides in grid(overrides):
        cfg = compose(job_overrides)
        identifier = run_id(cfg)
        row = completed_row(cfg.paths.results_dir, identifier)
        reusable = bool(not row and cfg.reuse_rows_from
                        and find_twin(cfg.reuse_rows_from, identifier, experiment_config(cfg)))
        similar = (cfg.task.name, cfg.method.name, cfg.model.name, int(cfg.task.max_length), job_precision(cfg),
                   cfg.method.get("prompt_length"))
        found.append(Job(job_overrides, cfg.task.name, cfg.method.name, int(cfg.trainer.epochs), identifier, row,
                         similar, results_dir=str(cfg.paths.results_dir), reusable=reusable,
                         reuse_rows_from=str(cfg.reuse_rows_from) if cfg.reuse_rows_from else None,
                         config=None if row or reusable else cfg))
    return found


def job_precision(cfg) -> str:
    from ptune.model.device import autocast_dtype, pick_device, precision_name

    try:
        return precision_name(autocast_dtype(cfg.trainer.precision, pick_device(cfg.device)))
    except ValueError:
        return str(cfg.trainer.precision)


def train_examples(cfg, counts: dict) -> int | None:
    """How many examples the job trains on per epoch (None when its data cannot be read here)."""
    from omegaconf import OmegaConf

    from ptune.tasks import build_task

    key = OmegaConf.to_yaml(cfg.task) + str(cfg.data_dir)
    if key not in counts:
        try:
            counts[key] = len(build_task(cfg.task, cfg.data_dir).examples("train"))
        except Exception:  # no data at hand: the job stays unestimated
            counts[key] = None
    limit = cfg.trainer.get("max_train_examples")
    return counts[key] if counts[key] is None or not limit else min(counts[key], int(limit))


def train_tokens(cfg, cache: dict | None = None) -> int | None:
    """Tokens of the run's training features per epoch, tokenized and cut as its run would (None when its data or
    tokenizer cannot be read here)."""
    from omegaconf import OmegaConf

    from ptune.model.backbones import load_tokenizer
    from ptune.tasks import build_task
    from ptune.train.feature_cache import load_split

    cache = {} if cache is None else cache
    key = "".join([OmegaConf.to_yaml(cfg.task), OmegaConf.to_yaml(cfg.model), str(cfg.data_dir),
                   str(cfg.trainer.max_train_examples)])
    if key not in cache:
        try:
            task = build_task(cfg.task, cfg.data_dir)
            _, features = load_split(task, load_tokenizer(cfg.model, task.words_pretokenized), cfg, "train")
            cache[key] = sum(len(feature["input_ids"]) for feature in features)
        except Exception:  # no data or tokenizer at hand: the job stays unestimated
            cache[key] = None
    return cache[key]


def row_train_tokens(row: dict, base, cache: dict) -> int | None:
    """A finished row's training tokens per epoch: recorded in rows made since ptune recorded them, else its run's
    training split tokenized again from its saved config and base's data_dir."""
    from ptune.train.rescore import run_config

    recorded = (row.get("data") or {}).get("train_tokens")
    if recorded or base is None:
        return recorded
    try:
        cfg = run_config(row, base)
    except Exception:  # a row too old or too partial to rebuild its config
        return None
    return train_tokens(cfg, cache)


def seconds_per_token(results_dirs: list[str | Path], wanted: set[tuple], base=None,
                      cache: dict | None = None) -> dict[tuple, float]:
    """The fastest training seconds per token and epoch of the completed rows under results_dirs whose
    (method, model, precision, psl) is wanted (see seconds_per_example for why the fastest): what times a task
    that no row has run yet. `base` (a composed config) gives the data_dir for rows without recorded tokens;
    `cache` is train_tokens' (shared with the jobs' own tokenization)."""
    samples: dict[tuple, list[float]] = {}
    cache = {} if cache is None else cache
    for path in (path for folder in results_dirs for path in sorted(Path(folder, "runs").glob("*/row.json"))):
        try:
            row = json.loads(path.read_text())
            config = row["config"]
            key = (config["method"]["name"], config["model"]["name"],
                   (row.get("hyperparameters") or {}).get("precision_used", "fp32"),
                   config["method"].get("prompt_length"))
        except (KeyError, TypeError, json.JSONDecodeError):
            continue
        if key not in wanted or row.get("status") != "completed" or not row.get("train_seconds"):
            continue
        tokens = row_train_tokens(row, base, cache)
        if tokens and row.get("epochs_run"):
            samples.setdefault(key, []).append(row["train_seconds"] / (row["epochs_run"] * tokens))
    return capped_by_longer_prompts({key: min(values) for key, values in samples.items()})


def seconds_per_example(results_dirs: list[str | Path]) -> dict[tuple, float]:
    """The fastest training seconds per example and epoch of the completed rows under results_dirs, keyed as
    Job.similar: what times a (task, method) that this sweep has not run yet. The fastest, not the median: a
    shared machine only ever slows a run down (rows made next to other runs took up to 8x longer), so the
    fastest row is the closest to the run alone."""
    samples: dict[tuple, list[float]] = {}
    paths = [path for folder in results_dirs for path in sorted(Path(folder, "runs").glob("*/row.json"))]
    for path in paths:
        try:
            row = json.loads(path.read_text())
            config, record = row["config"], row.get("hyperparameters") or {}
            key = (config["task"]["name"], config["method"]["name"], config["model"]["name"],
                   int(config["task"]["max_length"]), record.get("precision_used", "fp32"),
                   config["method"].get("prompt_length"))
            per_example = row["train_seconds"] / (row["epochs_run"] * row["data"]["train_examples"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError, json.JSONDecodeError):
            continue
        if row.get("status") == "completed":
            samples.setdefault(key, []).append(per_example)
    return capped_by_longer_prompts({key: min(values) for key, values in samples.items()})


def capped_by_longer_prompts(rates: dict[tuple, float]) -> dict[tuple, float]:
    """rates (keys ending in the prompt length) with each length's rate lowered to the fastest at any longer length
    of the same other key fields: a longer prompt never costs less, so such a row proves the shorter prompt can run
    that fast, and its own (a single row slowed by a busy machine, up to 8x) must not time it, nor draw the line of
    at_other_prompt_lengths."""
    capped = dict(rates)
    for key, rate in rates.items():
        if key[-1] is not None:
            capped[key] = min([rate] + [other for longer, other in rates.items() if longer[:-1] == key[:-1]
                                        and longer[-1] is not None and longer[-1] > key[-1]])
    return capped


def at_other_prompt_lengths(rates: dict[tuple, float], similar: tuple) -> float | None:
    """Seconds per example for a prompt length with no row of its own (see seconds_per_example): the line through
    the rows of the same task, method, backbone, max length and precision at the two nearest other prompt lengths,
    never falling with the length; None without two such lengths."""
    *rest, length = similar
    known = [(key[-1], value) for key, value in rates.items() if list(key[:-1]) == rest and key[-1] is not None]
    if length is None or len(known) < 2:
        return None
    (near, near_rate), (far, far_rate) = sorted(known, key=lambda item: abs(item[0] - length))[:2]
    slope = max(0.0, (far_rate - near_rate) / (far - near))
    return max(0.0, near_rate + slope * (length - near))


def seconds_per_epoch(done: list[Job]) -> dict[tuple, float]:
    """The fastest training seconds per epoch of the done rows, keyed as Job.similar (see seconds_per_example): a
    done run at prompt length 4 does not time one at 128."""
    samples: dict[tuple, list[float]] = {}
    for job in done:
        epochs = job.row.get("epochs_run") or job.epochs
        if job.row.get("train_seconds") and epochs:
            samples.setdefault(job.similar, []).append(job.row["train_seconds"] / epochs)
    return {key: min(values) for key, values in samples.items()}


def summary(found: list[Job], timing_dirs: list[str | Path] = (), base=None) -> list[str]:
    done = [job for job in found if job.row is not None]
    rates = seconds_per_epoch(done)
    other_rates = seconds_per_example(timing_dirs)
    cells: dict[tuple[str, str], list[int]] = {}
    task_seconds: dict[str, float] = {}
    task_unknown: dict[str, int] = {}
    by_line, by_tokens = 0, 0  # jobs timed along the prompt length; by other tasks' rows, per token
    untimed: list[Job] = []
    counts: dict = {}  # train_examples' per (task, data): jobs of one split read it once
    for job in found:
        cell = cells.setdefault((job.task, job.method), [0, 0])
        cell[1] += 1
        if job.row is not None:
            cell[0] += 1
            continue
        if job.reusable:
            continue
        if job.similar in rates:
            seconds = rates[job.similar] * job.epochs
        elif job.similar in other_rates and job.examples(counts):
            seconds = other_rates[job.similar] * job.train_examples * job.epochs
        elif (rate := at_other_prompt_lengths(other_rates, job.similar)) is not None and job.examples(counts):
            seconds, by_line = rate * job.train_examples * job.epochs, by_line + 1
        else:
            untimed.append(job)
            continue
        task_seconds[job.task] = task_seconds.get(job.task, 0.0) + seconds
    cache: dict = {}  # train_tokens' per (task, model, data, limit): jobs and rows of one split tokenize it once
    wanted = {job.cost_key for job in untimed if job.tokens(cache)}
    token_rates = seconds_per_token(timing_dirs, wanted, base, cache) if wanted else {}
    for job in untimed:
        if job.train_tokens and job.cost_key in token_rates:
            seconds, by_tokens = token_rates[job.cost_key] * job.train_tokens * job.epochs, by_tokens + 1
            task_seconds[job.task] = task_seconds.get(job.task, 0.0) + seconds
        else:
            task_unknown[job.task] = task_unknown.get(job.task, 0) + 1
    left_seconds, unknown = sum(task_seconds.values()), sum(task_unknown.values())
    tasks = list(dict.fromkeys(job.task for job in found))
    methods = list(dict.fromkeys(job.method for job in found))
    lines = ["| task | " + " | ".join(methods) + " | hours left |", "|---|" + "---|" * (len(methods) + 1)]
    for task in tasks:
        lines.append(f"| {task} | " + " | ".join(
            "{}/{}".format(*cells[task, m]) if (task, m) in cells else "" for m in methods)
            + f" | {hours_left(task_seconds.get(task, 0.0), task_unknown.get(task, 0))} |")
    estimate = f"about {left_seconds / 3600:.1f} h of training for the runs with a done row to time them by"
    by_other = [f"{by_line} of them by rows at other prompt lengths"] * bool(by_line) + [
        f"{by_tokens} by rows of other tasks, per training token"] * bool(by_tokens)
    if by_other:
        estimate += f" ({'; '.join(by_other)})"
    if unknown:
        estimate += f"; {unknown} run(s) with no such row: not estimated"
    reusable = sum(job.reusable for job in found)
    if reusable:
        estimate += f"; {reusable} run(s) copy a finished twin under reuse_rows_from (no training)"
    lines += ["", f"{len(done)} of {len(found)} runs done, {len(found) - len(done)} left: {estimate}."]
    return lines


def hours_left(seconds: float, unknown: int) -> str:
    """A task's estimate: its timed hours, and how many of its runs could not be timed."""
    text = f"{seconds / 3600:.1f}" if seconds or not unknown else ""
    return text + (f"{' + ' if text else ''}{unknown} not timed" if unknown else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptune plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="sweep=NAME and any KEY=VALUE or KEY=A,B of the run")
    args = parser.parse_args(argv)
    found = jobs(args.overrides)
    timing_dirs = dict.fromkeys(folder for job in found for folder in (job.results_dir, job.reuse_rows_from) if folder)
    base = compose(found[0].overrides) if found else None  # the data_dir that rows without recorded tokens read
    print("\n".join(summary(found, list(timing_dirs), base)))
    return 0
