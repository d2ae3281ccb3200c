"""Names kept for code written before the store was split (ptune/sweeps/plan.py, scripts/results_report.py).

New code imports from the module that owns each: ptune.store.find (completed_rows, completed_row),
ptune.store.row (Row.score), ptune.store.run_id (run_id, experiment_config).
"""
from __future__ import annotations

from ptune.store.find import completed_row
from ptune.store.find import completed_rows as load_rows
from ptune.store.row import Row
from ptune.store.run_id import experiment_config, run_id

__all__ = ["completed_row", "dev_score", "experiment_config", "load_rows", "run_id"]


def dev_score(row: Row) -> float:
    """The best dev epoch's score of the primary metric: Row.score()."""
    return row.score()
