"""Per-unit statistics of a run's saved predictions: what the bootstrap (ptune/reports/stats.py) resamples.

    reader = Reader(Path("results"))                    # data_dir: where the gold labels are (default: the row's)
    units = reader.units(row, "dev", "accuracy")         # Units, or None (reader.why[run id] says why)
    kind_metric(units.kind, units.stats.sum(0))          # == the row's recorded score

Every metric here is a function of statistics summed over units (`KINDS`, K statistics per unit):
  mean    [value, 1] per example or question: accuracy (right: 0/1), SQuAD and ReCoRD EM / F1, MultiRC EM
  f1      [2 correct, predicted, gold] per sentence (entity / argument F1) or per MultiRC question (F1a)
  macro   [2 correct, predicted, gold] per class, per example: CB's macro-F1 (a class with nothing right scores 0)
Gold comes from the prediction file where it holds it (the .conll files), else from the task's own examples
(`data_dir`, default: the folder the row recorded); entity spans are read as seqeval reads them
(ptune/reports/spans.py), SQuAD and ReCoRD answers scored by the tasks' own scorers. A run whose statistics do not
give back its recorded score is refused (None), so the resampled metric at the identity draw is always the table's
number. `baseline_stats` are the statistics of the trivial prediction: the majority gold class, or nothing (no
entity, the empty answer).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from omegaconf import OmegaConf

from ptune.config.compose import config_dir
from ptune.errors import DataError
from ptune.reports.spans import flat_span_counts, read_tags
from ptune.store.find import run_path
from ptune.store.row import Row
from ptune.tasks import build_task
from ptune.tasks.qa.metrics import question_scores
from ptune.tasks.qa.squad import SquadTask
from ptune.tasks.schemas import TASK_SCHEMAS
from ptune.tasks.superglue.metrics import record_scores
from ptune.tasks.superglue.reading import MultiRC, ReCoRD
from ptune.tasks.superglue.task import SuperGlueTask

KINDS = ("mean", "f1", "macro")
NO_GOLD = "no gold labels"  # a run left out for want of task data (refused on the committed tables: render.py)
TOLERANCE = 1e-6  # percent: what float summation may move a recorded score by


@dataclass
class Units:
    ids: tuple[str, ...]        # one per unit, in the evaluation's order: runs pair on equal ids
    stats: np.ndarray           # U x K
    kind: str                   # one of KINDS
    baseline_stats: np.ndarray  # U x K of the trivial prediction

    @property
    def baseline(self) -> float:
        return float(kind_metric(self.kind, self.baseline_stats.sum(0)))


def kind_metric(kind: str, summed: np.ndarray) -> np.ndarray:
    """The metric (percent) of statistics summed over units; `summed` is [..., K] (any leading shape)."""
    summed = np.asarray(summed, dtype=float)
    if kind == "mean":
        return 100.0 * summed[..., 0] / summed[..., 1]
    if kind not in ("f1", "macro"):
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    triples = summed.reshape(*summed.shape[:-1], -1, 3)
    right, found = triples[..., 0], triples[..., 1] + triples[..., 2]
    f1 = 100.0 * np.divide(right, found, out=np.zeros_like(right), where=right > 0)
    return f1.mean(-1)


def tagging_units(folder: Path, split: str, metric: str) -> Units | None:
    """<split>.conll (strict IOB2: f1) or <split>.raw.conll (the tags as predicted: f1_conlleval)."""
    conlleval = metric == "f1_conlleval"
    path = folder / f"{split}.raw.conll" if conlleval else folder / f"{split}.conll"
    if metric not in ("f1", "f1_conlleval") or not path.is_file():
        return None
    stats = flat_span_counts(*read_tags(path), strict=not conlleval)
    baseline = stats * [0, 0, 1]  # no entity predicted: only the gold entities count
    return Units(tuple(map(str, range(len(stats)))), stats, "f1", baseline)


def load_task(row: Row, data_dir):
    """The row's task as it ran; keys added to the task since then take today's conf/task/<name>.yaml values."""
    node = row.config["task"]
    path = config_dir() / "task" / f"{node['name']}.yaml"
    today = {k: v for k, v in (yaml.safe_load(path.read_text()) if path.is_file() else {}).items() if k != "defaults"}
    return build_task(OmegaConf.merge(OmegaConf.structured(TASK_SCHEMAS.get(node["impl"])), today, node),
                      data_dir)


def superglue_units(task, examples: list[dict], predictions: list[dict], metric: str) -> Units | None:
    gold = {json.dumps(e["idx"], sort_keys=True): e for e in examples}
    keys = [json.dumps(p["idx"], sort_keys=True) for p in predictions]
    if any(key not in gold for key in keys):
        return None
    chosen = [gold[key] for key in keys]
    if isinstance(task, MultiRC):
        return multirc_units(chosen, predictions, metric)
    if isinstance(task, ReCoRD):
        if metric not in ("em", "f1"):
            return None
        scores = [record_scores([e["answers"]], [p["label"]])[metric] / 100 for e, p in zip(chosen, predictions)]
        empty = [record_scores([e["answers"]], [""])[metric] / 100 for e in chosen]
        return Units(tuple(keys), mean_stats(scores), "mean", mean_stats(empty))
    labels = [e["label"] for e in chosen]
    majority = max(sorted(set(labels), key=str), key=labels.count)
    names = [str(name) for name in task.cfg.get("labels") or []]
    predicted = [names.index(p["label"]) if isinstance(p["label"], str) else int(p["label"]) for p in predictions]
    if metric == "accuracy":
        return Units(tuple(keys), mean_stats([g == p for g, p in zip(labels, predicted)]), "mean",
                     mean_stats([g == majority for g in labels]))
    if metric == "f1_macro" and names:
        return Units(tuple(keys), class_stats(labels, predicted, len(names)), "macro",
                     class_stats(labels, [majority] * len(labels), len(names)))
    return None


def mean_stats(values) -> np.ndarray:
    return np.column_stack([np.asarray(values, dtype=float), np.ones(len(values))])


def class_stats(gold: list[int], predicted: list[int], classes: int) -> np.ndarray:
    """Per example and class: [2 correct, predicted, gold] (a one-hot of the example's confusion cell)."""
    stats = np.zeros((len(gold), classes, 3))
    for i, (g, p) in enumerate(zip(gold, predicted)):
        stats[i, p, 1] += 1
        stats[i, g, 2] += 1
        stats[i, g, 0] += 2 * (g == p)
    return stats.reshape(len(gold), -1)


def multirc_units(examples: list[dict], predictions: list[dict], metric: str) -> Units | None:
    """One unit per question (as MultiRC's EM groups answers): F1a counts of its answers, or all-right (EM)."""
    questions: dict[str, list] = {}
    for e, p in zip(examples, predictions):
        questions.setdefault(json.dumps([e["idx"]["paragraph"], e["idx"]["question"]]), []).append(
            (e["label"], p["label"]))
    def stats(guess):
        if metric == "em":
            return mean_stats([all(g == guess(p) for g, p in pairs) for pairs in questions.values()])
        return np.array([[2 * sum(g == 1 and guess(p) == 1 for g, p in pairs), sum(guess(p) == 1 for _, p in pairs),
                          sum(g == 1 for g, _ in pairs)] for pairs in questions.values()], dtype=float)
    if metric not in ("em", "f1a"):
        return None
    return Units(tuple(questions), stats(lambda p: p), "mean" if metric == "em" else "f1", stats(lambda p: 0))


def squad_units(task, examples: list[dict], folder: Path, metric: str) -> Units | None:
    path = folder / "predictions.json"
    if metric not in ("exact_match", "f1") or not path.is_file():
        return None
    answers = json.loads(path.read_text(encoding="utf-8"))
    at = 0 if metric == "exact_match" else 1
    chosen = [e for e in examples if e["id"] in answers]
    scores = [question_scores(answers[e["id"]], list(e["answers"]["text"]), task.version)[at] for e in chosen]
    empty = [question_scores("", list(e["answers"]["text"]), task.version)[at] for e in chosen]
    return Units(tuple(e["id"] for e in chosen), mean_stats(scores), "mean", mean_stats(empty))


def data_folder(row: Row, data_dir) -> Path | None:
    """`data_dir` where given, else the folder the row recorded (relative to where ptune runs), when present."""
    source = data_dir or row.data.get("source")
    return Path(source) if source and source != "hub" and Path(source).is_dir() else None


class Reader:
    """Units of runs under `results_dir` (or at `folders[run id]`), the tasks' examples read once per (task config,
    split); `why` keeps each refusal's reason."""

    def __init__(self, results_dir: Path | None, data_dir=None, folders: dict[str, Path] | None = None):
        self.results_dir, self.data_dir, self.folders = results_dir, data_dir, folders or {}
        self.examples: dict[tuple, tuple] = {}
        self.why: dict[str, str] = {}

    def gold(self, row: Row, split: str):
        folder = data_folder(row, self.data_dir)
        key = (json.dumps(row.config.get("task"), sort_keys=True), str(folder), split)
        if key not in self.examples:
            task = load_task(row, folder) if folder else None
            try:
                self.examples[key] = (task, task.examples(split) if task else None)
            except (DataError, OSError) as error:  # a data folder without this task's files: no gold at hand
                self.examples[key] = (task, None)
                self.why[row.run_id] = f"{NO_GOLD}: {error}"
        return self.examples[key]

    def units(self, row: Row, split: str, metric: str) -> Units | None:
        run = self.folders.get(row.run_id) or run_path(Path(self.results_dir), row.run_id)
        folder = run / "predictions" / split
        found = None
        if (folder / f"{split}.conll").is_file():
            found = tagging_units(folder, split, metric)
        elif row.config.get("task", {}).get("impl") in TASK_SCHEMAS.names():
            task, examples = self.gold(row, split)
            if examples is None:
                self.why.setdefault(row.run_id, f"{NO_GOLD}: no task data at hand (pass --data-dir)")
                return None
            if isinstance(task, SquadTask):
                found = squad_units(task, examples, folder, metric)
            elif isinstance(task, SuperGlueTask) and (folder / f"{task.cfg.local_name}.jsonl").is_file():
                lines = (folder / f"{task.cfg.local_name}.jsonl").read_text().splitlines()
                predictions = [json.loads(line) for line in lines if line.strip()]
                if isinstance(task, MultiRC):  # written nested per passage: back to one line per answer
                    predictions = [{"idx": {"paragraph": p["idx"], "question": q["idx"], "answer": a["idx"]},
                                    "label": a["label"]} for p in predictions for q in p["passage"]["questions"]
                                   for a in q["answers"]]
                found = superglue_units(task, examples, predictions, metric)
        recorded = row.score(split, metric=metric)
        if found is None:
            self.why[row.run_id] = f"no {split} predictions that give {metric}"
        elif recorded is None or abs(float(kind_metric(found.kind, found.stats.sum(0))) - recorded) > TOLERANCE:
            self.why[row.run_id] = f"its {split} predictions do not give its recorded {metric} ({recorded})"
            found = None
        return found
