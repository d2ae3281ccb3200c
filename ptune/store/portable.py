"""Paths as committed rows record them: the same on every machine.

Relative to the project root (the folder ptune runs from) when inside it or a folder beside it
(../shared/data), `<data_dir>/...` inside the data folder, else `<local>/<name>`; the absolute path goes
only to the run's log (outputs/, never committed).
"""
from __future__ import annotations

import os
from pathlib import Path


def portable_path(path, data_dir=None) -> str:
    """`path` as the row records it: relative to the project root (where ptune runs) when inside it or a
    folder beside it (../shared/data), `<data_dir>/...` inside the data folder, else `<local>/<name>`."""
    path = Path(path).expanduser().absolute()
    root = Path.cwd()
    anchors = [(Path(data_dir).expanduser().absolute(), "<data_dir>")] if data_dir else []
    for base in (root, root.parent):
        if path == base or base in path.parents:
            return os.path.relpath(path, root)
    for base, name in anchors:
        if path == base or base in path.parents:
            return str(Path(name) / path.relative_to(base))
    return f"<local>/{path.name}"


def portable_argument(arg: str, data_dir=None) -> str:
    """A command-line argument with an absolute path in its value made portable (KEY=/abs/path)."""
    key, sep, value = arg.rpartition("=")
    if value.startswith("/") or value.startswith("~"):
        return f"{key}{sep}{portable_path(value, data_dir)}"
    return arg
