"""Entity-level micro precision / recall / F1 (percentages) with seqeval, on whole words.

    entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])  -> {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    conlleval_scores(gold, predicted)  -> {"precision_conlleval", "recall_conlleval", "f1_conlleval"}
    f1_with_standard_error(gold, predicted)  -> (f1, its standard error over sentences)
    f1_of_counts([(2 correct, predicted + gold) per sentence])  -> the same, from entity counts

An entity counts as right only if its type and both boundaries match. The two readings differ on ill-formed
predictions: strict IOB2 mode (`entity_scores`, ptune's `f1`) reads a predicted I-X that does not continue a
B-X/I-X as no entity at all; seqeval's default mode (`conlleval_scores`, what the P-tuning v2 code and paper
report) reads it as conlleval does, as the start of an entity. `strict_iob2` writes the strict reading out as
tags, so the prediction files are valid IOB2 and conlleval on them gives the strict numbers.
"""
from __future__ import annotations

import math

from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2


def entity_scores(gold: list[list[str]], predicted: list[list[str]], strict: bool = True) -> dict[str, float]:
    if len(gold) != len(predicted) or any(len(g) != len(p) for g, p in zip(gold, predicted)):
        raise ValueError("gold and predicted tags need the same number of sentences and words per sentence")
    kwargs = {"mode": "strict", "scheme": IOB2, "zero_division": 0} if strict else {"zero_division": 0}
    return {"precision": 100.0 * float(precision_score(gold, predicted, **kwargs)),
            "recall": 100.0 * float(recall_score(gold, predicted, **kwargs)),
            "f1": 100.0 * float(f1_score(gold, predicted, **kwargs))}


def conlleval_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """seqeval's default (conlleval-compatible) mode, keys suffixed `_conlleval`."""
    return {f"{key}_conlleval": value for key, value in entity_scores(gold, predicted, strict=False).items()}


def strict_iob2(tags: list[str]) -> list[str]:
    """The tags strict IOB2 mode actually reads: an I-X that continues no entity of type X becomes O."""
    cleaned, inside = [], None
    for tag in tags:
        if tag.startswith("B-"):
            inside = tag[2:]
        elif not (tag.startswith("I-") and tag[2:] == inside):
            tag, inside = "O", None
        cleaned.append(tag)
    return cleaned


def without_types(tags: list[str], types: set[str]) -> list[str]:
    """Drop entities of the given types (the SRL scorer srl-eval.pl leaves the verb's own V out)."""
    return ["O" if tag != "O" and tag[2:] in types else tag for tag in tags]


def entity_spans(tags: list[str]) -> set[tuple[str, int, int]]:
    """(type, first word, last word) of each entity, read as strict IOB2 reads them (a stray I-X is no entity)."""
    return set(get_entities(strict_iob2(tags)))  # on valid IOB2, seqeval's reading is the strict one


def f1_with_standard_error(gold: list[list[str]], predicted: list[list[str]]) -> tuple[float, float]:
    """Entity F1 (strict IOB2, as `entity_scores`) and its standard error with the sentences as the sampled units:
    F1 = sum(2 correct) / sum(predicted + gold) is a ratio of sentence totals, whose variance the delta method
    gives as var(2 correct - F1 (predicted + gold)) / (n mean(predicted + gold)^2). Percentages."""
    spans = [(entity_spans(g), entity_spans(p)) for g, p in zip(gold, predicted, strict=True)]
    return f1_of_counts([(2 * len(g & p), len(g) + len(p)) for g, p in spans])


def f1_of_counts(counts: list[tuple[int, int]]) -> tuple[float, float]:
    """`f1_with_standard_error` of per-sentence (2 correct, predicted + gold) entity counts."""
    found = sum(entities for _, entities in counts)
    if not found or len(counts) < 2:
        return 0.0, 0.0
    f1 = sum(correct for correct, _ in counts) / found
    spread = sum((correct - f1 * entities) ** 2 for correct, entities in counts) / (len(counts) - 1)
    return 100.0 * f1, 100.0 * math.sqrt(spread / len(counts)) / (found / len(counts))
