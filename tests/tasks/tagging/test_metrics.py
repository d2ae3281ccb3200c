"""Entity-level scores against conlleval's counting, worked by hand, and the tag-notation conversions."""
from __future__ import annotations

import random

import pytest

from ptune.tasks.tagging.formats import brackets_to_bio, iob1_to_iob2, spans_to_bio
from ptune.tasks.tagging.metrics import (
    entity_scores,
    f1_with_standard_error,
    strict_iob2,
    without_types,
)


@pytest.mark.parametrize("gold, predicted, expected", [
    # one of two entities right, the other has the wrong type: 1 correct / 2 predicted / 2 gold
    ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-ORG"]], (50.0, 50.0, 50.0)),
    # right type, right start, wrong end: not an entity match at all
    ([["B-ORG", "I-ORG", "I-ORG", "O"]], [["B-ORG", "I-ORG", "O", "O"]], (0.0, 0.0, 0.0)),
    # two touching one-word entities read as one two-word entity: 0 correct
    ([["B-PER", "B-PER"]], [["B-PER", "I-PER"]], (0.0, 0.0, 0.0)),
    # three sentences: 3 correct / 5 predicted / 4 gold -> P 60, R 75, F1 2*.6*.75/1.35
    ([["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "O", "B-MISC", "I-MISC"], ["O", "O"]],
     [["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "O", "B-MISC", "O"], ["B-LOC", "O"]],
     (60.0, 75.0, 200 / 3)),
    # strict IOB2: an entity may not start with I- (conlleval would count this one as right)
    ([["B-PER", "I-PER"]], [["I-PER", "I-PER"]], (0.0, 0.0, 0.0)),
])
def test_entity_scores_match_hand_counts(gold, predicted, expected):
    scores = entity_scores(gold, predicted)
    assert (scores["precision"], scores["recall"], scores["f1"]) == pytest.approx(expected)


def conlleval_chunks(tags: list[str]) -> set[tuple[int, int, str]]:
    """Chunks as conlleval.pl finds them (start on B-, or on I- after O / another type), written independently."""
    chunks, start, kind = set(), None, None
    for position, tag in enumerate(tags + ["O"]):
        prefix, this = (tag[0], tag[2:]) if tag != "O" else ("O", None)
        ends = kind is not None and (prefix in ("B", "O") or this != kind)
        if ends:
            chunks.add((start, position, kind))
            start, kind = None, None
        if prefix == "B" or (prefix == "I" and kind is None):
            start, kind = position, this
    return chunks


def test_scores_equal_conlleval_counting_on_valid_iob2_sequences():
    rng = random.Random(0)
    tags = ["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    for _ in range(200):
        gold = [strict_iob2([rng.choice(tags) for _ in range(rng.randint(1, 12))]) for _ in range(3)]
        predicted = [strict_iob2([rng.choice(tags) for _ in g]) for g in gold]
        gold_chunks = [conlleval_chunks(g) for g in gold]
        guessed = [conlleval_chunks(p) for p in predicted]
        correct = sum(len(g & p) for g, p in zip(gold_chunks, guessed))
        n_gold, n_guessed = sum(map(len, gold_chunks)), sum(map(len, guessed))
        precision = 100 * correct / n_guessed if n_guessed else 0.0
        recall = 100 * correct / n_gold if n_gold else 0.0
        scores = entity_scores(gold, predicted)
        assert scores["precision"] == pytest.approx(precision) and scores["recall"] == pytest.approx(recall)


def test_f1_standard_error_is_the_spread_a_bootstrap_over_sentences_finds():
    rng = random.Random(2)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC"]
    gold = [strict_iob2([rng.choice(tags) for _ in range(rng.randint(1, 15))]) for _ in range(300)]
    predicted = [[tag if rng.random() < 0.8 else rng.choice(tags) for tag in g] for g in gold]  # raw: strict applies
    f1, standard_error = f1_with_standard_error(gold, predicted)
    assert f1 == pytest.approx(entity_scores(gold, predicted)["f1"])
    # per sentence: 2 x correct, guessed + gold, counted with conlleval's chunks on the strict tags
    counts = [(2 * len(conlleval_chunks(g) & conlleval_chunks(strict_iob2(p))),
               len(conlleval_chunks(g)) + len(conlleval_chunks(strict_iob2(p)))) for g, p in zip(gold, predicted)]
    resampled = []
    for _ in range(1000):
        drawn = [rng.choice(counts) for _ in counts]
        resampled.append(100 * sum(c for c, _ in drawn) / sum(e for _, e in drawn))
    mean = sum(resampled) / len(resampled)
    bootstrap = (sum((value - mean) ** 2 for value in resampled) / (len(resampled) - 1)) ** 0.5
    assert 1.0 < standard_error == pytest.approx(bootstrap, rel=0.15)
    # by hand: one sentence right (2 of 2), one wrong (0 of 2): F1 50, residuals +1 and -1, se sqrt(2 / 2) / 2
    assert f1_with_standard_error([["B-PER"], ["B-LOC"]], [["B-PER"], ["B-PER"]]) == pytest.approx((50.0, 50.0))


def test_strict_iob2_keeps_exactly_what_strict_mode_scores():
    rng = random.Random(1)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    assert strict_iob2(["I-PER", "B-PER", "I-LOC", "I-PER", "O", "B-LOC", "I-LOC"]) == \
        ["O", "B-PER", "O", "O", "O", "B-LOC", "I-LOC"]
    for _ in range(100):
        gold = [[rng.choice(tags) for _ in range(8)]]
        raw = [[rng.choice(tags) for _ in range(8)]]
        assert entity_scores(gold, raw) == entity_scores(gold, [strict_iob2(raw[0])])


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
