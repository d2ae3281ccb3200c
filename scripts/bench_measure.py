"""One measurement of `make bench`, in its own process: ptune through its real runner, or a peer.

    python scripts/bench_measure.py '<spec JSON>'     # what scripts/benchmark.py runs for each measurement

The last line of its output is `BENCH_RESULT {json}`: the figures, or status "failed" with the error.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, str(Path(__file__).resolve().parent))

MARK = "BENCH_RESULT "


def measure(spec: dict) -> dict:
    import torch

    from ptune.config.compose import compose
    from ptune.model.device import pick_device

    cfg = compose(spec["overrides"])
    device = pick_device(cfg.device)
    if spec["warmup"]:
        warm_up(device)
    if spec["implementation"] == "ptune":
        return measure_ptune(spec, device)
    if spec["peers_file"]:
        import runpy

        runpy.run_path(spec["peers_file"])
    from bench_peers import train_peer

    dtype = {"fp32": None, "bf16": torch.bfloat16}[spec["precision"]]
    result = train_peer(spec["implementation"], cfg, device, dtype)
    return result | {"precision_used": spec["precision"], "device": str(device)}


def measure_ptune(spec: dict, device) -> dict:
    from ptune.config.compose import compose
    from ptune.train.runner import execute

    with tempfile.TemporaryDirectory(prefix="ptune-bench-") as scratch:
        cfg = compose([*spec["overrides"], f"trainer.precision={spec['precision']}", f"paths.results_dir={scratch}",
                       f"paths.output_dir={scratch}/outputs", *spec["ptune"]])
        row = execute(cfg)
    steps = -(-row.data["train_examples"] // cfg.trainer.batch_size) * cfg.trainer.epochs
    return {"train_seconds": row.train_seconds, "train_examples": row.data["train_examples"] * cfg.trainer.epochs,
            "steps": steps, "peak_memory_mib": row.peak_memory_mib, "peak_memory_kind": row.peak_memory_kind,
            "trainable_percent": row.params["trainable_percent"], "trainable": row.params["trainable"],
            "train_loss": row.history[-1]["train_loss"], "dev_accuracy": row.score(epoch="last", metric="accuracy"),
            "precision_used": ptune_precision(row, cfg, device), "device": str(device)}


def ptune_precision(row, cfg, device) -> str:
    """What ptune's run actually computed in: the row's own record if it keeps one, else the runner's rule."""
    if isinstance(row.hyperparameters.get("precision_used"), str):
        return row.hyperparameters["precision_used"]
    from ptune.model.device import autocast_dtype

    dtype = autocast_dtype(cfg.trainer.precision, device)
    return {None: "fp32"}.get(dtype, str(dtype).replace("torch.", "").replace("bfloat16", "bf16").replace("float16", "fp16"))


def warm_up(device) -> None:
    """The same untimed start for every implementation: device context and matmul libraries initialised."""
    import torch

    a = torch.randn(256, 256, device=device)
    for dtype in (None, torch.bfloat16):
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            (a @ a).sum().item()


def child(spec_json: str) -> int:
    spec = json.loads(spec_json)
    try:
        result = {"status": "completed", **measure(spec)}
        result["examples_per_second"] = result["train_examples"] / result["train_seconds"]
        result["ms_per_step"] = 1000 * result["train_seconds"] / result["steps"]
    except Exception as error:  # reported in the table and JSON, never fatal for the whole bench
        result = {"status": "failed", "error": f"{type(error).__name__}: {error}".strip()[:500]}
    print(MARK + json.dumps(result), flush=True)
    return 0


def run_one(spec: dict, timeout: float, mmap_threshold: int = 0) -> dict:
    """Run one measurement in a fresh interpreter; a crash or a timeout becomes a failed result.

    mmap_threshold > 0 fixes glibc's mmap threshold (MALLOC_MMAP_THRESHOLD_) in that process: every allocation of
    that size or more is mapped and unmapped on free, so the peak resident set counts the memory the run held,
    not heap left behind by freed activations (which otherwise moves a CPU peak by +-10% between two identical
    measurements). The same for ptune and every peer."""
    command = [sys.executable, str(Path(__file__).resolve()), json.dumps(spec)]
    env = os.environ | ({"MALLOC_MMAP_THRESHOLD_": str(mmap_threshold)} if mmap_threshold > 0 else {})
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    tail = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no output"]
    return {"status": "failed", "error": f"exit code {done.returncode}: {tail[0]}"[:500]}


if __name__ == "__main__":
    sys.exit(child(sys.argv[1]))
