"""The measured cells of a table: which runs a table cell shows (used by the tables and their statistics)."""
from __future__ import annotations

from dataclasses import dataclass

from ptune.reports.labels import config_digest, method_rank, setting_label
from ptune.reports.table_specs import Column, TableSpec
from ptune.store.row import Row


def row_sort_key(key: tuple) -> tuple:
    model, method, psl, setting = key
    return (model, method_rank(method), -1 if psl is None else psl, setting)


@dataclass
class Cell:
    """One measured cell of a table: a table line (model, method, psl, setting) in one column, with the runs of the
    configuration it shows (the one with the most seeds; ties by digest, so that the choice never looks at the
    scores) and the runs of the other configurations it hides."""
    model: str
    method: str
    psl: int | None
    setting: str
    column: Column
    runs: list[Row]
    hidden: list[Row]

    @property
    def label(self) -> str:
        """The table line's source text."""
        return f"ptune ({self.setting})"


def line_groups(spec: TableSpec, rows: list[Row]) -> dict[tuple, list[Row]]:
    """(model, method, psl, setting) -> its rows of the table's tasks, in the tables' line order."""
    tasks = {column.task for column in spec.columns}
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        if row.task in tasks:
            groups.setdefault((row.model, row.method, row.prompt_length, setting_label(row)), []).append(row)
    return {key: groups[key] for key in sorted(groups, key=row_sort_key)}


def line_cells(key: tuple, runs: list[Row], spec: TableSpec) -> list[Cell | None]:
    """The cells of one table line, one per column (None where the line has no run of the column's task)."""
    cells = []
    for column in spec.columns:
        found = [row for row in runs if row.task == column.task]
        cells.append(Cell(*key, column, *shown_configuration(found)) if found else None)
    return cells


def shown_configuration(runs: list[Row]) -> tuple[list[Row], list[Row]]:
    """(the runs of the configuration a cell shows, the runs of the others it hides): the configuration with the
    most seeds; ties by digest, so that the choice never looks at the scores. `runs`: at least one."""
    by_config: dict[str, list[Row]] = {}
    for row in runs:
        by_config.setdefault(config_digest(row), []).append(row)
    chosen, *others = sorted(by_config, key=lambda digest: (-len(by_config[digest]), digest))
    return by_config[chosen], [row for digest in others for row in by_config[digest]]


def table_cells(spec: TableSpec, rows: list[Row]) -> list[Cell]:
    """Every measured cell of the table that holds a score, line by line."""
    return [cell for key, runs in line_groups(spec, rows).items() for cell in line_cells(key, runs, spec)
            if cell is not None and cell_scores(cell)]


def cell_scores(cell: Cell, epoch: str = "best") -> list[float]:
    column = cell.column
    return [v for v in (row.score(column.split, epoch, column.metric) for row in cell.runs) if v is not None]
