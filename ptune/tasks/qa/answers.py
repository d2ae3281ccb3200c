"""Extractive QA post-processing: from span logits of every window back to answer text in the context.

    answers, null_odds = best_answers(examples, features, outputs, n_best_size=20, max_answer_length=30,
                                      with_null=True, null_score_diff_threshold=0.0)

For each example, every window (feature) proposes the pairs of its `n_best_size` best start and
`n_best_size` best end tokens; a pair counts when both tokens are context tokens (their offsets are
not None), the end is not before the start and the span has at most `max_answer_length` tokens. Its
score is start logit + end logit, and the best pair over all windows gives the answer text: the
context's characters from the start token's first to the end token's last character, exactly as they
stand in the original context. With `with_null` (SQuAD 2.0) the null answer competes: its score is the
smallest start + end logit at position 0 over the windows, null_odds = null score - best span score,
and the answer is "" when null_odds > null_score_diff_threshold. Without a valid span the answer is "".
"""
from __future__ import annotations

from collections import defaultdict

import torch

from ptune.tasks.qa.windows import NULL_POSITION

NO_SPAN_ODDS = 1e9  # null odds recorded when no span fits at all (JSON has no infinity)


def span_candidates(logits: torch.Tensor, offsets: list, n_best_size: int, max_answer_length: int):
    """(score, first char, end char) of the valid spans among the n-best starts x n-best ends of one window."""
    starts, ends = logits[:, 0], logits[:, 1]
    count = min(n_best_size, len(offsets))
    start_indices = torch.topk(starts, count).indices.tolist()
    end_indices = torch.topk(ends, count).indices.tolist()
    for start in start_indices:
        if offsets[start] is None:
            continue
        for end in end_indices:
            if offsets[end] is None or end < start or end - start + 1 > max_answer_length:
                continue
            yield float(starts[start] + ends[end]), offsets[start][0], offsets[end][1]


def best_answers(examples: list[dict], features: list[dict], outputs: list[torch.Tensor], n_best_size: int,
                 max_answer_length: int, with_null: bool = False,
                 null_score_diff_threshold: float = 0.0) -> tuple[dict[str, str], dict[str, float]]:
    """(question id -> answer text, question id -> null odds); null odds only with `with_null`."""
    if len(features) != len(outputs):
        raise ValueError(f"{len(features)} QA features but {len(outputs)} outputs")
    windows = defaultdict(list)
    for feature, logits in zip(features, outputs):
        windows[feature["example_index"]].append((feature, logits.float()))
    answers, null_odds = {}, {}
    for index, example in enumerate(examples):
        best, null_score = None, None
        for feature, logits in windows[index]:
            for candidate in span_candidates(logits, feature["offsets"], n_best_size, max_answer_length):
                if best is None or candidate[0] > best[0]:
                    best = candidate
            window_null = float(logits[NULL_POSITION, 0] + logits[NULL_POSITION, 1])
            null_score = window_null if null_score is None else min(null_score, window_null)
        text = "" if best is None else example["context"][best[1]:best[2]]
        if with_null:
            odds = NO_SPAN_ODDS if best is None or null_score is None else null_score - best[0]
            null_odds[example["id"]] = odds
            if odds > null_score_diff_threshold:
                text = ""
        answers[example["id"]] = text
    return answers, null_odds
