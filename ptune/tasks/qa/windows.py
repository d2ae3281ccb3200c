"""Extractive QA preprocessing: question + context pairs cut into overlapping windows of the context.

    features = encode_windows(examples, tokenizer, max_length=384, stride=128)

An example is a SQuAD record: id, question, context, answers {text: [...], answer_start: [...]}. A context
longer than the window is split into several features whose contexts overlap by `stride` tokens; the
question is repeated in every one. Each feature holds:
- the tensors input_ids, attention_mask (token_type_ids when the tokenizer makes them);
- start_positions / end_positions: the tokens of the first gold answer when it lies wholly inside this
  window, else 0 (the [CLS] / null position), as for unanswerable questions;
- span_mask: 1 on context tokens and on position 0 only, so the span head can never pick question tokens,
  special tokens or padding;
- metadata: example_index (into `examples`) and offsets (character span in the context of each token,
  None for every token outside the context).
"""
from __future__ import annotations

NULL_POSITION = 0  # [CLS] / <s>: the "no answer in this window" position


def encode_windows(examples: list[dict], tokenizer, max_length: int, stride: int) -> list[dict]:
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"QA windows need a fast tokenizer (offsets, sequence ids); got {type(tokenizer).__name__}")
    if not 0 <= stride < max_length:
        raise ValueError(f"task.stride={stride} must be >= 0 and smaller than task.max_length={max_length}")
    # Leading whitespace in questions (some SQuAD questions have lots) only wastes window room.
    questions = [example["question"].lstrip() for example in examples]
    try:
        encoded = tokenizer(questions, [example["context"] for example in examples], truncation="only_second",
                            max_length=max_length, stride=stride, return_overflowing_tokens=True,
                            return_offsets_mapping=True)
    except Exception as error:  # the tokenizer's own message says nothing about which settings to change
        raise ValueError(f"could not cut QA windows with task.max_length={max_length}, task.stride={stride} "
                         f"(a question too long for the window?): {error}") from error
    tensor_keys = [key for key in ("input_ids", "attention_mask", "token_type_ids") if key in encoded]
    features = []
    for row, example_index in enumerate(encoded["overflow_to_sample_mapping"]):
        sequence_ids = encoded.sequence_ids(row)
        if sequence_ids[NULL_POSITION] is not None:
            raise ValueError("QA windows expect a special token ([CLS] / <s>) at position 0 as the null answer")
        offsets = [tuple(span) if sequence == 1 else None
                   for span, sequence in zip(encoded["offset_mapping"][row], sequence_ids)]
        start, end = answer_positions(examples[example_index], offsets)
        features.append({**{key: encoded[key][row] for key in tensor_keys},
                         "start_positions": start, "end_positions": end,
                         "span_mask": [int(i == NULL_POSITION or span is not None) for i, span in enumerate(offsets)],
                         "example_index": example_index, "offsets": offsets})
    return features


def answer_positions(example: dict, offsets: list[tuple[int, int] | None]) -> tuple[int, int]:
    """Token positions of the first gold answer in this window, or (0, 0) when it is not wholly inside it."""
    answers = example.get("answers") or {}
    if not answers.get("text"):
        return NULL_POSITION, NULL_POSITION
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    context = [i for i, span in enumerate(offsets) if span is not None]
    if not context or start_char < offsets[context[0]][0] or end_char > offsets[context[-1]][1]:
        return NULL_POSITION, NULL_POSITION
    start = max(i for i in context if offsets[i][0] <= start_char)  # the token the answer starts in
    end = min(i for i in context if offsets[i][1] >= end_char)  # the token the answer ends in
    return start, end
