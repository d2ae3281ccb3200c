"""Classification metrics as SuperGLUE defines them (plain Python, checked against hand-computed values)."""
from __future__ import annotations


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
