"""Sequence labeling on pre-split words: one label per word, a linear head per token (NER and SRL share this).

Records are `{"id", "words", "tags"}` (IOB2 strings; SRL adds `predicate_index`). Features follow the
transformers NER recipe: the first sub-word of each word carries its label, other sub-words and special
tokens -100. A sentence longer than max_length is cut into consecutive word windows (each with the
special tokens and, for SRL, the predicate) and the count is printed; a word no window reaches is
predicted "O", so every gold entity still counts. Predictions are written in CoNLL evaluation format:

    <folder>/<split>.conll:   word gold predicted   (one line per word, a blank line between sentences)
"""
from __future__ import annotations

import logging
from pathlib import Path

from ptune.tasks.base import Task
from ptune.tasks.tagging.metrics import conlleval_scores, entity_scores, strict_iob2

log = logging.getLogger(__name__)


class TaggingTask(Task):
    head = "token_classification"
    words_pretokenized = True

    def __init__(self, cfg, data_dir):
        super().__init__(cfg, data_dir)
        self.labels = ["O"] + [f"{p}-{t}" for t in cfg.entity_types for p in ("B", "I")]
        self.label_ids = {label: i for i, label in enumerate(self.labels)}
        self.window_counts: dict[str, int] = {}  # what the last features() call had to cut into windows
        self.windowed_sentences = 0  # over every features() call of this run: recorded in the row

    @property
    def num_labels(self) -> int:
        return len(self.labels)

    # hub ----------------------------------------------------------------------------------------------
    def hub_examples(self, split: str) -> list[dict]:
        """One hub row may hold several examples (a document of sentences, a sentence of predicates)."""
        rows = self.hub_rows(split)
        self.hub_features = getattr(rows, "features", None)  # names the class ids of tag columns
        examples = [example for index, row in enumerate(rows) for example in self.from_hub_row(dict(row), index)]
        for number, example in enumerate(examples):
            example.setdefault("id", f"{split}-{number}")
        return examples

    def from_hub_row(self, row: dict, index: int) -> list[dict]:
        raise NotImplementedError

    # model side ---------------------------------------------------------------------------------------
    def data_description(self) -> dict:
        return {"sentences_over_max_length_windowed": self.windowed_sentences}

    def pair_words(self, example: dict) -> list[str] | None:
        """Words encoded after the separator (SRL: the predicate); None for single-sequence tasks."""
        return None

    def windows(self, examples: list[dict], tokenizer, max_length: int) -> list[tuple[int, int, int]]:
        """(example index, first word, end word) covering every word, each window within max_length tokens."""
        pairs = [self.pair_words(e) for e in examples]
        sub_words = tokenizer([e["words"] for e in examples], is_split_into_words=True, add_special_tokens=False)
        windows, windowed = [], 0
        pair_ids = tokenizer([p or [] for p in pairs], is_split_into_words=True, add_special_tokens=False)["input_ids"]
        for index, example in enumerate(examples):
            pair, pair_length = pairs[index], len(pair_ids[index])
            budget = max_length - tokenizer.num_special_tokens_to_add(pair=pair is not None) - pair_length
            if budget < 1:
                raise ValueError(f"task {self.name}: max_length {max_length} leaves no room for the words of "
                                 f"example {example.get('id')} (special tokens + {pair_length} pair tokens)")
            counts = [0] * len(example["words"])
            for word in sub_words.word_ids(index):
                if word is not None:
                    counts[word] += 1
            start, used = 0, 0
            for word, count in enumerate(counts):
                if used + count > budget and word > start:
                    windows.append((index, start, word))
                    start, used = word, 0
                used += count
            if counts:
                windows.append((index, start, len(counts)))
            windowed += start > 0
        self.window_counts = {"examples": len(examples), "windowed_examples": windowed, "windows": len(windows)}
        self.windowed_sentences += windowed
        if windowed:
            log.info(f"task {self.name}: {windowed} of {len(examples)} sentences exceed max_length {max_length} "
                     f"and were cut into {len(windows)} word windows in all (every word keeps a prediction)")
        return windows

    def features(self, examples, tokenizer, max_length):
        windows = self.windows(examples, tokenizer, max_length)
        texts = [examples[i]["words"][start:end] for i, start, end in windows]
        pairs = [self.pair_words(examples[i]) for i, _, _ in windows]
        has_pair = any(p is not None for p in pairs)
        encoded = tokenizer(texts, pairs if has_pair else None, is_split_into_words=True,
                            truncation="only_first" if has_pair else True, max_length=max_length)
        features, unknown = [], 0
        for row, (index, start, _) in enumerate(windows):
            tags = examples[index].get("tags")
            labels, positions, previous = [], [], None
            for position, (word, sequence) in enumerate(zip(encoded.word_ids(row), encoded.sequence_ids(row))):
                first = sequence == 0 and word is not None and word != previous
                previous = word if sequence == 0 else previous
                if not first:
                    labels.append(-100)
                    continue
                positions.append((start + word, position))
                label = self.label_ids.get(tags[start + word], -100) if tags else -100
                unknown += bool(tags) and label == -100
                labels.append(label)
            feature = {key: encoded[key][row] for key in encoded.keys()}
            features.append(feature | {"labels": labels, "example_index": index, "word_positions": positions})
        if unknown:
            log.info(f"task {self.name}: {unknown} words carry tags outside task.entity_types; they are left out of "
                     f"the loss (and still scored)")
        return features

    def predict(self, examples, features, outputs):
        predicted = [["O"] * len(e["words"]) for e in examples]
        for feature, logits in zip(features, outputs):
            best = logits.argmax(-1).tolist()
            for word, position in feature["word_positions"]:
                predicted[feature["example_index"]][word] = self.labels[best[position]]
        return [{**{k: e[k] for k in ("id", "words", "predicate_index") if k in e}, "gold": e.get("tags"),
                 "predicted": strict_iob2(tags), "predicted_raw": tags} for e, tags in zip(examples, predicted)]

    def score(self, examples, predictions):
        """Strict IOB2 scores (precision, recall, f1) and the conlleval reading of the raw tags (*_conlleval)."""
        if any(e.get("tags") is None for e in examples):
            return None
        gold = [e["tags"] for e in examples]
        return {**entity_scores(gold, [p["predicted"] for p in predictions]),
                **conlleval_scores(gold, [p.get("predicted_raw", p["predicted"]) for p in predictions])}

    def write_predictions(self, predictions, folder: Path, split: str) -> Path:
        """<split>.conll (strict IOB2 tags: conlleval on it gives `f1`) and <split>.raw.conll (the tags as
        predicted: conlleval on it gives `f1_conlleval`)."""
        path = Path(folder) / f"{split}.conll"
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, key in ((path, "predicted"), (path.with_suffix(".raw.conll"), "predicted_raw")):
            with open(target, "w", encoding="utf-8") as handle:
                for prediction in predictions:
                    gold = prediction["gold"] or ["_"] * len(prediction["words"])
                    for word, tag, guess in zip(prediction["words"], gold, prediction.get(key, prediction["predicted"])):
                        handle.write(f"{'_'.join(word.split()) or '_'} {tag} {guess}\n")
                    handle.write("\n")
        return path
