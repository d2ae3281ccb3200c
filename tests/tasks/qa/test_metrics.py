"""SQuAD EM / F1 against values worked out by hand from the official v1.1 and v2.0 scripts' rules."""
import pytest

from ptune.tasks.qa.metrics import exact_match, normalize_answer, score_squad, token_f1


@pytest.mark.parametrize("text, normalised", [
    ("The  Quick, brown-fox!", "quick brownfox"),    # lower, punctuation deleted (not spaced), article gone
    ("an apple a day", "apple day"),                 # every article, as a whole word
    ("Another theory, thereby", "another theory thereby"),  # articles inside words stay
    ("  \tA\n", ""),                                 # nothing left
    ("U.S. $5", "us 5"),
])
def test_normalize_answer(text, normalised):
    assert normalize_answer(text) == normalised


def test_exact_match_ignores_case_punctuation_articles():
    assert exact_match("the Eiffel Tower.", "Eiffel tower") == 1.0
    assert exact_match("Eiffel Towers", "Eiffel tower") == 0.0


def test_token_f1_by_hand():
    # 3 predicted tokens, 2 gold, 2 shared: P = 2/3, R = 1, F1 = 2 * 2/3 / (5/3) = 4/5
    assert token_f1("Denver Broncos team", "Denver Broncos") == pytest.approx(0.8)
    # repeated tokens count with multiplicity: [x y y] vs [y y y z] share y twice: P = 2/3, R = 1/2, F1 = 4/7
    assert token_f1("x y y", "y y y z") == pytest.approx(4 / 7)
    assert token_f1("nothing shared", "Denver") == 0.0


def test_empty_answers_differ_between_versions():
    assert token_f1("", "", version=1) == 0.0     # v1.1: no shared token -> 0
    assert token_f1("", "", version=2) == 1.0     # v2.0: both empty -> 1
    assert token_f1("the", "", version=2) == 1.0  # "the" normalises to nothing
    assert token_f1("Denver", "", version=2) == 0.0
    assert token_f1("", "Denver", version=2) == 0.0


def test_squad_v1_dataset_scores():
    gold = {"q1": ["Eiffel tower", "Paris"], "q2": ["Denver Broncos"], "q3": ["1999", "year 1999 exactly"]}
    predicted = {"q1": "the Eiffel Tower.", "q2": "Denver Broncos team", "q3": "in the year 1999"}
    # q1: EM 1, F1 1. q2: EM 0, F1 0.8. q3 ("in year 1999", 3 tokens): vs "1999" P 1/3 R 1 -> F1 1/2;
    # vs "year 1999 exactly" P 2/3 R 2/3 -> F1 2/3; the best gold counts: EM 0, F1 2/3.
    scores = score_squad(gold, predicted, version=1)
    assert scores == pytest.approx({"exact_match": 100 / 3, "f1": 100 * (1 + 0.8 + 2 / 3) / 3})


def test_squad_v2_dataset_scores_and_breakdowns():
    gold = {"h1": ["Denver Broncos"], "h2": ["1999"], "n1": [], "n2": [], "n3": ["the", "!"]}
    predicted = {"h1": "Denver Broncos team", "h2": "", "n1": "", "n2": "maybe", "n3": ""}
    # h1: EM 0 F1 0.8; h2 (no answer given to an answerable question): 0, 0; n1: 1, 1; n2: 0, 0;
    # n3's gold answers all normalise to nothing, so it is scored against "" only: 1, 1 -- but it has gold
    # answers, so (as in the official script) it counts as HasAns: HasAns = h1 h2 n3, NoAns = n1 n2.
    scores = score_squad(gold, predicted, version=2)
    assert scores == pytest.approx({
        "exact_match": 100 * 2 / 5, "f1": 100 * 2.8 / 5,
        "has_ans_exact_match": 100 / 3, "has_ans_f1": 100 * 1.8 / 3,
        "no_ans_exact_match": 50.0, "no_ans_f1": 50.0})


def test_v2_breakdown_left_out_without_unanswerable_questions():
    assert set(score_squad({"h": ["a cat"]}, {"h": "cat"}, version=2)) == {
        "exact_match", "f1", "has_ans_exact_match", "has_ans_f1"}


def test_missing_prediction_is_an_error():
    with pytest.raises(ValueError, match="no prediction for 1 of 2"):
        score_squad({"a": ["x"], "b": ["y"]}, {"a": "x"}, version=1)
