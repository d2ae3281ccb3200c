"""Sweeps on Hydra's launchers: one job's outcome, and the multirun's summary.

    ptune run -m hydra/launcher=joblib hydra.launcher.n_jobs=2 method=prompt,ptv2 seed=1,2 ...  # local pool
    ptune run -m hydra/launcher=slurm_1gpu hydra.launcher.timeout_min=240 ...                   # SLURM

In a multirun a failed job does not stop the others: `run_job` records the failure (results/runs/<run
id>/failed-*.json, as every failed run does), writes the job's outcome to outcome.json in the job's own
Hydra folder (no file is shared between jobs), and returns it instead of raising. `Summary` (a Hydra
callback, conf/config.yaml) then lists done / skipped / failed runs with their rows and failure records,
writes <sweep dir>/summary.json and exits 1 when any job failed. A single run still raises.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from hydra.experimental.callback import Callback

log = logging.getLogger(__name__)
OUTCOME_FILE = "outcome.json"
SUCCESS = ("completed", "skipped", "reused")



def collect(sweep_dir: Path) -> list[dict]:
    """Every job's outcome under the sweep folder; a job folder without one is a job that died ("lost")."""
    outcomes = [json.loads(path.read_text()) for path in sweep_dir.rglob(OUTCOME_FILE)]
    for config in sorted(sweep_dir.rglob(".hydra/config.yaml")):
        if not (config.parent.parent / OUTCOME_FILE).is_file():
            outcomes.append({"job": None, "run_id": None, "status": "lost", "folder": str(config.parent.parent),
                             "error": "the job wrote no outcome (killed, or it crashed outside the runner)"})
    return sorted(outcomes, key=lambda o: (o["job"] is None, o["job"] or 0))


def summary_lines(outcomes: list[dict]) -> list[str]:
    counts = {status: sum(o["status"] == status for o in outcomes) for status in dict.fromkeys(
        ["completed", "skipped", "reused", *(o["status"] for o in outcomes)])}
    lines = [f"sweep: {len(outcomes)} jobs: " + ", ".join(f"{n} {status}" for status, n in counts.items())]
    for o in outcomes:
        job = f"#{o['job']}" if o["job"] is not None else "#?"
        if o["status"] in SUCCESS:
            where = " ".join(f"dev {k} {v}" for k, v in (o.get("dev") or {}).items()) + f"  {o.get('row')}"
        else:
            where = f"{o.get('error')}; record: {o.get('failure_record')}"
        lines.append(f"  {o['status']:<11} {job:<4} {o.get('run_id') or o.get('folder')}  {where}")
    return lines


class Summary(Callback):
    """Hydra callback: after a multirun, list done / skipped / failed jobs; exit 1 when any did not succeed."""

    def on_multirun_start(self, config, **kwargs) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        for stale in sweep_dir.rglob(OUTCOME_FILE) if sweep_dir.is_dir() else []:
            stale.unlink()  # a sweep folder reused by a new multirun: only this multirun's outcomes count

    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        outcomes = collect(sweep_dir)
        summary = sweep_dir / "summary.json"
        summary.write_text(json.dumps(outcomes, indent=2) + "\n")
        for line in summary_lines(outcomes):
            log.info(line)
        failed = [o for o in outcomes if o["status"] not in SUCCESS]
        if failed:
            # Hydra turns a callback's exceptions into warnings; SystemExit makes the command exit 1.
            raise SystemExit(f"ptune: {len(failed)} of {len(outcomes)} sweep jobs did not complete; see {summary}")
