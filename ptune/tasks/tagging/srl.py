"""Semantic role labeling (CoNLL-2005, CoNLL-2012) as tagging: one example per predicate, the sentence's words
then the separator and the predicate word (a sentence pair, as in P-tuning v2), BIO argument tags converted
from the bracket notation; the predicate's own `B-V` stays a label.

Scores: `precision` / `recall` / `f1` over every argument including V (what P-tuning v2's seqeval scoring
reports), and `f1_no_v` without it (what the official srl-eval.pl reports).

Local layouts (conf/task/<name>.yaml, `local`):
- conll05: the official conll05st-release, `<dir>/words/<stem>.words.gz` and `<dir>/props/<stem>.props.gz`
  per section (the columns scripts/make-*set.sh pastes together): props column 0 names the target verbs
  (`-` elsewhere), then one bracketed argument column per target verb, in sentence order.
- conll12: CoNLL-2012 `*.gold_conll` files found recursively under `<folder>/<split dir>` (the skeleton files
  once merged with OntoNotes): word in column 3, argument columns from 11 up to the last (coreference).
Hub (conll12 only): rows are documents of `sentences`, each with `words` and `srl_frames` [{verb, frames}].
"""
from __future__ import annotations

from pathlib import Path

from ptune.tasks import TASKS
from ptune.tasks.data import DataFileError, UnusableDataFile, require_file
from ptune.tasks.tagging.formats import brackets_to_bio, read_column_sentences
from ptune.tasks.tagging.metrics import entity_scores, without_types
from ptune.tasks.tagging.task import TaggingTask


class SrlTask(TaggingTask):
    def pair_words(self, example):
        return [example["words"][example["predicate_index"]]]

    def predicate_examples(self, words: list[str], columns: list[list[str]], where: str) -> list[dict]:
        """One example per argument column; the predicate is the word tagged (V*."""
        examples = []
        for column in columns:
            try:
                tags = brackets_to_bio(column)
            except ValueError as error:
                raise DataFileError(f"{where}: {error}") from None
            if "B-V" not in tags:
                raise DataFileError(f"{where}: an argument column has no (V*) predicate: {column}")
            examples.append({"words": words, "tags": tags, "predicate_index": tags.index("B-V")})
        return examples

    def score(self, examples, predictions):
        scores = super().score(examples, predictions)
        if scores is not None:
            gold = [without_types(e["tags"], {"V"}) for e in examples]
            scores["f1_no_v"] = entity_scores(gold, [without_types(p["predicted"], {"V"}) for p in predictions])["f1"]
        return scores


@TASKS.register("conll05_srl")
class Conll05Srl(SrlTask):
    def section_files(self, split: str, column: str) -> list[Path]:
        spec = self.cfg.local.splits[split]
        folder = self.data_dir / self.cfg.local.folder / spec.dir / column
        return [folder / f"{stem}.{column}.gz" for stem in spec.stems]

    def local_files(self, split: str) -> list[Path]:
        return self.section_files(split, "words") + self.section_files(split, "props")

    def has_split(self, split: str) -> bool:
        return self.data_dir is None or all(p.is_file() for p in self.section_files(split, "props"))

    def local_examples(self, split: str) -> list[dict]:
        examples = []
        for words_file, props_file in zip(self.section_files(split, "words"), self.section_files(split, "props")):
            hint = f" (the conll05st-release layout under {self.cfg.local.folder})"
            words = read_column_sentences(require_file(words_file, hint), skip_prefixes=())
            props = read_column_sentences(require_file(props_file, hint), skip_prefixes=())
            if len(words) != len(props):
                raise DataFileError(f"{words_file} has {len(words)} sentences but {props_file} has {len(props)}")
            for sentence, prop in zip(words, props):
                where = f"{props_file}:{prop.line}"
                if len(sentence.columns) != len(prop.columns) or len({len(f) for f in prop.columns}) != 1:
                    raise DataFileError(f"{where}: the props rows do not match the {len(sentence.columns)} words "
                                        f"of {words_file}:{sentence.line} or have unequal column counts")
                targets = sum(lemma != "-" for lemma in prop.column(0))
                columns = [prop.column(k) for k in range(1, len(prop.columns[0]))]
                if len(columns) != targets:
                    raise DataFileError(f"{where}: {targets} target verbs but {len(columns)} argument columns")
                examples += self.predicate_examples(sentence.words, columns, where)
        return [{"id": f"{split}-{n}", **e} for n, e in enumerate(examples)]

    def hub_examples(self, split: str) -> list[dict]:
        raise ValueError(f"task {self.name}: CoNLL-2005 has no dataset-hub copy that loads without a script "
                         f"(datasets >= 4 runs none); set data_dir to a folder holding "
                         f"{self.cfg.local.folder} (the official release with the WSJ words)")


@TASKS.register("conll12_srl")
class Conll12Srl(SrlTask):
    def split_folder(self, split: str) -> Path:
        return self.data_dir / self.cfg.local.folder / self.cfg.local.splits[split]

    def files(self, split: str) -> list[Path]:
        folder = self.split_folder(split)
        return sorted(folder.rglob(self.cfg.local.get("pattern", "*.gold_conll"))) if folder.is_dir() else []

    def has_split(self, split: str) -> bool:
        return self.data_dir is None or bool(self.files(split))

    def local_files(self, split: str) -> list[Path]:
        files = self.files(split)
        if not files:
            raise UnusableDataFile(f"no {self.cfg.local.get('pattern', '*.gold_conll')} files under "
                                   f"{self.split_folder(split)}; expected the CoNLL-2012 layout (see "
                                   f"ptune/tasks/tagging/srl.py); set data_dir to the folder that holds it")
        return files

    def local_examples(self, split: str) -> list[dict]:
        examples = []
        for path in self.local_files(split):
            for sentence in read_column_sentences(path, skip_prefixes=("#begin", "#end"), min_fields=12):
                columns = [sentence.column(k) for k in range(11, len(sentence.columns[0]) - 1)]
                examples += self.predicate_examples(sentence.column(3), columns, f"{path}:{sentence.line}")
        return [{"id": f"{split}-{n}", **e} for n, e in enumerate(examples)]

    def from_hub_row(self, row: dict, index: int) -> list[dict]:
        examples = []
        for sentence in row["sentences"]:
            for frame in sentence["srl_frames"]:
                if "B-V" in frame["frames"]:  # a frame with no verb tag names no predicate to append
                    examples.append({"words": list(sentence["words"]), "tags": list(frame["frames"]),
                                     "predicate_index": frame["frames"].index("B-V")})
        return examples
