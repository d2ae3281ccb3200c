"""Named entity recognition (CoNLL-2003, CoNLL-2004, OntoNotes 5.0): local files in their usual layouts, or the hub.

Local layout, set per task in conf/task/<name>.yaml under `local` (first existing file of each list wins):
- column files: one `word ... tag` line per word (the tag in column `tag_column`, default last), a blank
  line between sentences, `-DOCSTART-` lines dropped; `scheme: iob1` converts IOB1 tags to IOB2
  (conll03: eng.train / eng.testa / eng.testb; ontonotes: onto.{train,development,test}.ner, `word<TAB>tag`);
- `.json` files in the SpERT layout (conll04_{train,dev,test}.json: a list of {"tokens": [...],
  "entities": [{"type", "start", "end"}]}, end exclusive), the widely used 922 / 231 / 288 CoNLL04 split.
Hub formats (`hub.format`): tokens_tags (a tokens column and a tags column of strings, or ints named by
`hub.tag_names`), tokens_spans (tokens + SpERT-style entities), conll2012_documents (rows are documents of
`sentences` with `words` and `named_entities`, as ontonotes/conll2012_ontonotesv5).
"""
from __future__ import annotations

import json
from pathlib import Path

from ptune.tasks import TASKS
from ptune.tasks.data import ENCODING, DataFileError, require_file
from ptune.tasks.hub import class_label_names
from ptune.tasks.tagging.formats import (
    check_tags,
    iob1_to_iob2,
    read_column_sentences,
    spans_to_bio,
)
from ptune.tasks.tagging.task import TaggingTask


@TASKS.register("ner")
class NerTask(TaggingTask):
    def local_path(self, split: str) -> Path:
        candidates = [self.data_dir / self.cfg.local.folder / name for name in self.cfg.local.files[split]]
        return next((path for path in candidates if path.is_file()), candidates[0])

    def local_files(self, split: str) -> list[Path]:
        return [self.local_path(split)]

    def has_split(self, split: str) -> bool:
        return self.data_dir is None or self.local_path(split).is_file()

    def local_examples(self, split: str) -> list[dict]:
        path = self.local_path(split)
        names = ", ".join(str(n) for n in self.cfg.local.files[split])
        require_file(path, hint=f" as {self.cfg.local.folder}/<one of: {names}>")
        if path.suffix == ".json":
            return self.read_spert_json(path, split)
        examples = []
        for number, sentence in enumerate(read_column_sentences(path, min_fields=2)):
            tags = sentence.column(self.cfg.local.get("tag_column", -1))
            tags = iob1_to_iob2(tags) if self.cfg.local.get("scheme", "iob2") == "iob1" else tags
            check_tags(tags, set(self.cfg.entity_types), f"{path}:{sentence.line}")
            examples.append({"id": f"{split}-{number}", "words": sentence.words, "tags": tags})
        return examples

    def read_spert_json(self, path: Path, split: str) -> list[dict]:
        try:
            records = json.loads(path.read_text(encoding=ENCODING))
            return [{"id": f"{split}-{n}", **self.from_spans(r["tokens"], r["entities"])} for n, r in enumerate(records)]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise DataFileError(f"{path}: expected a JSON list of {{tokens, entities: [{{type, start, end}}]}} "
                                f"(the SpERT CoNLL04 layout): {error}") from None

    def from_spans(self, tokens: list[str], entities: list[dict]) -> dict:
        tags = spans_to_bio(len(tokens), [(e["start"], e["end"], e["type"]) for e in entities])
        return {"words": list(tokens), "tags": check_tags(tags, set(self.cfg.entity_types), "hub/json record")}

    def from_hub_row(self, row: dict, index: int) -> list[dict]:
        hub = self.cfg.hub
        if hub.format == "tokens_spans":
            return [self.from_spans(row[hub.get("tokens_key", "tokens")], row[hub.get("spans_key", "entities")])]
        if hub.format == "tokens_tags":
            sentences = [(row[hub.get("tokens_key", "tokens")], row[hub.get("tags_key", "ner_tags")])]
        elif hub.format == "conll2012_documents":
            sentences = [(s["words"], s["named_entities"]) for s in row["sentences"]]
        else:
            raise ValueError(f"task {self.name}: hub.format={hub.format!r}; expected tokens_tags, tokens_spans "
                             f"or conll2012_documents")
        names = self.hub_tag_names()
        examples = []
        for words, tags in sentences:
            if any(isinstance(t, int) for t in tags) and names is None:
                raise ValueError(f"task {self.name}: hub {hub.path} gives tags as class ids, but neither its features "
                                 f"nor hub.tag_names name them")
            tags = [names[t] if isinstance(t, int) else t for t in tags]
            tags = iob1_to_iob2(tags) if hub.get("scheme", "iob2") == "iob1" else tags
            check_tags(tags, set(self.cfg.entity_types), f"hub {hub.path} row {index}")
            examples.append({"words": list(words), "tags": tags})
        return examples

    def hub_tag_names(self) -> list[str] | None:
        """Names of the hub's tag class ids: hub.tag_names, checked against the dataset's own ClassLabel names."""
        hub = self.cfg.hub
        path = ("sentences", "named_entities") if hub.format == "conll2012_documents" else (hub.get("tags_key", "ner_tags"),)
        found = class_label_names(getattr(self, "hub_features", None), *path) if getattr(self, "hub_features", None) else None
        listed = list(hub.tag_names) if hub.get("tag_names") else None
        if listed and found and listed != found:
            raise ValueError(f"task {self.name}: hub.tag_names {listed} differ from the ClassLabel names of "
                             f"{hub.path} {'.'.join(path)}: {found}")
        return listed or found
