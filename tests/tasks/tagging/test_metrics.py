"""Entity-level scores against conlleval's counting, worked by hand: the strict IOB2 reading and conlleval's own."""
from __future__ import annotations

import random

import pytest

from ptune.tasks.tagging.metrics import (
    conlleval_scores,
    entity_scores,
    f1_with_standard_error,
    strict_iob2,
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


def test_conlleval_and_strict_readings_against_counts_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]]
    predicted = [["I-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-LOC"]]
    # conlleval: gold chunks PER(0-1), LOC(3), ORG(5-6) = 3; predicted chunks PER(0-1) (an I- after O starts a
    # chunk), LOC(3), ORG(5) and LOC(6) (a type change starts a new chunk) = 4; correct PER, LOC = 2.
    # P = 2/4, R = 2/3, F1 = 2PR/(P+R) = 4/7.
    scores = conlleval_scores(gold, predicted)
    assert scores["precision_conlleval"] == pytest.approx(50.0)
    assert scores["recall_conlleval"] == pytest.approx(200 / 3)
    assert scores["f1_conlleval"] == pytest.approx(400 / 7)
    # strict IOB2: the leading I-PER I-PER is no entity, I-LOC after B-ORG is none either: predicted LOC(3),
    # ORG(5) = 2, correct LOC = 1: P = 1/2, R = 1/3, F1 = 2/5.
    assert entity_scores(gold, predicted) == pytest.approx({"precision": 50.0, "recall": 100 / 3, "f1": 40.0})
