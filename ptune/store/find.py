"""Finding rows: the one walker of results folders (<results_dir>/runs/<run id>/row.json).

    completed_rows(results_dir)          every completed row, sorted by run id (what the tables read)
    completed_row(results_dir, run_id)   the run's completed row, if it has one (what skip_done skips)
    run_folder(run, results_dir)         a run folder from its path, its run id or a unique prefix (`ptune eval`)
    completed_twins(folder, stem)        the completed rows of runs whose id starts with stem (ptune/store/reuse.py)
"""
from __future__ import annotations

import json
from pathlib import Path

from ptune.errors import ConfigError
from ptune.store.row import Row

ROW_FILE = "row.json"


def run_path(results_dir: str | Path, run_id: str) -> Path:
    """Where run `run_id`'s folder is (or will be) under results_dir."""
    return Path(results_dir) / "runs" / run_id


def read_row(folder: Path) -> Row:
    return Row.from_json(json.loads((Path(folder) / ROW_FILE).read_text()))


def completed_rows(results_dir: str | Path) -> list[Row]:
    """Every completed row under results_dir/runs, sorted by run id."""
    found = (read_row(path.parent) for path in sorted(Path(results_dir).glob(f"runs/*/{ROW_FILE}")))
    return [row for row in found if row.status == "completed"]


def completed_row(results_dir: str | Path, run_id: str) -> Row | None:
    """The run's completed row, if it has one (what skip_done=true skips)."""
    folder = run_path(results_dir, run_id)
    if not (folder / ROW_FILE).is_file():
        return None
    row = read_row(folder)
    return row if row.status == "completed" else None


def completed_twins(folder: str | Path, stem: str) -> list[tuple[Path, Row]]:
    """(run folder, row) of every completed run under folder/runs whose id is `stem`-<hash>, sorted by run id."""
    paths = sorted(Path(folder).glob(f"runs/{stem}-*/{ROW_FILE}"))
    return [(path.parent, row) for path in paths if (row := read_row(path.parent)).status == "completed"]


def run_folder(run: str, results_dir: Path) -> Path:
    """A run folder given as a path, a run id, or a unique prefix of one under results_dir/runs."""
    if (Path(run) / ROW_FILE).is_file():
        return Path(run)
    runs = Path(results_dir) / "runs"
    matches = sorted(p.parent for p in runs.glob(f"{Path(run).name}*/{ROW_FILE}"))
    exact = [p for p in matches if p.name == Path(run).name]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    if not matches:
        raise ConfigError(f"run={run!r}: no run folder with a row.json at {run} or under {runs}; "
                          f"pass a folder or set paths.results_dir")
    raise ConfigError(f"run={run!r} matches {len(matches)} runs ({', '.join(p.name for p in matches[:5])}); "
                      f"give more of the run id")
