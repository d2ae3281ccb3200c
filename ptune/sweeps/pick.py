"""Settings chosen by a search: per (task, method), the searched values with the best dev score, as a preset.

    ptune pick sweep=search_minilm_ptv2 data_dir=../shared/data           # the choice per (task, method)
    ptune pick sweep=search_minilm_ptv2 data_dir=../shared/data --write   # and write them as by_run presets

The runs are the sweep's grid (as `ptune plan` expands it). A (task, method) is picked only when every one of
its runs has a completed row; the searched keys are the overrides whose values differ between those runs
(method.lr, prompt_length, ...), and prompt_length always for a method with prompts, since the final runs repeat
it (prompt and prefix tuning search the learning rate only, at ptv2's chosen prompt length). The score is the
task's primary metric at the best dev epoch (one seed per setting: the paper's practice); ties go to the better
last-epoch score, then to the earlier run of the grid. A winner at the smallest or largest of three or more
searched values of a numeric key (a learning rate) is flagged, printed and in the preset's comment: the best
setting may lie outside the grid, so extend it there before trusting the cell: a sweep file
conf/sweep/<search>_<task>.yaml that includes the search (its defaults list) and sets that task's wider grid runs
and picks the task on its own (`ptune pick sweep=<search>_<task>`; the shared search then leaves the task alone).
--write puts the winner's searched values into conf/preset/by_run/<preset>_<method>_<model>_<task>.yaml, which
`preset=<preset>` then applies to the final runs; its comment lists every candidate's score.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import yaml
from omegaconf import OmegaConf

from ptune.config.compose import by_run_preset_path, compose, config_dir
from ptune.model.methods.schemas import prompt_length_of
from ptune.store.portable import portable_path
from ptune.store.row import Row
from ptune.sweeps.grid import Job, jobs


@dataclass
class Choice:
    task: str
    method: str
    keys: list[str]  # the searched override keys
    ranked: list[tuple[tuple, Job]]  # (score key, job), best first
    preset: str
    model: str
    sweep: str

    @property
    def best(self) -> Job:
        return self.ranked[0][1]

    def scores(self) -> list[tuple[float, float, Job]]:
        """(best-epoch, last-epoch, job) per candidate, best first."""
        return [(best, last, job) for ((best, last), _), job in self.ranked]

    def values(self, job: Job) -> dict[str, str]:
        """The job's value of each searched key: its override, else its row's config's (prompt_length)."""
        found = dict(override.split("=", 1) for override in job.overrides if "=" in override)
        if any(key not in found for key in self.keys):
            config = OmegaConf.create(job.row.config)
            found |= {key: str(OmegaConf.select(config, key)) for key in self.keys if key not in found}
        return {key: found[key] for key in self.keys}

    def at_grid_edges(self) -> list[str]:
        """A sentence per searched numeric key with three or more values whose winning value is the smallest or
        largest searched (two values are always both edges, so prompt_length 16/64 is never flagged)."""
        flagged = []
        for key in self.keys:
            seen = {self.values(job)[key] for _, job in self.ranked}
            try:
                numbers = sorted((float(value), value) for value in seen)
            except ValueError:
                continue
            winner = float(self.values(self.best)[key])
            if len(numbers) >= 3 and winner in (numbers[0][0], numbers[-1][0]):
                side = "largest" if winner == numbers[-1][0] else "smallest"
                flagged.append(f"{key}={self.values(self.best)[key]} is the {side} of the {len(numbers)} searched "
                               f"({numbers[0][1]} to {numbers[-1][1]}): the best may lie beyond it")
        return flagged

    def path(self) -> Path:
        return by_run_preset_path(self.preset, self.method, self.model, self.task)


def dev_scores(row: Row) -> tuple[float, float]:
    """(best-epoch, last-epoch) dev score of the row's primary metric (a row without a last epoch's: -inf)."""
    last = row.score(epoch="last")
    return row.score(), float("-inf") if last is None else last


def choices(found: list[Job], sweep: str) -> tuple[list[Choice], list[str]]:
    """The picks for the (task, method) groups whose runs are all done; a line for each group that is not."""
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in found:
        groups.setdefault((job.task, job.method), []).append(job)
    picked, waiting = [], []
    for (task, method), group in groups.items():
        own_grid = f"{sweep}_{task}"
        if (config_dir() / "sweep" / f"{own_grid}.yaml").is_file():
            waiting.append(f"{task} {method}: not picked here: the task has its own grid, "
                           f"ptune pick sweep={own_grid} picks it")
            continue
        done = [job for job in group if job.row is not None]
        if len(done) < len(group):
            waiting.append(f"{task} {method}: {len(done)}/{len(group)} search runs done, not picked yet")
            continue
        keys = searched_keys(group)
        cfg = compose(group[0].overrides)
        if prompt_length_of(cfg.method) is not None and "prompt_length" not in keys:
            keys.append("prompt_length")  # the final runs repeat the winner's prompt length, searched or not
        ranked = sorted(((dev_scores(job.row), -order), job) for order, job in enumerate(group))
        ranked.reverse()
        preset = dict(o.split("=", 1) for o in group[0].overrides if "=" in o).get("preset", "none")
        picked.append(Choice(task, method, keys, [(score, job) for score, job in ranked], preset,
                             str(cfg.model.name), sweep))
    return picked, waiting


def searched_keys(group: list[Job]) -> list[str]:
    values: dict[str, set[str]] = {}
    for job in group:
        for override in job.overrides:
            key, _, value = override.partition("=")
            values.setdefault(key, set()).add(value)
    return [key for key, seen in values.items() if len(seen) > 1 and key != "seed"]


def preset_text(choice: Choice) -> str:
    metric = choice.best.row.primary_metric
    lines = ["# @package _global_",
             f"# Chosen by `ptune pick sweep={choice.sweep}`: the best dev {metric} (best epoch, seed 1) of its "
             f"{len(choice.ranked)} runs",
             f"# of {choice.method} on {choice.task} (rows under {portable_path(choice.best.results_dir)}/runs/):"]
    for best, last, job in choice.scores():
        setting = " ".join(f"{k}={v}" for k, v in choice.values(job).items())
        lines.append(f"#   {setting}: best {best:.2f}, last {last:.2f}  ({job.run_id})")
    lines += [f"# At the edge of the grid: {edge}." for edge in choice.at_grid_edges()]
    lines.append(f'preset_applied: "{choice.preset}: {", ".join(choice.keys)} chosen by sweep={choice.sweep}"')
    nested: dict = {}
    for key, value in choice.values(choice.best).items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = yaml.safe_load(value)
    return "\n".join(lines) + "\n" + yaml.safe_dump(nested, sort_keys=False)


def written_setting(path: Path) -> dict | None:
    """The values a by_run preset sets (None when there is none yet)."""
    if not path.is_file():
        return None
    loaded = yaml.safe_load(path.read_text()) or {}
    return {key: value for key, value in loaded.items() if key != "preset_applied"}


def flat(setting: dict, prefix: str = "") -> str:
    """{"method": {"lr": 0.01}, "prompt_length": 64} -> "method.lr=0.01 prompt_length=64"."""
    return " ".join(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else f"{prefix}{key}={value}"
                    for key, value in setting.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptune pick", description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="sweep=NAME (a search sweep) and any KEY=VALUE of its runs")
    parser.add_argument("--write", action="store_true", help="write the picks as conf/preset/by_run/*.yaml")
    args = parser.parse_args(argv)
    sweep = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("sweep=")), None)
    if sweep is None:
        raise SystemExit("ptune pick: name the search, e.g. ptune pick sweep=search_minilm_ptv2 data_dir=...")
    picked, waiting = choices(jobs(args.overrides), sweep)
    for choice in picked:
        best = choice.scores()[0][0]
        setting = " ".join(f"{k}={v}" for k, v in choice.values(choice.best).items())
        print(f"{choice.task} {choice.method}: {setting} (dev {best:.2f} of {len(choice.ranked)} runs)")
        for edge in choice.at_grid_edges():
            print(f"  at the edge of the grid: {edge}")
        if args.write:
            previous = written_setting(choice.path())
            choice.path().write_text(preset_text(choice))
            print(f"  wrote {choice.path()}")
            if previous is not None and previous != written_setting(choice.path()):
                print(f"  changed: it was {flat(previous)}. Final rows made at that setting stay in the tables "
                      "(a footnote marks the other setting) until they leave the results' runs/ folder, e.g. for "
                      "results/superseded/runs/")
    print("\n".join(waiting))
    return 0
