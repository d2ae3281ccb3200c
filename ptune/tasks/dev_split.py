"""`task.split_dev`: train and evaluate on one official dev file split in two, for tasks whose train file is
not at hand (SQuAD here: by article; BoolQ: by passage).

The last N groups in file order (N = split_dev, or that fraction of the groups when 0 < split_dev < 1) are held
out as "dev", the others are "train"; every record of a group lands on the same side, so no passage is seen in
training and scored. The split is deterministic and part of the run's config (and run id); the row's data
section says that its dev scores are not official dev scores.
"""
from __future__ import annotations

from typing import Callable


def split_by_group(records: list[dict], held_out, group_of: Callable[[dict], str], unit: str,
                   source: str) -> tuple[list[dict], list[dict]]:
    """(train, held out): the last `held_out` groups (a count, or a fraction in (0, 1)) in file order."""
    groups = list(dict.fromkeys(group_of(record) for record in records))
    if isinstance(held_out, bool) or not isinstance(held_out, (int, float)):
        raise ValueError(f"task.split_dev={held_out!r}: expected a number of {unit}s or a fraction in (0, 1)")
    count = round(held_out * len(groups)) if 0 < held_out < 1 else held_out
    if count != int(count) or not 1 <= count < len(groups):
        raise ValueError(f"task.split_dev={held_out!r}: {source} has {len(groups)} {unit}s; hold out a whole "
                         f"number from 1 to {len(groups) - 1} or a fraction in (0, 1)")
    kept = set(groups[len(groups) - int(count):])
    return ([r for r in records if group_of(r) not in kept], [r for r in records if group_of(r) in kept])


def split_note(split_dev, unit: str) -> str:
    return (f"split_dev={split_dev}: train = the first {unit}s of the official dev file, dev = its last {unit}s "
            f"held out (not the official dev set)")
