"""ptune's command line.

    ptune run KEY=VALUE ...        train and evaluate one run (a Hydra app; --help lists the groups)
    ptune run -m KEY=A,B ...       a Hydra multirun sweep, one row per run
    ptune table [--results DIR]    render results/tables/*.md from the result rows
    ptune compare DIR              rows under DIR beside the committed rows of the same configurations
"""
from __future__ import annotations

import sys

COMMANDS = {"run": "train and evaluate (Hydra: ptune run --help)", "table": "render comparison tables from rows",
            "compare": "print rows beside the committed rows of the same configurations"}


def usage() -> str:
    lines = [__doc__.strip(), "", "commands:"] + [f"  {name:8s}{text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        from ptune.run import main as run_main

        from ptune.resume import Preempted

        sys.argv = ["ptune run", *rest]
        try:
            run_main()
        except Preempted as stopped:
            print(f"ptune: {stopped}; the state is saved: rerun the same command with resume=true "
                  "(a sweep: with skip_done=true resume=auto)", file=sys.stderr)
            return 143  # 128 + SIGTERM, as a shell reports a process the signal ended
        return 0
    if command == "table":
        from ptune.tables import main as table_main

        return table_main(rest)
    if command == "compare":
        from ptune.compare import main as compare_main

        return compare_main(rest)
    from ptune.registry import unknown_name_message

    print(f"ptune: {unknown_name_message('command', command, list(COMMANDS))}\n\n{usage()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
