"""SQuAD 1.1 and 2.0 extractive QA (conf/task/squad.yaml, squad_v2.yaml).

    ptune run task=squad model=minilm data_dir=../shared/data                 # official train / dev files
    ptune run task=squad_v2 model=roberta-large                               # the hub (rajpurkar/squad_v2)
    ptune run task=squad model=minilm data_dir=../shared/data task.split_dev=8   # only dev-v1.1.json at hand

Data: the official json files `<data_dir>/squad/{train,dev}-v1.1.json` (2.0: `-v2.0.json`), else the hub.
`task.split_dev` trains and evaluates on one official dev file split by article (ptune/tasks/dev_split.py);
numbers from it are not comparable with official dev scores.
Predictions: `predictions/dev/predictions.json` ({question id: answer text}) and, for 2.0,
`null_odds.json`, so that the official scripts reproduce the row: `evaluate-v1.1.py dev-v1.1.json
predictions.json`; `evaluate-v2.0.py dev-v2.0.json predictions.json` (the answers already include the
null decision; with `--na-prob-file null_odds.json` also pass `--na-prob-thresh <null_score_diff_threshold>`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ptune.tasks import TASKS
from ptune.tasks.base import Task
from ptune.tasks.data import ENCODING, DataFileError, require_file
from ptune.tasks.dev_split import split_note
from ptune.tasks.qa.answers import best_answers
from ptune.tasks.qa.metrics import score_squad
from ptune.tasks.qa.windows import encode_windows


@dataclass
class QAPredictions:
    answers: dict[str, str]  # question id -> answer text ("" = no answer)
    null_odds: dict[str, float] = field(default_factory=dict)  # 2.0 only: null score - best span score


def read_squad_json(path: Path) -> list[dict]:
    """Official SQuAD json -> one record per question (the hub's layout, plus nothing else)."""
    try:
        articles = json.loads(require_file(path).read_text(encoding=ENCODING))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise DataFileError(f"{path}: not an official SQuAD json file ({{'data': [articles]}} expected): "
                            f"{type(error).__name__}: {error}") from None
    records = []
    for article_number, article in enumerate(articles):
        for paragraph_number, paragraph in enumerate(article.get("paragraphs", [])):
            for qa in paragraph.get("qas", []):
                where = f"{path}: data[{article_number}].paragraphs[{paragraph_number}]"
                missing = [key for key in ("id", "question", "answers") if key not in qa]
                if "context" not in paragraph or missing:
                    raise DataFileError(f"{where}: missing {missing or ['context']}; expected context and "
                                        f"qas with id, question, answers")
                records.append({"id": qa["id"], "title": article.get("title", f"article {article_number}"),
                                "context": paragraph["context"], "question": qa["question"],
                                "answers": {"text": [a["text"] for a in qa["answers"]],
                                            "answer_start": [a["answer_start"] for a in qa["answers"]]}})
    return records


@TASKS.register("squad")
class SquadTask(Task):
    head = "span"
    split_unit = "article"

    @property
    def version(self) -> int:
        """The SQuAD release (1 or 2); the yaml's `version` is the task version that tables keep apart."""
        return int(self.cfg.squad_version)

    def split_group(self, record: dict) -> str:
        return record["title"]

    def local_path(self, split: str) -> Path:
        return self.data_dir / self.cfg.local_folder / self.cfg.local_files[split]

    def local_files(self, split: str) -> list[Path]:
        return [self.local_path(split)]

    def local_examples(self, split: str) -> list[dict]:
        return read_squad_json(self.local_path(split))

    def from_hub(self, row: dict) -> dict:
        answers = row["answers"]
        return {**row, "answers": {"text": list(answers["text"]), "answer_start": list(answers["answer_start"])}}

    def has_split(self, split: str) -> bool:
        if self.split_dev is not None:
            return split in ("train", "dev")
        return self.data_dir is None or (split in self.cfg.local_files and self.local_path(split).is_file())

    def data_description(self) -> dict:
        """What the row records about the data; says loudly when train and dev are parts of one file."""
        # relative to data_dir: the row stays the same on every machine (ptune/store/portable.py)
        source = (f"{self.cfg.local_folder}/{self.cfg.local_files.dev}" if self.data_dir
                  else f"hub {self.cfg.hub.path} {self.cfg.hub.splits.dev}")
        if self.split_dev is None:
            return {"file": source}
        return {"file": source, "note": split_note(self.split_dev, self.split_unit)}

    # model side ---------------------------------------------------------------------------------------
    def features(self, examples, tokenizer, max_length):
        return encode_windows(examples, tokenizer, max_length, int(self.cfg.stride))

    def predict(self, examples, features, outputs) -> QAPredictions:
        answers, null_odds = best_answers(
            examples, features, outputs, int(self.cfg.n_best_size), int(self.cfg.max_answer_length),
            with_null=self.version == 2, null_score_diff_threshold=self.cfg.null_score_diff_threshold)
        return QAPredictions(answers, null_odds)

    def score(self, examples, predictions: QAPredictions):
        gold = {example["id"]: list(example["answers"]["text"]) for example in examples}
        if self.version == 1 and any(not answers for answers in gold.values()):
            return None  # 1.1 questions always have answers: an unanswered one means an unlabelled split
        return score_squad(gold, predictions.answers, self.version)

    def write_predictions(self, predictions: QAPredictions, folder: Path, split: str) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "predictions.json"
        path.write_text(json.dumps(predictions.answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        if self.version == 2:
            (folder / "null_odds.json").write_text(json.dumps(predictions.null_odds, indent=1) + "\n")
        return path
