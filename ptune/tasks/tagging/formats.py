"""Tag notations and CoNLL column files: everything is converted to IOB2 on load (what seqeval's strict mode reads).

    iob1_to_iob2(["I-PER", "I-PER", "B-PER"])          -> ["B-PER", "I-PER", "B-PER"]
    spans_to_bio(4, [(1, 3, "Peop")])                   -> ["O", "B-Peop", "I-Peop", "O"]   (end exclusive)
    brackets_to_bio(["(A0*", "*)", "(V*)", "*"])        -> ["B-A0", "I-A0", "B-V", "O"]     (CoNLL-2005/2012 props)
    read_column_sentences(path)                         -> [Sentence(words, columns, line)]  (blank line = new sentence)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ptune.tasks.data import DataFileError, open_text, require_file


def iob1_to_iob2(tags: list[str]) -> list[str]:
    """IOB1 starts an entity with I- (B- only between two touching entities of one type); IOB2 always uses B-."""
    converted, previous = [], "O"
    for tag in tags:
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        converted.append(tag)
        previous = tag
    return converted


def spans_to_bio(length: int, spans: list[tuple[int, int, str]]) -> list[str]:
    """Entity spans [start, end) with a type -> BIO tags; overlapping spans are an error (BIO cannot hold them)."""
    tags = ["O"] * length
    for start, end, kind in sorted(spans):
        if not 0 <= start < end <= length or any(t != "O" for t in tags[start:end]):
            raise ValueError(f"entity span [{start}, {end}) {kind!r} is outside the {length} words or overlaps another")
        tags[start:end] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
    return tags


def brackets_to_bio(column: list[str]) -> list[str]:
    """One predicate's argument column in bracket notation -> BIO: `(A0*` opens A0, `*)` closes, `(V*)` is one word."""
    tags, open_label = [], None
    for position, annotation in enumerate(column):
        if "(" in annotation:
            if open_label is not None or annotation.count("(") > 1:
                raise ValueError(f"word {position}: {annotation!r} opens an argument inside {open_label!r} (nested)")
            open_label = annotation[annotation.index("(") + 1:annotation.index("*")]
            tags.append(f"B-{open_label}")
        else:
            tags.append("O" if open_label is None else f"I-{open_label}")
        if ")" in annotation:
            if open_label is None:
                raise ValueError(f"word {position}: {annotation!r} closes an argument that was never opened")
            open_label = None
    if open_label is not None:
        raise ValueError(f"argument {open_label!r} is never closed")
    return tags


@dataclass
class Sentence:
    columns: list[list[str]]  # one list per line: the whitespace-separated fields
    line: int                 # line number of the sentence's first word (for error messages)

    @property
    def words(self) -> list[str]:
        return [fields[0] for fields in self.columns]

    def column(self, index: int) -> list[str]:
        return [fields[index] for fields in self.columns]


def read_column_sentences(path: Path, skip_prefixes: tuple[str, ...] = ("-DOCSTART-",),
                          min_fields: int = 1) -> list[Sentence]:
    """CoNLL column file(s): one word per line, fields split on whitespace, a blank line ends a sentence.
    Lines starting with `skip_prefixes` (`-DOCSTART-`, `#begin document`) are dropped and end the sentence."""
    sentences, current, start = [], [], 0
    with open_text(require_file(Path(path))) as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or line.startswith(skip_prefixes):
                if current:
                    sentences.append(Sentence(current, start))
                current = []
                continue
            if len(fields) < min_fields:
                raise DataFileError(f"{path}:{line_number}: expected at least {min_fields} columns, got {len(fields)}")
            if not current:
                start = line_number
            current.append(fields)
    if current:
        sentences.append(Sentence(current, start))
    return sentences


def check_tags(tags: list[str], types: set[str], where: str) -> list[str]:
    """Every tag is O or B-/I- of a known type; the error names the file and line."""
    for offset, tag in enumerate(tags):
        if tag != "O" and (tag[:2] not in ("B-", "I-") or tag[2:] not in types):
            raise DataFileError(f"{where} (+{offset} words): tag {tag!r} is not O or B-/I- of {sorted(types)}")
    return tags
