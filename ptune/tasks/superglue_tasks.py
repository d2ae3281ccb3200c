"""SuperGLUE tasks whose inputs need a template: COPA (2-way multiple choice), WiC and WSC (marked pairs).

Templates, following the P-tuning v2 setup:
- COPA: for each choice the pair ("<premise without its final stop> because" | "... so", "<choice>"),
  `because` when the question asks for the cause, `so` for the effect; the head scores both choices.
- WiC: ("<word>: <sentence1 with the target *marked*>", "<sentence2 with the target *marked*>"), marked at
  the character offsets start/end (end exclusive) that the data gives.
- WSC: ("<text with the noun [span1] and the pronoun *span2* marked>", "<span1 text>"), marked at the
  whitespace-word indices span1_index / span2_index; label True when the pronoun refers to the noun.
"""
from __future__ import annotations

import torch

from ptune.tasks import metrics
from ptune.tasks.base import TASKS
from ptune.tasks.superglue import PairClassification, SuperGlueConfig, SuperGlueTask, encode_pairs

COPA_CONNECTIVES = {"cause": "because", "effect": "so"}


@TASKS.register("copa")
class Copa(SuperGlueTask):
    """Premise + connective paired with each choice; label 0 = choice1, 1 = choice2 (written as 0 / 1)."""

    head = "multiple_choice"

    def choice_pairs(self, example: dict) -> list[tuple[str, str]]:
        if example["question"] not in COPA_CONNECTIVES:
            raise ValueError(f"task {self.name}: question {example['question']!r} of idx {example['idx']} is not "
                             f"one of {list(COPA_CONNECTIVES)}")
        context = f"{example['premise'].rstrip().rstrip('.')} {COPA_CONNECTIVES[example['question']]}"
        return [(context, example["choice1"]), (context, example["choice2"])]

    def features(self, examples, tokenizer, max_length):
        pairs = [pair for e in examples for pair in self.choice_pairs(e)]
        encoded = encode_pairs(tokenizer, pairs, max_length)
        features = []
        for i, example in enumerate(examples):
            choices = encoded[2 * i:2 * i + 2]
            features.append({**{key: [c[key] for c in choices] for key in choices[0]},  # [choices][tokens]
                             "labels": example["label"] if example["label"] is not None else -100})
        return features

    def predict(self, examples, features, outputs):
        return [{"idx": e["idx"], "label": int(torch.argmax(o))} for e, o in zip(examples, outputs)]

    def score(self, examples, predictions):
        if not self.labelled(examples):
            return None
        return {"accuracy": metrics.accuracy([e["label"] for e in examples], [p["label"] for p in predictions])}


def mark_characters(text: str, start: int, end: int, where: str) -> str:
    if not 0 <= start < end <= len(text):
        raise ValueError(f"{where}: offsets {start}:{end} lie outside the sentence of {len(text)} characters")
    return f"{text[:start]}*{text[start:end]}*{text[end:]}"


@TASKS.register("wic")
class WordInContext(PairClassification):
    """Is the target word used in the same sense in both sentences? (labels false / true)."""
    config_class = SuperGlueConfig  # its text pair is built from its own keys, not cfg.fields

    def text_pair(self, example):
        where = f"task {self.name}, idx {example['idx']}"
        first = mark_characters(example["sentence1"], example["start1"], example["end1"], where)
        second = mark_characters(example["sentence2"], example["start2"], example["end2"], where)
        return f"{example['word']}: {first}", second


def mark_words(words: list[str], index: int, span_text: str, left: str, right: str, where: str) -> None:
    """Wrap the len(span_text.split()) words from `index` in markers, in place."""
    length = max(1, len(span_text.split()))
    if not 0 <= index <= len(words) - length:
        raise ValueError(f"{where}: span {span_text!r} at word {index} lies outside the text of {len(words)} words")
    words[index] = left + words[index]
    words[index + length - 1] = words[index + length - 1] + right


@TASKS.register("wsc")
class WinogradSchema(PairClassification):
    """Does the pronoun (span2) refer to the noun phrase (span1)? Labels False / True, as the leaderboard."""
    config_class = SuperGlueConfig

    def text_pair(self, example):
        target, where = example["target"], f"task {self.name}, idx {example['idx']}"
        words = example["text"].split()
        mark_words(words, target["span1_index"], target["span1_text"], "[", "]", where)
        mark_words(words, target["span2_index"], target["span2_text"], "*", "*", where)
        return " ".join(words), target["span1_text"]

    def from_hub(self, row):
        """The hub flattens `target`; put it back as the local files have it."""
        keys = ("span1_index", "span2_index", "span1_text", "span2_text")
        row["target"] = {key: row.pop(key) for key in keys}
        return self.normalise(row)
