"""Where and how a run ran, as its row records it: package versions, git commit, device, threads, command line."""
from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ptune.store.portable import portable_argument

PACKAGES = ("ptune", "torch", "transformers", "datasets", "hydra-core", "omegaconf", "seqeval", "numpy")


def versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    return found


def git_state() -> dict:
    """Commit and dirty flag of the checkout ptune runs from (None outside a git checkout)."""
    here = Path(__file__).resolve().parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10)

    try:
        commit = git("rev-parse", "HEAD")
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
        return {"commit": commit.stdout.strip(), "dirty": dirty}
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}


def provenance(device: str, data_dir=None) -> dict:
    """Where and how the run ran. cpu_threads: torch's intra-op threads; float sums, and so the last digits of a
    run, depend on it (OMP_NUM_THREADS=1 runs two single-threaded runs side by side on a small machine)."""
    import torch  # deferred: heavy, and only a run that trains needs it

    return {"versions": versions(), "git": git_state(), "device": device, "cpu_threads": torch.get_num_threads(),
            "platform": platform.platform(), "argv": [portable_argument(arg, data_dir) for arg in sys.argv[1:]]}
