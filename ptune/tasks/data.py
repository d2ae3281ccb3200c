"""Reading task files with errors that name the file and line."""
from __future__ import annotations

import json
from pathlib import Path

from ptune.errors import DataError


class DataFileError(DataError):
    """A task file is missing or malformed; the message names the path (and line) and what was expected."""


def require_file(path: Path, hint: str = "") -> Path:
    if not path.is_file():
        raise DataFileError(
            f"data file not found: {path}\n"
            f"Set data_dir=/path/to/data (or the PTUNE_DATA_DIR environment variable) to a folder holding "
            f"it{hint}, or leave data_dir unset to load the task from the dataset hub.")
    return path


def read_jsonl_lines(path: Path, required: tuple[str, ...] = ()) -> list[tuple[int, dict]]:
    """(line number, record) for every non-blank line, so that later checks can name the line."""
    records = []
    with open(require_file(path), encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFileError(f"{path}:{line_number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise DataFileError(f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}")
            missing = [key for key in required if key not in record]
            if missing:
                raise DataFileError(f"{path}:{line_number}: missing key(s) {missing}; expected {list(required)}")
            records.append((line_number, record))
    return records
