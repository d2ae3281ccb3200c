"""Comparison tables, generated from the result rows beside the published reference numbers.

    ptune table [--results DIR] [--out DIR] [--reference DIR] [--tables superglue,tagging,qa]

Reads the completed rows <results>/runs/*/row.json, the table definitions conf/table/*.yaml (one column =
label, task, split, metric) and the published numbers in <reference>/published.csv (ptune/reports/reference.py);
writes <out>/<table>.md (default <results>/tables). The same inputs give byte-identical files.

A table row is one configuration: (model, method, prompt length, setting), where the setting names the
trainer and preset (and a split_dev / training cut when used). A cell pools the seeds of one task run with
otherwise identical configs: mean +- sample std (n); so rows of different task versions, templates or WSC
variants are never pooled, and a cell names its runs' template / variant / version (above 1) after a "·".
Rows made before tasks had a version count as version 1. If a cell has runs of several configs, it shows the
one with the most seeds and a footnote lists the others' run ids.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from ptune.reports.cells import cell_scores, line_cells, line_groups
from ptune.reports.labels import method_rank
from ptune.reports.markdown import markdown_table
from ptune.reports.reference import UNSPECIFIED_MODEL, Reference, load_references
from ptune.reports.stats_markdown import comparison_section, interval_texts
from ptune.reports.table_specs import Column, TableSpec, load_table_specs
from ptune.store.row import Row


def task_protocol(row: Row) -> str:
    """What of the task's own protocol a cell should show: template, WSC variant, version when above 1."""
    task = row.config.get("task", {})
    parts = [str(task[key]) for key in ("template", "variant") if task.get(key)]
    version = int(task.get("version") or 1)  # rows made before task versions existed are version 1
    return " · ".join(parts + ([f"v{version}"] if version != 1 else []))


def format_cell(values: list[float]) -> str:
    if not values:
        return ""
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.1f} (1)"
    return f"{mean:.1f} ± {statistics.stdev(values):.1f} ({len(values)})"


def format_percent(values) -> str:
    shown = sorted({f"{value:.3g}" for value in values if value is not None}, key=float)
    if not shown:
        return ""
    return shown[0] if len(shown) == 1 else f"{shown[0]}–{shown[-1]}"


def selection_cell(runs: list[Row]) -> str:
    """Which epoch the dev score selected, over a cell's runs: "median best epoch (min-max) / epochs run"."""
    best = sorted(run.best_epoch for run in runs if run.best_epoch)
    epochs = max((run.epochs_run or 0 for run in runs), default=0)
    if not best or not epochs:
        return ""
    spread = f" ({best[0]}-{best[-1]})" if best[0] != best[-1] else ""
    return f"{statistics.median(best):g}{spread} / {epochs}"


def measured_lines(spec: TableSpec, rows: list[Row], footnotes: list[str], selection: list[list[str]] | None = None,
                   last: list[list[str]] | None = None, intervals: dict | None = None) -> dict[str, list[list[str]]]:
    """Table lines of the result rows, per model: model, method, psl, source, trainable %, cells; with
    `selection`, the same lines with each cell's best-dev-epoch selection are appended to it; with `last`, the
    same lines with each cell's score at the last epoch (no selection on dev). `intervals`: (model, label, column
    label, method, psl) -> the text that follows a cell's mean ± std (n) (its interval; ptune/reports/stats.py)."""
    lines: dict[str, list[list[str]]] = {}
    for key, runs in line_groups(spec, rows).items():
        model, method, psl, setting = key
        cells, shown_runs, selected, at_last = [], [], [], []
        for found in line_cells(key, runs, spec):
            if found is None:
                cells.append("")
                selected.append("")
                at_last.append("")
                continue
            shown_runs += found.runs
            selected.append(selection_cell(found.runs))
            at_last.append(format_cell(cell_scores(found, "last")))
            cell = format_cell(cell_scores(found))
            if cell and intervals:
                cell += intervals.get((model, found.label, found.column.label, method, psl), "")
            protocol = task_protocol(found.runs[0])
            if cell and protocol:
                cell += f" · {protocol}"
            if found.hidden and cell:
                hidden = sorted(row.run_id for row in found.hidden)
                footnotes.append(f"{model} / {method} / {found.column.label}: runs with other settings not shown: "
                                 + ", ".join(hidden))
                cell += f" [{len(footnotes)}]"
            cells.append(cell)
        if not any(cells):
            continue
        percent = format_percent(run.params.get("trainable_percent") for run in shown_runs)
        psl_text = "" if psl is None else str(psl)
        lines.setdefault(model, []).append([model, method, psl_text, f"ptune ({setting})", percent, *cells])
        if selection is not None:
            selection.append([model, method, psl_text, f"ptune ({setting})", *selected])
        if last is not None:
            last.append([model, method, psl_text, f"ptune ({setting})", *at_last])
    return lines


def reference_lines(spec: TableSpec, references: list[Reference]) -> dict[str, list[list[str]]]:
    """Table lines of the published numbers, per model: one line per (model, method, source)."""
    by_line: dict[tuple, dict[Column, Reference]] = {}
    for reference in references:
        for column in spec.columns:
            if (reference.task, reference.split, reference.metric) == (column.task, column.split, column.metric):
                by_line.setdefault((reference.model, reference.method, reference.source), {})[column] = reference
    lines: dict[str, list[list[str]]] = {}
    for (model, method, source), found in sorted(
            by_line.items(), key=lambda item: (item[0][0], item[0][2].key, method_rank(item[0][1]))):
        lengths = {ref.prompt_length for ref in found.values()}
        psl = "" if lengths == {None} else str(lengths.pop()) if len(lengths) == 1 else "per task"
        cells = []
        for column in spec.columns:
            ref = found.get(column)
            text = "" if ref is None else f"{ref.value:.1f}"
            if ref is not None and psl == "per task" and ref.prompt_length is not None:
                text += f" · psl {ref.prompt_length}"
            cells.append(text)
        percent = format_percent(ref.trainable_percent for ref in found.values())
        lines.setdefault(model, []).append([model, method, psl, source.display, percent, *cells])
    return lines


def render(spec: TableSpec, rows: list[Row], references: list[Reference], stats: dict | None = None) -> str:
    """The table's markdown; with `stats` (ptune/reports/stats.py) each cell shows its interval and a comparison
    table follows the scores."""
    footnotes: list[str] = []
    selection: list[list[str]] = []
    last: list[list[str]] = []
    measured = measured_lines(spec, rows, footnotes, selection, last, stats and interval_texts(stats))
    published = reference_lines(spec, references)
    header = ["model", "method", "psl", "source", "trainable %", *(column.label for column in spec.columns)]
    out = [f"# {spec.title}", "", "Generated by `ptune table` from the result rows; do not edit by hand.", "",
           f"{spec.note} ptune cells: mean ± sample standard deviation (number of seeds) over runs of one "
           "configuration; after a \"·\": the task template, WSC variant and task version (above 1) of those runs. "
           "Published rows: one run each, labelled by source; \"(unverified)\" marks numbers not "
           "checked against the paper. psl = prompt length.", ""]
    if not measured:
        out += ["No result rows for this table yet; the published numbers only.", ""]
    models = sorted(set(measured) | set(published), key=lambda name: (name == UNSPECIFIED_MODEL, name))
    out.append(markdown_table(header, [line for model in models
                                       for line in measured.get(model, []) + published.get(model, [])]))
    if footnotes:
        out += ["", *(f"[{number}] {text}" for number, text in enumerate(footnotes, start=1))]
    if stats:
        out += comparison_section(spec, stats)
    if selection:
        columns = ["model", "method", "psl", "source", *(column.label for column in spec.columns)]
        out += ["", "Selection: the epoch whose dev score each cell reports (median over its runs, min-max) / epochs "
                "run. A best epoch at the end of the schedule means the dev score was still rising.", "",
                markdown_table(columns, selection)]
    if any(any(line[4:]) for line in last):
        columns = ["model", "method", "psl", "source", *(column.label for column in spec.columns)]
        out += ["", "Last epoch: the same runs scored at the end of their schedule, with no epoch chosen on the "
                "scored split (mean ± sample std (n)). Where this is far below the table above, the best-epoch "
                "score owes much to picking one of many noisy evaluations.", "",
                markdown_table(columns, last)]
    sources = sorted({ref.source for ref in references if any(
        (ref.task, ref.split, ref.metric) == (c.task, c.split, c.metric) for c in spec.columns)}, key=lambda s: s.key)
    if sources:
        out += ["", "Sources:", *(f"- {source.display}: {source.citation}" for source in sources)]
    return "\n".join(out) + "\n"


def write_tables(rows: list[Row], out_dir: Path, reference_dir: Path | None, names: list[str] | None = None,
                 stats: dict | None = None):
    """Render every (or the named) table from `rows` (with `stats`: intervals and comparisons); returns the files
    written."""
    specs = load_table_specs()
    known = [spec.name for spec in specs]
    unknown = sorted(set(names or []) - set(known))
    if unknown:
        raise SystemExit(f"ptune table: unknown table(s) {unknown}; choose from {known}")
    references = load_references(reference_dir) if reference_dir else []
    written = []
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for spec in specs:
        if names and spec.name not in names:
            continue
        path = Path(out_dir) / f"{spec.name}.md"
        path.write_text(render(spec, rows, references, stats))
        written.append(path)
    return written


