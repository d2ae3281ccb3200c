"""QA windows and answer search: answers in a later window, exact original characters, masked positions."""
import pytest
import torch

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.tasks.qa.answers import best_answers
from ptune.tasks.qa.windows import encode_windows
from tests.helpers import TINY_MODELS


def tokenizer_of(model: str):
    return load_tokenizer(compose([f"model={model}"]).model)


def logits_for(feature: dict, start: dict, end: dict) -> torch.Tensor:
    """[len, 2] logits of -5 except the given {position: value} starts and ends."""
    logits = torch.full((len(feature["input_ids"]), 2), -5.0)
    for position, value in start.items():
        logits[position, 0] = value
    for position, value in end.items():
        logits[position, 1] = value
    return logits


# "Who won?" -> [CLS] who won ? [SEP] (positions 0-4); the context is 16 x "red", alice, smith, won, "."
# (20 tokens). max_length 20 leaves 20 - 6 = 14 context tokens per window, and stride 4 makes the second
# window start at context token 14 - 4 = 10: window 1 holds context tokens 0-13 (all "red"), window 2
# tokens 10-19. "Alice Smith" is context tokens 16-17: only in window 2, at positions 5 + 6 = 11 and 12.
WINDOW_EXAMPLE = {"id": "w", "question": "Who won?", "context": " ".join(["red"] * 16) + " Alice Smith won.",
                  "answers": {"text": ["Alice Smith"], "answer_start": [16 * 4]}}


def test_answer_only_in_second_window_is_mapped_there():
    features = encode_windows([WINDOW_EXAMPLE], tokenizer_of("tiny-bert"), max_length=20, stride=4)
    assert len(features) == 2
    assert [(f["start_positions"], f["end_positions"]) for f in features] == [(0, 0), (11, 12)]
    assert features[1]["offsets"][11] == (64, 69) and features[1]["offsets"][12] == (70, 75)
    assert [f["example_index"] for f in features] == [0, 0]


def test_answer_only_in_second_window_is_found():
    first, second = encode_windows([WINDOW_EXAMPLE], tokenizer_of("tiny-bert"), max_length=20, stride=4)
    # window 1: "red red" at positions 6-7 scores 3 + 3 = 6, null 2 + 2 = 4;
    # window 2: "Alice Smith" at 11-12 scores 5 + 4 = 9, null 1 + 1 = 2.
    outputs = [logits_for(first, {6: 3.0, 0: 2.0}, {7: 3.0, 0: 2.0}),
               logits_for(second, {11: 5.0, 0: 1.0}, {12: 4.0, 0: 1.0})]
    answers, odds = best_answers([WINDOW_EXAMPLE], [first, second], outputs, n_best_size=5, max_answer_length=30)
    assert answers == {"w": "Alice Smith"} and odds == {}
    # SQuAD 2.0: null = min(4, 2) = 2, odds = 2 - 9 = -7; the span wins unless the threshold is below -7
    answers, odds = best_answers([WINDOW_EXAMPLE], [first, second], outputs, 5, 30, with_null=True)
    assert answers == {"w": "Alice Smith"} and odds == {"w": pytest.approx(-7.0)}
    answers, _ = best_answers([WINDOW_EXAMPLE], [first, second], outputs, 5, 30, with_null=True,
                              null_score_diff_threshold=-8.0)
    assert answers == {"w": ""}


def test_span_limits_and_question_tokens_are_never_answers():
    first, second = encode_windows([WINDOW_EXAMPLE], tokenizer_of("tiny-bert"), max_length=20, stride=4)
    # window 2 holds context positions 5-14 (red x 6, alice 11, smith 12, won 13, "." 14). The largest logits
    # sit on question tokens (start 1, end 2: 100 if they counted) and on start 13, whose ends 13-14 are
    # -100 (13 + 13 = -60); so the best valid pair is start 11 + end 12 = 2 + 1 = 3 -> "Alice Smith".
    outputs = [logits_for(first, {1: 50.0}, {2: 50.0}),
               logits_for(second, {1: 50.0, 13: 40.0, 11: 2.0}, {2: 50.0, 12: 1.0, 13: -100.0, 14: -100.0})]
    answers, _ = best_answers([WINDOW_EXAMPLE], [first, second], outputs, n_best_size=5, max_answer_length=30)
    assert answers == {"w": "Alice Smith"}
    # at most 1 token: 11-11 scores 2 - 5 = -3, 12-12 -5 + 1 = -4, 13-13 -60, the reds -10 -> "Alice"
    answers, _ = best_answers([WINDOW_EXAMPLE], [first, second], outputs, n_best_size=20, max_answer_length=1)
    assert answers == {"w": "Alice"}


ODD_CONTEXT = 'Prices rose to  "$1,200.50"\t(approx.) in Café Noir\'s  menu.'


@pytest.mark.parametrize("model", TINY_MODELS)
@pytest.mark.parametrize("answer", ['"$1,200.50"\t(approx.)', "Café Noir's", "1,200.50"])
def test_best_span_maps_back_to_exact_original_characters(model, answer):
    start_char = ODD_CONTEXT.index(answer)
    example = {"id": "odd", "question": "  What price?", "context": ODD_CONTEXT,
               "answers": {"text": [answer], "answer_start": [start_char]}}
    (feature,) = encode_windows([example], tokenizer_of(model), max_length=64, stride=16)
    start, end = feature["start_positions"], feature["end_positions"]
    assert feature["offsets"][start][0] == start_char
    assert feature["offsets"][end][1] == start_char + len(answer)
    answers, _ = best_answers([example], [feature], [logits_for(feature, {start: 9.0}, {end: 9.0})], 20, 30)
    assert answers == {"odd": answer}  # case, accents, tab and punctuation exactly as in the context


@pytest.mark.parametrize("model", TINY_MODELS)
def test_span_mask_allows_context_and_null_position_only(model):
    tokenizer = tokenizer_of(model)
    for feature in encode_windows([WINDOW_EXAMPLE], tokenizer, max_length=20, stride=4):
        encoded_question = tokenizer("Who won?")["input_ids"]
        allowed = [i for i, bit in enumerate(feature["span_mask"]) if bit]
        assert allowed[0] == 0 and allowed[1] >= len(encoded_question)  # no question token
        assert allowed[1:] == [i for i, span in enumerate(feature["offsets"]) if span is not None]
        assert feature["span_mask"][-1] == 0  # the closing special token


def test_unanswerable_and_bad_settings():
    unanswerable = {**WINDOW_EXAMPLE, "answers": {"text": [], "answer_start": []}}
    features = encode_windows([unanswerable], tokenizer_of("tiny-bert"), max_length=20, stride=4)
    assert all((f["start_positions"], f["end_positions"]) == (0, 0) for f in features)
    with pytest.raises(ValueError, match="task.stride=20 must be"):
        encode_windows([unanswerable], tokenizer_of("tiny-bert"), max_length=20, stride=20)
