"""Reading task files with errors that name the file and line.

Task files are UTF-8 text; a byte-order mark and CRLF line endings are read as usual (text mode with the
"utf-8-sig" codec). `check_readable` is what a run checks of every file it will read, before any work
(ptune/train/preflight.py).
"""
from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path

from ptune.errors import DataError

ENCODING = "utf-8-sig"  # UTF-8, with or without a byte-order mark


class DataFileError(DataError):
    """A task file is missing or malformed; the message names the path (and line) and what was expected."""


class UnusableDataFile(DataFileError):
    """A task file is missing, a folder, empty or not UTF-8 text: data_dir or the file must change (exit code 2)."""

    exit_code = 2


def require_file(path: Path, hint: str = "") -> Path:
    if path.is_dir():
        raise UnusableDataFile(f"data file {path} is a folder, not a file; put the task's file there{hint} "
                               f"or set data_dir to the folder that holds the task's files")
    if not path.is_file():
        raise UnusableDataFile(
            f"data file not found: {path}. "
            f"Set data_dir=/path/to/data (or the PTUNE_DATA_DIR environment variable) to a folder holding "
            f"it{hint}, or leave data_dir unset to load the task from the dataset hub.")
    return path


def open_text(path: Path):
    """A task file as text (gzip when it ends in .gz)."""
    return gzip.open(path, "rt", encoding=ENCODING) if path.suffix == ".gz" else open(path, encoding=ENCODING)


def check_readable(path: Path, hint: str = "") -> Path:
    """The file exists, is UTF-8 text (no NUL bytes) and holds more than white space; else UnusableDataFile
    naming the file and, for bytes that are not text, the line. Reads the whole file once. `hint`: where the task
    expects it, for the message of a missing file."""
    require_file(path, hint)
    has_text = False
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as handle:
        for line_number, raw in enumerate(handle, start=1):
            if line_number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:  # line by line is exact: no UTF-8 sequence holds a newline byte
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                problem = f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8"
            else:
                problem = "a NUL byte" if "\0" in text else None
                has_text = has_text or bool(text.strip())
            if problem:
                raise UnusableDataFile(f"{path}:{line_number}: not a text file ({problem}); task files are UTF-8 "
                                       f"text: convert it (iconv -t utf-8), or set data_dir to a folder that "
                                       f"holds the task's files")
    if not has_text:
        raise UnusableDataFile(f"{path}: the file is empty; write the split's records into it, or set data_dir "
                               f"to a folder that holds the task's files")
    return path


def read_jsonl_lines(path: Path, required: tuple[str, ...] = ()) -> list[tuple[int, dict]]:
    """(line number, record) for every non-blank line, so that later checks can name the line."""
    records = []
    with open_text(require_file(path)) as handle:
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
