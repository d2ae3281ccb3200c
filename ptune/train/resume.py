"""Runs that survive being stopped: a resumable state after every epoch and on SIGTERM, resume and skip-done.

    ptune run ... resume=true       # continue this config's interrupted run (its state must exist)
    ptune run -m ... skip_done=true resume=auto   # restart a stopped sweep: skip finished runs, continue the
                                                  # interrupted one, start the rest

The state lives in <paths.output_dir>/state/<run id>/state.pt (never committed) and holds everything the
next epoch depends on: trainable weights, optimizer, LR schedule, grad scaler, the data-order generator,
the global RNGs (dropout), history, the best epoch so far with its weights and dev predictions, and,
when a SIGTERM stopped the run mid-epoch, that epoch's batches and how many of them were done. A resumed
run therefore writes the same row and predictions as an uninterrupted one (times aside).
"""
from __future__ import annotations

import os
import random
import signal
import threading
from pathlib import Path

import numpy as np
import torch

# resume.Preempted, as the loop and the runner raise it (declared with ptune's errors, which import no torch)
from ptune.errors import Preempted  # noqa: F401

STATE_FORMAT = 1


def state_path(output_dir: str | Path, run_id: str) -> Path:
    return Path(output_dir) / "state" / run_id / "state.pt"


def find_state(output_dir, run_id: str, config: dict, mode) -> dict | None:
    """The saved state to resume from, None to start afresh; refuses a missing or mismatched state for resume=true."""
    path = state_path(output_dir, run_id)
    if mode is False:
        return None
    if not path.is_file():
        if mode == "auto":
            return None
        raise ValueError(f"resume=true: no saved state for run {run_id} (expected {path}).{_near_misses(path, config)}"
                         " Run without resume=true to start it, or with resume=auto to start it when nothing is saved.")
    saved = torch.load(path, map_location="cpu", weights_only=False)
    if saved.get("format") != STATE_FORMAT or saved.get("config") != config:
        differing = ", ".join(_differences(saved.get("config") or {}, config)) or "the state format"
        raise ValueError(f"resume: the state in {path} was saved by another configuration (differs in: {differing}); "
                         "resume it with that configuration, or delete the state to start afresh")
    return saved


def _near_misses(path: Path, config: dict) -> str:
    """Saved states of the same task, model, method and seed whose configuration differs: say in what."""
    hints = []
    prefix = path.parent.name.rsplit("-", 1)[0]
    for other in sorted(path.parent.parent.glob(f"{prefix}-*/state.pt")):
        saved = torch.load(other, map_location="cpu", weights_only=False)
        hints.append(f"{other.parent.name} differs in {', '.join(_differences(saved.get('config') or {}, config))}")
    return (" Saved states of the same run with another configuration: " + "; ".join(hints) + ".") if hints else ""


def _differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            keys += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            keys.append(f"{prefix}{key} (saved {a!r}, now {b!r})")
    return keys


def capture_rngs() -> dict:
    rngs = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        rngs["cuda"] = torch.cuda.get_rng_state_all()
    return rngs


def restore_rngs(rngs: dict) -> None:
    torch.set_rng_state(rngs["torch"])
    random.setstate(rngs["python"])
    np.random.set_state(rngs["numpy"])
    if "cuda" in rngs and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rngs["cuda"])


def save_state(path: Path, snapshot: dict) -> None:
    """Write atomically: a state file is either the old one or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"format": STATE_FORMAT, **snapshot}, tmp)
    os.replace(tmp, path)


def discard_state(path: Path) -> None:
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass


class StopRequests:
    """While active, SIGTERM (a scheduler's preemption notice) asks the run to save and stop at the next step."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._request)
        return self

    def _request(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
        return False
