"""ptune's command line.

    ptune run KEY=VALUE ...        train and evaluate one run (a Hydra app; --help lists the groups)
    ptune run -m KEY=A,B ...       a Hydra multirun sweep, one row per run
    ptune eval run=RUN [task.split=SPLIT] [data_dir=DIR]   score a saved run's checkpoint, write predictions
    ptune table [--results DIR]    render results/tables/*.md from the result rows
    ptune compare DIR              rows under DIR beside the committed rows of the same configurations
    ptune compare --runs A --against B   two sets of runs compared with intervals and a paired test
    ptune plan sweep=NAME ...      a sweep's runs done and left, and roughly how long the rest takes
    ptune pick sweep=NAME [--write]   a search sweep's best settings per (task, method), as by_run presets

Errors print as `error: <what is wrong and how to fix it>`; exit code 2 for anything to change before running
(a command, config, path, data file, checkpoint, saved state, device or precision), 1 for a run that failed while
running, 130 / 143 for a run stopped by SIGINT (Ctrl-C) / SIGTERM (its state saved: rerun with resume=true).
Add --verbose (or set HYDRA_FULL_ERROR=1) for the traceback. docs/configuration.md has the table of exit codes.
"""
from __future__ import annotations

import os
import re
import signal
import sys
import traceback

from ptune.errors import ConfigError, Preempted, PtuneError
from ptune.registry import unknown_name_message

# The commands' modules (torch, transformers), Hydra and OmegaConf are imported inside the functions below, so that
# `ptune --help` and a mistyped command answer at once and each command loads only what it uses.

USAGE_ERROR = 2  # an unknown command; ptune's own errors carry their code (ptune/errors.py)
INTERRUPTED = 128 + signal.SIGINT  # a Ctrl-C outside training, where no state is saved (Preempted says its own)

COMMANDS = {"run": "train and evaluate (Hydra: ptune run --help)",
            "eval": "score a saved run on a split (ptune eval --help)",
            "table": "render comparison tables from rows",
            "compare": "rows beside the committed rows; --runs A --against B: a paired comparison",
            "plan": "a sweep's runs done and left, and how long the rest takes",
            "pick": "a search sweep's best settings per (task, method) (--write: as presets)"}


def usage() -> str:
    lines = [__doc__.strip(), "", "commands:"] + [f"  {name:8s}{text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in argv or os.environ.get("HYDRA_FULL_ERROR") == "1"
    argv = [arg for arg in argv if arg != "--verbose"]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"ptune: {unknown_name_message('command', command, list(COMMANDS))}\n\n{usage()}", file=sys.stderr)
        return USAGE_ERROR
    try:
        return dispatch(command, rest)
    except Preempted as stopped:
        if verbose:
            traceback.print_exc()
        print(f"error: {stopped}; the state is saved: rerun the same command with resume=true "
              "(a sweep: with skip_done=true resume=auto)", file=sys.stderr)
        return stopped.exit_code  # 128 + the signal, as a shell reports a process the signal ended
    except KeyboardInterrupt:
        if verbose:
            traceback.print_exc()
        print("error: interrupted (Ctrl-C) before a state was saved; rerun the same command (resume=auto continues "
              "from the last saved epoch, if any)", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:  # noqa: BLE001 - ptune's own errors become one line; anything else is a bug
        reported = report(error)
        if reported is None:
            raise
        message, code = reported
        if verbose:
            traceback.print_exc()
        print(f"error: {one_line(message)}", file=sys.stderr)
        return code


def one_line(message: str) -> str:
    """The message on the one line ptune prints (a library's error inside it may span several)."""
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


def dispatch(command: str, rest: list[str]) -> int:
    """Run one command; its module is imported only here (see the imports above)."""
    if command == "run":
        from ptune.sweeps.callbacks import JobRefused, RunFailed
        from ptune.sweeps.job import main as run_main

        # Hydra then re-raises errors instead of printing its own report, so that report() words them.
        os.environ["HYDRA_FULL_ERROR"] = "1"
        sys.argv = ["ptune run", *rest]
        try:
            run_main()
        except RunFailed as failed:
            raise failed.error from None  # main() words it; --verbose shows its traceback
        except JobRefused as refused:
            reported = report(refused.error)
            if reported is None:
                raise refused.error from None  # not a config error: a bug, with its traceback
            where = f"sweep job #{refused.job} of {refused.count}" if refused.count else "the sweep's fixed part"
            raise ConfigError(f"{where} ({' '.join(refused.overrides)}): {reported[0]}; no job was started") \
                from refused.error
        return 0
    if command == "eval":
        from ptune.train.rescore import main as eval_main

        return eval_main(rest)
    if command == "plan":
        from ptune.sweeps.plan import main as plan_main

        return plan_main(rest)
    if command == "pick":
        from ptune.sweeps.pick import main as pick_main

        return pick_main(rest)
    if command == "compare":
        from ptune.reports.compare import main as compare_main

        return compare_main(rest)
    from ptune.reports.render import main as table_main

    return table_main(rest)


def report(error: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for ptune's own errors and config errors; None for anything else."""
    from hydra.errors import (  # deferred (see the imports above)
        HydraException,
        MissingConfigException,
    )
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(error, PtuneError):
        return str(error), error.exit_code
    if isinstance(error, MissingConfigException):
        return missing_config_message(error), 2
    cause = error.__cause__ if isinstance(error.__cause__, OmegaConfBaseException) else None
    if isinstance(error, OmegaConfBaseException):
        cause = error
    if cause is not None:
        key = getattr(cause, "full_key", None)
        message = str(getattr(cause, "msg", None) or cause).split("\n")[0]
        override = str(error).removeprefix("Error merging override ").split("\n")[0].rstrip(".")
        where = override if cause is not error else key
        if message.startswith("Key ") and "not in" in message:
            message += "; `ptune run --cfg job` lists the keys"
        return f"{where}: {message}" if where else message, 2
    if isinstance(error, HydraException):
        return str(error).split("\nConfig search path")[0], 2
    return None


def missing_config_message(error) -> str:
    """Hydra's 'Could not find group/name' plus a did-you-mean and the choices on one line."""
    text = str(error)
    found = re.search(r"Could not find '([^']+)/([^'/]+)'", text)
    options = re.findall(r"^\t(\S+)$", text.split("Config search path")[0], re.M)
    if not found or not options:
        return text.split("\nConfig search path")[0]
    group, name = found.groups()
    return (f"Could not find '{group}/{name}': " + unknown_name_message(f"{group} choice", name, options)
            + f" (conf/{group}/*.yaml)")


if __name__ == "__main__":
    sys.exit(main())
