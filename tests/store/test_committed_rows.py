"""The committed rows pin the run ids: skip_done, resume, reuse and the tables find rows by them, so a change to
the config tree or to ptune/store/run_id.py that moves an id is caught here."""
from __future__ import annotations

from pathlib import Path

import pytest

from ptune.config.compose import compose
from ptune.store.find import completed_rows
from ptune.store.run_id import experiment_config, run_id, run_id_of
from ptune.sweeps.grid import grid

RESULTS = Path(__file__).resolve().parents[2] / "results"
FOLDERS = [folder for folder in (RESULTS, RESULTS / "search", RESULTS / "superseded") if (folder / "runs").is_dir()]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_every_committed_row_has_the_run_id_of_its_stored_config(folder):
    rows = completed_rows(folder)
    assert rows
    moved = [row.run_id for row in rows if run_id_of(row.config) != row.run_id]
    assert moved == []


def test_the_reproduction_sweep_composes_to_the_committed_rows():
    """Every job of `ptune run sweep=reproduce_minilm` has its row under results/runs, and composing it today
    gives the config the row stores."""
    committed = {row.run_id: row for row in completed_rows(RESULTS)}
    jobs = grid(["sweep=reproduce_minilm"])
    assert len(jobs) == 72
    for overrides in jobs:
        cfg = compose(overrides)
        identifier = run_id(cfg)
        assert identifier in committed, overrides
        assert committed[identifier].config == experiment_config(cfg)
