"""SuperGLUE's reading-comprehension metrics, by the rules of the official scorers.

- MultiRC: F1a = F1 of the positive class over every answer option; EM = share of questions whose answer
  options are all predicted right.
- ReCoRD: per query the best over the gold answers of exact match and of token F1, after the SQuAD
  normalisation (lower case, drop punctuation, drop the articles a/an/the, collapse white space).
All scores are percentages.
"""
from __future__ import annotations

from ptune.tasks.metrics import check_lengths, f1_binary
from ptune.tasks.squad_metrics import exact_match, token_f1  # ReCoRD's official scorer uses SQuAD 1.1's rules


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
