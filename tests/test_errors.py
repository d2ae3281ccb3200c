"""The table of exit codes (docs/configuration.md, linked from the README) against the code: every error type is
in it with its own exit code, and the signal rows are the codes `ptune` returns for them."""
from __future__ import annotations

import re
import signal
from pathlib import Path

import ptune.tasks.data  # noqa: F401 - defines error types of its own
from ptune import cli
from ptune.errors import Preempted, PtuneError

ROOT = Path(__file__).resolve().parents[1]


def exit_code_table() -> dict[int, list[str]]:
    """exit code -> the names in its row's last column."""
    section = (ROOT / "docs" / "configuration.md").read_text().split("## Errors and exit codes")[1].split("\n## ")[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    return {int(code): re.findall(r"`(\w+)`", named) for code, _, named in rows}


def error_types() -> dict[str, type]:
    found, todo = {}, [PtuneError]
    while todo:
        kind = todo.pop()
        found[kind.__name__] = kind
        todo += kind.__subclasses__()
    return found


def test_every_error_type_is_in_the_table_with_its_exit_code():
    table, types = exit_code_table(), error_types()
    listed = {name: code for code, names in table.items() for name in names if name in types}
    assert sorted(listed) == sorted(types), "add the missing types to the table in docs/configuration.md"
    assert {name: types[name].exit_code for name in listed} == listed


def test_the_signal_rows_are_what_ptune_returns():
    table = exit_code_table()
    signals = {name: code for code, names in table.items() for name in names if name.startswith("SIG")}
    assert signals == {"SIGINT": 130, "SIGTERM": 143}
    for name, code in signals.items():
        assert Preempted("stopped", signal.Signals[name]).exit_code == code
    assert cli.INTERRUPTED == signals["SIGINT"] and cli.USAGE_ERROR in table
    assert set(table) == {0, 1, 2, 130, 143}


def test_the_readme_links_the_table():
    assert "docs/configuration.md#errors-and-exit-codes" in (ROOT / "README.md").read_text()
