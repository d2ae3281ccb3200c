"""Tag notations converted to IOB2 (IOB1, CoNLL-2005 brackets, SpERT spans) and the type filter."""
from __future__ import annotations

import pytest

from ptune.tasks.tagging.formats import brackets_to_bio, iob1_to_iob2, spans_to_bio
from ptune.tasks.tagging.metrics import without_types


def test_iob1_to_iob2():
    iob1 = ["I-ORG", "I-ORG", "O", "I-PER", "B-PER", "I-PER", "I-LOC", "O", "I-MISC"]
    assert iob1_to_iob2(iob1) == ["B-ORG", "I-ORG", "O", "B-PER", "B-PER", "I-PER", "B-LOC", "O", "B-MISC"]


def test_brackets_to_bio():
    column = ["(A0*", "*", "*)", "(V*)", "(A1*", "*)", "*", "(AM-TMP*)"]
    assert brackets_to_bio(column) == ["B-A0", "I-A0", "I-A0", "B-V", "B-A1", "I-A1", "O", "B-AM-TMP"]
    assert brackets_to_bio(["*", "(C-V*)", "(R-A0*", "*)"]) == ["O", "B-C-V", "B-R-A0", "I-R-A0"]
    for bad in (["(A0*", "(A1*)", "*)"], ["(A0*", "*"], ["*)"]):
        with pytest.raises(ValueError):
            brackets_to_bio(bad)


def test_spans_to_bio_and_without_types():
    assert spans_to_bio(5, [(3, 5, "Loc"), (0, 1, "Peop")]) == ["B-Peop", "O", "O", "B-Loc", "I-Loc"]
    with pytest.raises(ValueError):
        spans_to_bio(3, [(0, 2, "Loc"), (1, 3, "Org")])
    assert without_types(["B-A0", "B-V", "I-V", "O"], {"V"}) == ["B-A0", "O", "O", "O"]
