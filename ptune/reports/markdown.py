"""The one markdown table renderer every report goes through (tables, plan, compare, the scripts' reports).

    markdown_table(["task", "ptv2"], [["rte", "61.0"]])  ->  "| task | ptv2 |\n|---|---|\n| rte | 61.0 |"
"""
from __future__ import annotations


def markdown_table(header: list[str], lines: list[list[object]]) -> str:
    """A GitHub markdown table; every line has one cell per header cell; a `|` inside a cell is escaped."""
    for line in lines:
        if len(line) != len(header):
            raise ValueError(f"a table line has {len(line)} cells, the header {len(header)}: {line}")
    rows = [header, *lines]
    text = ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    text.insert(1, "|" + "---|" * len(header))
    return "\n".join(text)


def cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
