"""SuperGLUE's metrics, by the rules of the official scorers (plain Python, checked against hand-computed values).

- accuracy; CB's macro-F1 (unweighted mean of the per-class F1).
- MultiRC: F1a = F1 of the positive class over every answer option; EM = share of questions whose answer
  options are all predicted right.
- ReCoRD: per query the best over the gold answers of exact match and of token F1, after the SQuAD
  normalisation (lower case, drop punctuation, drop the articles a/an/the, collapse white space).
All scores are percentages.
"""
from __future__ import annotations

from ptune.tasks.qa.metrics import (  # ReCoRD's official scorer uses SQuAD 1.1's rules
    exact_match,
    token_f1,
)


def accuracy(gold: list, predicted: list) -> float:
    check_lengths(gold, predicted)
    return 100.0 * sum(g == p for g, p in zip(gold, predicted)) / len(gold)


def f1_binary(gold: list, predicted: list, positive=1) -> float:
    """F1 of the positive class (SuperGLUE MultiRC's F1a over all answer options)."""
    check_lengths(gold, predicted)
    tp = sum(g == positive and p == positive for g, p in zip(gold, predicted))
    fp = sum(g != positive and p == positive for g, p in zip(gold, predicted))
    fn = sum(g == positive and p != positive for g, p in zip(gold, predicted))
    return 100.0 * 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def f1_macro(gold: list, predicted: list, labels: list | None = None) -> float:
    """Unweighted mean of per-class F1 over `labels` (default: every class seen in gold or predictions)."""
    labels = labels if labels is not None else sorted(set(gold) | set(predicted), key=str)
    return sum(f1_binary(gold, predicted, positive=label) for label in labels) / len(labels)


def check_lengths(gold: list, predicted: list) -> None:
    if len(gold) != len(predicted) or not gold:
        raise ValueError(f"metric needs equally many gold and predicted labels (> 0): {len(gold)} vs {len(predicted)}")


def multirc_scores(questions: list, gold: list[int], predicted: list[int]) -> dict[str, float]:
    """`questions[i]` names the question of answer option i (any hashable, e.g. (paragraph idx, question idx))."""
    check_lengths(gold, predicted)
    check_lengths(questions, gold)
    all_right: dict = {}
    for question, g, p in zip(questions, gold, predicted):
        all_right[question] = all_right.get(question, True) and g == p
    return {"f1a": f1_binary(gold, predicted, positive=1),
            "em": 100.0 * sum(all_right.values()) / len(all_right)}


def record_scores(golds: list[list[str]], predicted: list[str]) -> dict[str, float]:
    """`golds[i]`: every accepted answer of query i; `predicted[i]`: the one entity chosen for it."""
    check_lengths(golds, predicted)
    if any(not answers for answers in golds):
        raise ValueError("ReCoRD scoring needs at least one gold answer per query")
    em = sum(max(exact_match(p, g) for g in answers) for answers, p in zip(golds, predicted))
    f1 = sum(max(token_f1(p, g) for g in answers) for answers, p in zip(golds, predicted))
    return {"em": 100.0 * em / len(golds), "f1": 100.0 * f1 / len(golds)}
