"""Entity spans of tag files, read as seqeval reads them, counted per sentence: the statistics of entity F1
(ptune/reports/units.py). One pass of numpy over a whole file; tests check it against seqeval itself.

    gold, predicted, offsets = read_tags(Path("predictions/dev/dev.raw.conll"))
    flat_span_counts(gold, predicted, offsets, strict=False)    # sentences x [2 correct, predicted, gold]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def entities(flat: np.ndarray, strict: bool, codes: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(start, key) of each entity in `flat`, the tags of every sentence each followed by one "O" (seqeval's own
    joining of a list of sentences), read as seqeval reads them: a chunk starts at every tag that does not continue
    the one before (I-X after B-X or I-X); strict IOB2 keeps the chunks that start with a B-, the conlleval reading
    (seqeval's default mode) every chunk. A key is unique to (first word, last word, type) where the calls share
    `codes` (type -> number, filled here)."""
    found = np.array(sorted(set(flat.tolist())), dtype=flat.dtype)  # a few tags: cheaper than np.unique's sort
    inverse = np.searchsorted(found, flat)
    names = [name.decode() if isinstance(name, bytes) else str(name) for name in found]
    if any(name != "O" and name[:2] not in ("B-", "I-") for name in names):
        raise ValueError("entity statistics read B-/I-/O tags only")
    kind = np.array([name[0] for name in names])[inverse]
    types = np.array([-1 if name == "O" else codes.setdefault(name[2:], len(codes)) for name in names])[inverse]
    if len(codes) > 999:
        raise ValueError("entity statistics read at most 999 entity types")
    inside = kind != "O"
    first = inside & ~((kind == "I") & (types == np.r_[-1, types[:-1]]))
    starts, words = np.flatnonzero(first), np.flatnonzero(inside)
    ends = words[np.r_[np.flatnonzero(np.diff(np.cumsum(first)[words])), len(words) - 1]] if len(words) else words
    keep = kind[starts] == "B" if strict else np.ones(len(starts), dtype=bool)
    starts, ends = starts[keep], ends[keep]
    return starts, (starts * len(flat) + ends) * 1000 + types[starts]


def span_counts(gold: list[list[str]], predicted: list[list[str]], strict: bool) -> np.ndarray:
    """[2 correct, predicted, gold] entity counts per sentence, strict IOB2 or the conlleval reading (`entities`)."""
    if [len(tags) for tags in gold] != [len(tags) for tags in predicted]:
        raise ValueError("gold and predicted tags need the same number of sentences and words per sentence")
    joined = [np.array([tag for tags in sentences for tag in (*tags, "O")]) for sentences in (gold, predicted)]
    return flat_span_counts(*joined, np.cumsum([0] + [len(tags) + 1 for tags in gold]), strict)


def flat_span_counts(gold: np.ndarray, predicted: np.ndarray, offsets: np.ndarray, strict: bool) -> np.ndarray:
    codes: dict[str, int] = {}
    (gold_starts, gold_keys), (starts, keys) = entities(gold, strict, codes), entities(predicted, strict, codes)
    sentences = len(offsets) - 1
    def per_sentence(at):
        return np.bincount(np.searchsorted(offsets, at, side="right") - 1, minlength=sentences)
    return np.column_stack([2 * per_sentence(starts[np.isin(keys, gold_keys)]), per_sentence(starts),
                            per_sentence(gold_starts)]).astype(float)


def read_tags(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gold, predicted, offsets) of a file `write_predictions` wrote ("word gold predicted" lines, a blank line
    after each sentence; a word holds no space): the tags of every sentence followed by one "O", and where each
    sentence starts in them. Sentences without words are skipped."""
    raw = path.read_bytes()
    lengths = np.array([block.strip(b"\n").count(b"\n") + 1 for block in raw.split(b"\n\n") if block.strip()])
    columns = np.array(raw.split()).reshape(-1, 3)
    ends = np.cumsum(lengths)
    if len(columns) != (ends[-1] if len(ends) else 0):
        raise ValueError(f"{path}: expected lines of three fields (word, gold tag, predicted tag)")
    gold, predicted = (np.insert(columns[:, column], ends, b"O") for column in (1, 2))
    return gold, predicted, np.r_[0, ends + np.arange(1, len(ends) + 1)]
