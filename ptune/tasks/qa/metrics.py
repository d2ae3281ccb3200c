"""SQuAD exact match and token F1, following the rules of the official v1.1 and v2.0 evaluation scripts.

    score_squad(gold_answers, predictions, version=1)   # {"exact_match", "f1"} in 0-100
    score_squad(gold_answers, predictions, version=2)   # + has_ans_* and no_ans_* breakdowns

The rules: an answer is normalised by lower-casing, deleting ASCII punctuation, replacing the articles
a / an / the (as whole words) by a space and collapsing whitespace; EM is equality of normalised texts and
F1 the harmonic mean of precision and recall of the bag of normalised tokens; each question scores the
maximum over its gold answers. Version 2.0 differs in three places: gold answers that normalise to nothing
are dropped and a question left without any is unanswerable (its only gold answer is ""), F1 is 1 when
both sides have no tokens (0 when only one has), and the scores are also reported separately for the
questions with gold answers (HasAns) and those without (NoAns). Here every question must have a prediction.
"""
from __future__ import annotations

import re
import string
from collections import Counter

PUNCTUATION = frozenset(string.punctuation)
ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    text = "".join(char for char in text.lower() if char not in PUNCTUATION)
    text = ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str, version: int = 1) -> float:
    predicted_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if version == 2 and (not predicted_tokens or not gold_tokens):
        return float(predicted_tokens == gold_tokens)  # 2.0: "no answer" is right only against "no answer"
    overlap = sum((Counter(predicted_tokens) & Counter(gold_tokens)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted_tokens), overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_texts(answers: list[str], version: int) -> list[str]:
    """The gold answers a question is scored against ([""] for an unanswerable 2.0 question)."""
    if version == 1:
        return list(answers)
    kept = [text for text in answers if normalize_answer(text)]
    return kept or [""]


def question_scores(prediction: str, answers: list[str], version: int) -> tuple[float, float]:
    """(EM, F1) of one question in 0-1: the best over its gold answers."""
    golds = gold_texts(answers, version)
    if not golds:
        raise ValueError("a SQuAD 1.1 question needs at least one gold answer")
    return (max(exact_match(prediction, gold) for gold in golds),
            max(token_f1(prediction, gold, version) for gold in golds))


def score_squad(gold_answers: dict[str, list[str]], predictions: dict[str, str], version: int) -> dict[str, float]:
    """gold_answers: question id -> gold answer texts; predictions: question id -> predicted text."""
    if version not in (1, 2):
        raise ValueError(f"SQuAD version must be 1 or 2, got {version!r}")
    missing = [qid for qid in gold_answers if qid not in predictions]
    if missing or not gold_answers:
        raise ValueError(f"no prediction for {len(missing)} of {len(gold_answers)} questions (e.g. {missing[:3]})")
    per_question = {qid: question_scores(predictions[qid], answers, version) for qid, answers in gold_answers.items()}
    scores = _averages(per_question.values(), "")
    if version == 2:
        # as in the official script, HasAns means "has gold answers", even ones that normalise to nothing
        has_answer = {qid: bool(answers) for qid, answers in gold_answers.items()}
        for prefix, wanted in (("has_ans_", True), ("no_ans_", False)):
            group = [per_question[qid] for qid in per_question if has_answer[qid] == wanted]
            if group:  # the official script leaves out a breakdown with no questions
                scores |= _averages(group, prefix)
    return scores


def _averages(pairs, prefix: str) -> dict[str, float]:
    pairs = list(pairs)
    return {f"{prefix}exact_match": 100.0 * sum(em for em, _ in pairs) / len(pairs),
            f"{prefix}f1": 100.0 * sum(f1 for _, f1 in pairs) / len(pairs)}
