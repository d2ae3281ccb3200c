"""SuperGLUE's reading-comprehension tasks, flattened the way the hub (aps/super_glue) flattens them.

- MultiRC (`multirc`): one binary example per answer option, the pair (paragraph, "<question> <answer>");
  example = {paragraph, question, answer, idx: {paragraph, question, answer}, label 0/1/None}.
  Scored by F1a and EM; written nested per passage: {"idx": p, "passage": {"questions": [{"idx": q,
  "answers": [{"idx": a, "label": 0/1}]}]}}.
- ReCoRD (`record`): one example per query, {passage, query, entities, answers, idx: {passage, query}}
  (entities / answers: the unique texts, sorted, as on the hub); its features are one binary pair per
  candidate entity, (passage, query with @placeholder replaced by the entity), label 1 when the entity is
  a gold answer. The prediction per query is the candidate with the highest positive score, written as
  {"idx": query idx, "label": "entity text"}; scored by max-over-gold EM and token F1.
  Local files: the official layout, passage {text, entities [{start, end}]} with inclusive character
  offsets and qas [{query, answers [{start, end, text}], idx}].
"""
from __future__ import annotations

from ptune.tasks import TASKS
from ptune.tasks.superglue.metrics import multirc_scores, record_scores
from ptune.tasks.superglue.task import SuperGlueTask, encode_pairs

PLACEHOLDER = "@placeholder"


@TASKS.register("multirc")
class MultiRC(SuperGlueTask):
    def from_local(self, record):
        passage = record["passage"]
        return [self.normalise({
            "paragraph": passage["text"], "question": question["question"], "answer": answer["text"],
            "idx": {"paragraph": record["idx"], "question": question["idx"], "answer": answer["idx"]},
            "label": answer.get("label")})
            for question in passage["questions"] for answer in question["answers"]]

    def features(self, examples, tokenizer, max_length):
        pairs = [(e["paragraph"], f"{e['question']} {e['answer']}") for e in examples]
        return [{**inputs, "labels": e["label"] if e["label"] is not None else -100}
                for inputs, e in zip(encode_pairs(tokenizer, pairs, max_length), examples)]

    def predict(self, examples, features, outputs):
        return [{"idx": e["idx"], "label": int(output.argmax())} for e, output in zip(examples, outputs)]

    def score(self, examples, predictions):
        if not self.labelled(examples):
            return None
        questions = [(e["idx"]["paragraph"], e["idx"]["question"]) for e in examples]
        return multirc_scores(questions, [e["label"] for e in examples], [p["label"] for p in predictions])

    def write_predictions(self, predictions, folder, split):
        passages: dict = {}  # paragraph idx -> question idx -> [answers], in the order first seen
        for p in predictions:
            idx = p["idx"]
            questions = passages.setdefault(idx["paragraph"], {})
            questions.setdefault(idx["question"], []).append({"idx": idx["answer"], "label": p["label"]})
        nested = [{"idx": paragraph, "passage": {"questions": [{"idx": question, "answers": answers}
                                                               for question, answers in questions.items()]}}
                  for paragraph, questions in passages.items()]
        return super().write_predictions(nested, folder, split)


@TASKS.register("record")
class ReCoRD(SuperGlueTask):
    def from_local(self, record):
        passage, where = record["passage"], f"task {self.name}, passage idx {record.get('idx')}"
        text = passage["text"]
        entities = set()
        for entity in passage["entities"]:
            if not 0 <= entity["start"] <= entity["end"] < len(text):
                raise ValueError(f"{where}: entity offsets {entity['start']}..{entity['end']} (inclusive) lie "
                                 f"outside the passage of {len(text)} characters")
            entities.add(text[entity["start"]:entity["end"] + 1])
        return [{"passage": text, "query": qa["query"], "entities": sorted(entities),
                 "answers": sorted({answer["text"] for answer in qa.get("answers", [])}),
                 "idx": {"passage": record["idx"], "query": qa["idx"]}}
                for qa in record["qas"]]

    def from_hub(self, row):
        return {"passage": row["passage"], "query": row["query"], "entities": sorted(set(row["entities"])),
                "answers": sorted(set(row["answers"])), "idx": dict(row["idx"])}

    def candidates(self, example) -> list[str]:
        if PLACEHOLDER not in example["query"]:
            raise ValueError(f"task {self.name}: query idx {example['idx']['query']} has no {PLACEHOLDER}")
        return example["entities"]

    def features(self, examples, tokenizer, max_length):
        keys, pairs = [], []
        for index, example in enumerate(examples):
            passage = example["passage"].replace("@highlight\n", "- ")  # CNN/Daily Mail bullet markers
            for entity in self.candidates(example):
                keys.append((index, entity, entity in example["answers"] if example["answers"] else None))
                pairs.append((passage, example["query"].replace(PLACEHOLDER, entity)))
        return [{**inputs, "example_index": index, "candidate": entity,
                 "labels": -100 if gold is None else int(gold)}
                for inputs, (index, entity, gold) in zip(encode_pairs(tokenizer, pairs, max_length), keys)]

    def predict(self, examples, features, outputs):
        best: dict[int, tuple[float, str]] = {}
        for feature, output in zip(features, outputs):
            score = float(output[1] - output[0])  # log-odds of "this entity fills the placeholder"
            index = feature["example_index"]
            if index not in best or score > best[index][0]:
                best[index] = (score, feature["candidate"])
        return [{"idx": e["idx"]["query"], "label": best[i][1] if i in best else ""} for i, e in enumerate(examples)]

    def score(self, examples, predictions):
        if any(not e["answers"] for e in examples):
            return None
        return record_scores([e["answers"] for e in examples], [p["label"] for p in predictions])
