"""SuperGLUE tasks whose inputs need a template: COPA (2-way multiple choice), WiC and WSC.

`task.template` names the input template (an unknown name fails with the choices). The `ptv2*` templates are
those of the P-tuning v2 code (THUDM/P-tuning-v2 tasks/superglue/dataset.py, `template_id` 0 and 1):
- COPA `ptv2` (default): for each choice the pair ("<premise> because" | "<premise> so", "<choice>"), the
  premise kept whole with its final stop; `no_period`: the premise without its final stop (ptune's first form).
- WiC `marked` (default): ("<word>: <sentence1 with the target *marked*>", "<sentence2 with the target *marked*>"),
  marked at the character offsets start/end (end exclusive); `ptv2_roberta` (template_id 0, the repo's RoBERTa
  runs): one segment "<sentence1> <sentence2> Does <word> have the same meaning in both sentences?";
  `ptv2_bert` (template_id 1, its BERT runs): the pair ("<word>: <sentence1>", "<word>: <sentence2>").
- WSC `marked` (default): ("<text with the noun [span1] and the pronoun *span2* marked>", "<span1 text>"), marked
  at the whitespace-word indices span1_index / span2_index; `ptv2` (template_id 0, both of the repo's WSC runs):
  ("<span2 text>: <text>", "<span1 text>"). Label True when the pronoun refers to the noun.
WSC `variant`: `wsc` (the original span texts; the repo's runs load this config) or `wsc.fixed` (the hub's copy
with span texts that are not substrings of the text corrected); local files hold the original, and
variant=wsc.fixed applies the same corrections to them (ptune/tasks/superglue/wsc_fix.py).
"""
from __future__ import annotations

import torch

from ptune.registry import unknown_name_message
from ptune.tasks import TASKS
from ptune.tasks.superglue import metrics
from ptune.tasks.superglue.task import (
    PairClassification,
    SuperGlueTask,
    encode_pairs,
)
from ptune.tasks.superglue.wsc_fix import fix_span_texts

COPA_CONNECTIVES = {"cause": "because", "effect": "so"}


def chosen_template(task, templates: dict) -> str:
    name = task.cfg.get("template")
    if name not in templates:
        raise ValueError(f"task {task.name}: {unknown_name_message('task.template', name, list(templates))}")
    return name


@TASKS.register("copa")
class Copa(SuperGlueTask):
    """Premise + connective paired with each choice; label 0 = choice1, 1 = choice2 (written as 0 / 1)."""

    head = "multiple_choice"
    TEMPLATES = {"ptv2": lambda premise: premise, "no_period": lambda premise: premise.rstrip().rstrip(".")}

    def __init__(self, cfg, data_dir):
        super().__init__(cfg, data_dir)
        self.template = chosen_template(self, self.TEMPLATES)

    def choice_pairs(self, example: dict) -> list[tuple[str, str]]:
        if example["question"] not in COPA_CONNECTIVES:
            raise ValueError(f"task {self.name}: question {example['question']!r} of idx {example['idx']} is not "
                             f"one of {list(COPA_CONNECTIVES)}")
        context = f"{self.TEMPLATES[self.template](example['premise'])} {COPA_CONNECTIVES[example['question']]}"
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

    TEMPLATES = ("marked", "ptv2_roberta", "ptv2_bert")

    def __init__(self, cfg, data_dir):
        super().__init__(cfg, data_dir)
        self.template = chosen_template(self, dict.fromkeys(self.TEMPLATES))

    def text_pair(self, example):
        word, first, second = example["word"], example["sentence1"], example["sentence2"]
        if self.template == "ptv2_roberta":
            return f"{first} {second} Does {word} have the same meaning in both sentences?", None
        if self.template == "ptv2_bert":
            return f"{word}: {first}", f"{word}: {second}"
        where = f"task {self.name}, idx {example['idx']}"
        first = mark_characters(first, example["start1"], example["end1"], where)
        second = mark_characters(second, example["start2"], example["end2"], where)
        return f"{word}: {first}", second


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

    TEMPLATES = ("marked", "ptv2")
    VARIANTS = ("wsc", "wsc.fixed")

    def __init__(self, cfg, data_dir):
        super().__init__(cfg, data_dir)
        self.template = chosen_template(self, dict.fromkeys(self.TEMPLATES))
        if cfg.get("variant") not in self.VARIANTS:
            raise ValueError(f"task {self.name}: {unknown_name_message('task.variant', cfg.get('variant'), list(self.VARIANTS))}")

    def text_pair(self, example):
        target, where = example["target"], f"task {self.name}, idx {example['idx']}"
        if self.template == "ptv2":
            return f"{target['span2_text']}: {example['text']}", target["span1_text"]
        words = example["text"].split()
        mark_words(words, target["span1_index"], target["span1_text"], "[", "]", where)
        mark_words(words, target["span2_index"], target["span2_text"], "*", "*", where)
        return " ".join(words), target["span1_text"]

    def from_local(self, record):
        """Local files hold the original spans; variant wsc.fixed corrects them as the hub's wsc.fixed does."""
        if self.cfg.variant == "wsc.fixed":
            record["target"] = fix_span_texts(record["text"], dict(record["target"]))
        return super().from_local(record)

    def from_hub(self, row):
        """The hub flattens `target`; put it back as the local files have it."""
        keys = ("span1_index", "span2_index", "span1_text", "span2_text")
        row["target"] = {key: row.pop(key) for key in keys}
        return self.normalise(row)
