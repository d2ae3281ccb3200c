"""The benchmark script runs and prints its figures (their values are the machine's, never asserted)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "benchmark.py"


def test_benchmark_prints_one_row_per_method():
    result = subprocess.run([sys.executable, str(SCRIPT), "--model", "tiny-bert", "--steps", "1", "--warmup", "0",
                             "--batch-size", "2", "--length", "16", "--methods", "finetune,ptv2"],
                            capture_output=True, text=True, timeout=300, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "| method | train examples/s | peak memory MiB | trainable params | trainable % |" in lines
    rows = {line.split("|")[1].strip(): line for line in lines if line.startswith("| finetune") or line.startswith("| ptv2")}
    assert set(rows) == {"finetune", "ptv2"}
    assert rows["finetune"].rstrip(" |").endswith("100.000")
