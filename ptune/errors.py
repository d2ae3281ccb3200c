"""ptune's own error types. `ptune` prints them as one `error: <message>` line (plus the fix) and exits
with the type's code: 2 for anything the user must change before running (a config, a path, a missing data file,
checkpoint or saved state, a device or precision this machine lacks), 1 for a run that failed while running.
The table of exit codes in docs/configuration.md lists every type here (a test compares them).

The messages name the key, file or line at fault and what was expected; a traceback is shown only with
`--verbose` or HYDRA_FULL_ERROR=1.
"""
from __future__ import annotations

import signal


class PtuneError(Exception):
    exit_code = 1


class Preempted(BaseException):
    """A SIGTERM or SIGINT stopped the run; its state was saved and `resume=true` continues it (ptune/train/resume.py).

    Not an Exception: a Hydra multirun goes on after a failed job, but a preempted process must stop. Declared here,
    not in resume (which imports torch), so that `ptune` catches it without loading torch for every command.
    """

    def __init__(self, message: str, signum: int = signal.SIGTERM):
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # as a shell reports a process the signal ended: 143 SIGTERM, 130 SIGINT


class ConfigError(PtuneError, ValueError):
    """A config value is of the wrong kind or out of range; the message names the key."""

    exit_code = 2

    @classmethod
    def bad_value(cls, key: str, value, expected: str, fix: str = "") -> "ConfigError":
        return cls(f"{key}={value!r}: expected {expected}" + (f"\n{fix}" if fix else ""))


class DataError(PtuneError, ValueError):
    """Task data is missing, malformed or holds a value the task does not know (file and line named)."""


class HubUnreachableError(PtuneError, OSError):
    """A model or dataset is to come from the Hugging Face hub, which does not answer (ptune/hub_access.py)."""

    exit_code = 2


class ModelLoadError(PtuneError, RuntimeError):
    """A backbone or tokenizer could not be loaded from where the model config points."""


class CheckpointError(PtuneError, ValueError):
    """A saved run's checkpoint is missing or does not match the model its config builds."""

    exit_code = 2


class SetupError(PtuneError):
    """What a run needs before it starts is missing or unusable: a folder it cannot write, a device this machine
    lacks, a model folder, a saved state to resume (ptune/train/preflight.py checks them all; a precision the device
    cannot run is a ConfigError, of the same exit code)."""

    exit_code = 2


class DiskFullError(PtuneError, OSError):
    """The disk (or quota) filled up while a run wrote its results; nothing that reads as a row was left."""
