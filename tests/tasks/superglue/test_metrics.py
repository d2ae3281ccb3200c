"""SuperGLUE metrics against values worked out by hand (official scorers' rules: SQuAD normalisation for
ReCoRD, positive-class F1 over all answer options and per-question exact match for MultiRC)."""
from __future__ import annotations

import pytest

from ptune.tasks.qa.metrics import exact_match, token_f1
from ptune.tasks.qa.metrics import normalize_answer as normalise_answer
from ptune.tasks.superglue import metrics
from ptune.tasks.superglue.metrics import multirc_scores, record_scores


def test_accuracy_and_f1_by_hand():
    gold, predicted = [0, 1, 1, 2, 2, 2], [0, 1, 0, 2, 1, 2]
    assert metrics.accuracy(gold, predicted) == pytest.approx(400 / 6)
    # class 0: tp1 fp1 fn0 -> 2/3; class 1: tp1 fp1 fn1 -> 1/2; class 2: tp2 fp0 fn1 -> 4/5
    assert metrics.f1_binary(gold, predicted, positive=2) == pytest.approx(80.0)
    assert metrics.f1_macro(gold, predicted, labels=[0, 1, 2]) == pytest.approx(100 * (2 / 3 + 1 / 2 + 4 / 5) / 3)


def test_multirc_f1a_over_all_answers_and_em_per_question():
    questions = ["p0q0", "p0q0", "p0q0", "p0q1", "p0q1", "p1q0"]
    gold = [1, 0, 1, 0, 0, 1]
    predicted = [1, 0, 1, 1, 0, 0]
    # answers: tp 2, fp 1 (p0q1 first), fn 1 (p1q0) -> F1a = 4 / 6; questions right: p0q0 only -> EM 1 / 3
    scores = multirc_scores(questions, gold, predicted)
    assert scores["f1a"] == pytest.approx(200 / 3)
    assert scores["em"] == pytest.approx(100 / 3)


def test_multirc_without_positive_predictions_has_f1a_zero():
    assert multirc_scores(["q", "q"], [1, 0], [0, 0]) == {"f1a": 0.0, "em": 0.0}


def test_squad_normalisation():
    assert normalise_answer("  The  U.S. Army's  ") == "us armys"
    assert normalise_answer("An apple, a pear") == "apple pear"
    assert normalise_answer("Theatre") == "theatre"  # articles only as whole words


def test_exact_match_and_token_f1_by_hand():
    assert exact_match("the Eiffel Tower!", "Eiffel tower")
    assert not exact_match("Eiffel", "Eiffel Tower")
    # predicted {new, york, city}, gold {new, york}: precision 2/3, recall 1 -> F1 = 0.8
    assert token_f1("New York City", "New York") == pytest.approx(0.8)
    assert token_f1("Paris", "London") == 0.0
    # repeated tokens count by multiplicity: predicted [a1 a1 b], gold [a1 b b] -> common 2 -> P = R = 2/3
    assert token_f1("a1 a1 b", "a1 b b") == pytest.approx(2 / 3)


def test_record_takes_the_best_gold_answer_per_query():
    golds = [["Barack Obama", "Obama"], ["New York"], ["Paris"]]
    predicted = ["obama", "New York City", "Lyon"]
    # query 1: EM with "Obama" -> 1, F1 1; query 2: EM 0, F1 0.8; query 3: 0 and 0
    scores = record_scores(golds, predicted)
    assert scores["em"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 * 1.8 / 3)


def test_metrics_refuse_mismatched_or_unlabelled_input():
    with pytest.raises(ValueError):
        multirc_scores(["q"], [1, 0], [1, 0])
    with pytest.raises(ValueError, match="at least one gold answer"):
        record_scores([[]], ["x"])
