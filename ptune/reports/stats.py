"""Which differences in the tables are real: each cell's interval, paired comparisons, aggregates across tasks.

    stats = table_stats(load_table_specs(), rows, Path("results"), Settings(replicates=10_000, seed=0))
    write_stats(stats, Path("results/tables/stats.json"))        # `ptune table` does both

From the runs' saved predictions (ptune/reports/units.py), no re-runs. Scores are percent, as in the tables.
- A cell (the runs a table cell shows): mean, sample std, n seeds; its 95% interval from a two-level bootstrap
  (per replicate: the seeds drawn with replacement, then the examples, the metric recomputed); the trivial
  baseline (majority class; no entity; the empty answer) and whether the interval's low end clears it.
- A comparison, in each group of table lines with the same model, column and source text: each method's cell
  against the reference method's (default finetune), paired on the same examples (one example draw for both sides
  per replicate): delta of the means, its interval, a two-sided bootstrap p, Holm's p over one table's comparisons,
  a verdict at `alpha` (better / worse / no difference), and whether the method is within `margin` points of the
  reference (yes: the interval's low end is above -margin; no: its high end is below; else undecided).
- An aggregate, per model and source text: each method's mean over the tasks where every method has a cell (a
  task's primary-metric column, the first in the tables), an interval from the cells' bootstrap replicates (a
  stratified bootstrap: each task resampled on its own), and its probability of improvement over the reference.
The same rows, seed and count give the same file byte for byte.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ptune.reports.bootstrap import (
    draw_rng,
    holm,
    interval,
    probability_of_improvement,
    replicate_scores,
    seed_mix,
    two_sided_p,
)
from ptune.reports.cells import Cell, table_cells
from ptune.reports.labels import setting_label
from ptune.reports.table_specs import Column, TableSpec
from ptune.reports.units import Reader
from ptune.store.row import Row

VERSION = 1


@dataclass(frozen=True)
class Settings:
    replicates: int = 10_000
    seed: int = 0
    reference: str = "finetune"
    margin: float = 1.0
    alpha: float = 0.05


def number(value: float | None, digits: int = 4):
    return None if value is None else round(float(value), digits)


def cell_key(cell: Cell) -> str:
    column = cell.column
    return "|".join(map(str, (cell.model, cell.label, cell.method, cell.psl, column.task, column.split, column.metric)))


class Engine:
    """Reads every cell's runs into unit statistics and draws their bootstrap replicates (one draw per unit set)."""

    def __init__(self, results_dir: Path | None, settings: Settings, data_dir=None, folders: dict | None = None):
        self.settings, self.reader = settings, Reader(results_dir, data_dir, folders)
        self.units: dict[tuple, object] = {}
        self.replicates: dict[tuple, np.ndarray] = {}

    def scored(self, cell: Cell) -> list[Row]:
        column = cell.column
        return [row for row in cell.runs if row.score(column.split, metric=column.metric) is not None]

    def load(self, cells: list[Cell]) -> None:
        for cell in cells:
            for row in self.scored(cell):
                key = (row.run_id, cell.column.split, cell.column.metric)
                if key not in self.units:
                    self.units[key] = self.reader.units(row, *key[1:])
        groups: dict[tuple, list[tuple]] = {}
        for key, units in self.units.items():
            if units is not None and key not in self.replicates:
                groups.setdefault(units.ids, []).append(key)
        for keys in groups.values():
            scores = replicate_scores([self.units[key] for key in keys], self.settings.replicates, self.settings.seed)
            self.replicates.update(zip(keys, scores))

    def keys(self, cell: Cell) -> list[tuple]:
        return [(row.run_id, cell.column.split, cell.column.metric) for row in self.scored(cell)]

    def cell_replicates(self, cell: Cell) -> np.ndarray | None:
        keys = self.keys(cell)
        if not keys or any(key not in self.replicates for key in keys):
            return None
        return seed_mix(np.stack([self.replicates[key] for key in keys]), draw_rng(self.settings.seed, cell_key(cell)))

    def unit_ids(self, cell: Cell) -> set:
        return {self.units[key].ids for key in self.keys(cell) if self.units.get(key) is not None}


def describe(cell: Cell, table: str, engine: Engine, replicates: np.ndarray | None) -> dict:
    scores = [row.score(cell.column.split, metric=cell.column.metric) for row in engine.scored(cell)]
    first = engine.units.get(engine.keys(cell)[0])
    baseline = None if first is None else first.baseline
    ci = None if replicates is None else interval(replicates)
    return {"table": table, "model": cell.model, "task": cell.column.task, "split": cell.column.split,
            "metric": cell.column.metric, "column": cell.column.label, "label": cell.label, "method": cell.method,
            "psl": cell.psl, "runs": sorted(row.run_id for row in engine.scored(cell)), "n": len(scores),
            "mean": number(statistics.fmean(scores)),
            "std": number(statistics.stdev(scores)) if len(scores) > 1 else None,
            "ci95": None if ci is None else [number(ci[0]), number(ci[1])], "baseline": number(baseline),
            "above_baseline": None if ci is None or baseline is None else bool(ci[0] > baseline)}


def compare(cell: dict, reference: dict, deltas: np.ndarray, settings: Settings) -> dict:
    low, high = interval(deltas)
    margin = "yes" if low > -settings.margin else "no" if high < -settings.margin else "undecided"
    return {"table": cell["table"], "model": cell["model"], "task": cell["task"], "split": cell["split"],
            "metric": cell["metric"], "column": cell["column"], "label": cell["label"], "method": cell["method"],
            "psl": cell["psl"], "reference": reference["method"],
            "runs": {"method": cell["runs"], "reference": reference["runs"]},
            "delta": number(cell["mean"] - reference["mean"]), "ci95": [number(low), number(high)],
            "p": number(two_sided_p(deltas), 5), "p_holm": None, "verdict": None, "within_margin": margin}


def verdict(p: float, delta: float, alpha: float) -> str:
    """better / worse where `p` (Holm's, in a table) is below `alpha`, else no difference."""
    return "no difference" if p >= alpha else "better" if delta > 0 else "worse"


def table_stats(specs: list[TableSpec], rows: list[Row], results_dir: Path, settings: Settings = Settings(),
                data_dir=None, left_out: dict | None = None) -> dict:
    """stats.json's content for the tables `specs` render from `rows` (see the module's docstring); `left_out`
    gets run id -> why its predictions gave no statistics (its cell then has no interval)."""
    engine = Engine(results_dir, settings, data_dir)
    engine.reader.why = left_out if left_out is not None else {}
    by_table = {spec.name: table_cells(spec, rows) for spec in specs}
    engine.load([cell for cells in by_table.values() for cell in cells])
    cells, comparisons, replicates, pairs = [], [], {}, []
    for table, found in by_table.items():
        groups: dict[tuple, list[tuple[Cell, dict]]] = {}
        for cell in found:
            replicates[id(cell)] = engine.cell_replicates(cell)
            cells.append(describe(cell, table, engine, replicates[id(cell)]))
            pairs.append((cell, cells[-1]))
            groups.setdefault((cell.model, cell.column.label, cell.label), []).append((cell, cells[-1]))
        mine = []
        for group in groups.values():
            references = [pair for pair in group if pair[0].method == settings.reference]
            if len(references) != 1 or replicates[id(references[0][0])] is None:
                continue
            reference, described = references[0]
            for cell, entry in group:
                paired = engine.unit_ids(cell) | engine.unit_ids(reference)
                if cell is reference or replicates[id(cell)] is None or len(paired) != 1:
                    continue
                mine.append(compare(entry, described, replicates[id(cell)] - replicates[id(reference)], settings))
        for comparison, adjusted in zip(mine, holm([c["p"] for c in mine])):
            comparison["p_holm"] = number(adjusted, 5)
            comparison["verdict"] = verdict(adjusted, comparison["delta"], settings.alpha)
        comparisons += mine
    return {"version": VERSION, "bootstrap": {"replicates": settings.replicates, "seed": settings.seed,
                                              "reference": settings.reference, "margin": settings.margin,
                                              "alpha": settings.alpha},
            "cells": cells, "comparisons": comparisons,
            "aggregates": aggregates(pairs, engine, replicates, settings)}


def compare_runs(method: list[Row], reference: list[Row], column: Column, folders: dict[str, Path],
                 settings: Settings = Settings(), data_dir=None) -> tuple[list[dict], dict | None, dict]:
    """Any two sets of runs (one task) on one column: both cells as stats.json describes them and the paired
    comparison of the first against the second (None where they were not scored on the same units); the third
    value says why a run was left out. `folders`: run id -> its run folder."""
    engine = Engine(None, settings, data_dir, folders)
    # the tables' cell of the same runs draws the same seeds: the same runs give the numbers stats.json holds
    cells = [Cell(runs[0].model, runs[0].method, runs[0].prompt_length, setting_label(runs[0]), column, runs, [])
             for runs in (method, reference)]
    engine.load(cells)
    draws = [engine.cell_replicates(cell) for cell in cells]
    described = [describe(cell, "compare", engine, found) for cell, found in zip(cells, draws)]
    comparison = None
    if all(found is not None for found in draws) and len(engine.unit_ids(cells[0]) | engine.unit_ids(cells[1])) == 1:
        comparison = compare(described[0], described[1], draws[0] - draws[1], settings)
        comparison["reference"] = described[1]["method"]
        comparison["p_holm"] = comparison["p"]  # one comparison: nothing to correct for
        comparison["verdict"] = verdict(comparison["p"], comparison["delta"], settings.alpha)
    return described, comparison, engine.reader.why


def aggregates(pairs: list[tuple[Cell, dict]], engine: Engine, replicates: dict, settings: Settings) -> list[dict]:
    """Per (model, label): each method's mean over the tasks where every method has one primary-metric cell."""
    primary: dict[tuple, str] = {}  # (model, label, task) -> the first primary-metric column in the tables
    by_group: dict[tuple, dict] = {}
    for cell, entry in pairs:
        if cell.column.metric != cell.runs[0].primary_metric or replicates[id(cell)] is None:
            continue
        column = primary.setdefault((cell.model, cell.label, cell.column.task), cell.column.label)
        if column == cell.column.label:
            by_group.setdefault((cell.model, cell.label), {}).setdefault(cell.method, {}).setdefault(
                cell.column.task, []).append((cell, entry))
    out = []
    for (model, label), methods in by_group.items():
        # a task where a method has cells of several prompt lengths does not say which one to average
        tasks = sorted(set.intersection(*({task for task, found in cells.items() if len(found) == 1}
                                          for cells in methods.values())))
        if len(methods) < 2 or len(tasks) < 2:
            continue
        reference = methods.get(settings.reference)
        for method, cells in methods.items():
            chosen = [cells[task][0] for task in tasks]
            low, high = interval(np.mean([replicates[id(cell)] for cell, _ in chosen], axis=0))
            improvement = None
            if reference is not None and method != settings.reference:
                improvement = statistics.fmean(probability_of_improvement(
                    [row.score(cell.column.split, metric=cell.column.metric) for row in engine.scored(cell)],
                    [row.score(cell.column.split, metric=cell.column.metric) for row in engine.scored(theirs)])
                    for (cell, _), (theirs, _) in zip(chosen, (reference[task][0] for task in tasks)))
            out.append({"model": model, "label": label, "method": method, "tasks": tasks,
                        "mean": number(statistics.fmean(entry["mean"] for _, entry in chosen)),
                        "ci95": [number(low), number(high)], "p_improvement": number(improvement)})
    return out


def write_stats(stats: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stats, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
