"""scripts/check_stats.py: its own bootstrap of RTE ptv2 against finetune agrees with the committed stats.json, and
it says so when stats.json is off."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import check_stats  # noqa: E402


@pytest.mark.slow
def test_rte_ptv2_against_finetune_agrees_with_stats_json(real_data_dir, tmp_path, capsys):
    assert check_stats.main(["--data-dir", str(real_data_dir)]) == 0
    assert "agree" in capsys.readouterr().out
    stats = json.loads((ROOT / "results" / "tables" / "stats.json").read_text())
    for comparison in stats["comparisons"]:
        comparison["ci95"] = [comparison["ci95"][0] - 2.0, comparison["ci95"][1]]
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "stats.json").write_text(json.dumps(stats))
    (tmp_path / "runs").symlink_to(ROOT / "results" / "runs")
    assert check_stats.main(["--data-dir", str(real_data_dir), "--results", str(tmp_path)]) == 1
    assert "DISAGREE" in capsys.readouterr().out
