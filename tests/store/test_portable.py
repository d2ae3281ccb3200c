"""Paths written into rows: relative to the working folder, to data_dir, or marked local."""
from __future__ import annotations

from ptune.store.portable import portable_argument, portable_path


def test_portable_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    data = tmp_path.parent / "shared-data-beside"
    assert portable_path(tmp_path / "results") == "results"
    assert portable_path(data) == "../shared-data-beside"
    assert portable_path("/elsewhere/data/super_glue/RTE", "/elsewhere/data") == "<data_dir>/super_glue/RTE"
    assert portable_path("/elsewhere/other/outputs") == "<local>/outputs"
    assert portable_argument(f"paths.results_dir={tmp_path}/results") == "paths.results_dir=results"
    assert portable_argument("method.lr=0.01") == "method.lr=0.01"
