"""Per-unit statistics: each task's summed statistics give back its own scorer's number, at the identity draw and
on resampled units (entity F1 against seqeval on the resampled sentences), and a run that does not is refused."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest
from omegaconf import OmegaConf

from ptune.config.compose import compose
from ptune.reports.spans import span_counts
from ptune.reports.units import Reader, class_stats, kind_metric
from ptune.store.find import run_path
from ptune.store.row import Row
from ptune.tasks import build_task
from ptune.tasks.qa.squad import QAPredictions
from ptune.tasks.superglue.metrics import f1_macro
from ptune.tasks.tagging.metrics import conlleval_scores, entity_scores, strict_iob2
from ptune.tasks.tagging.task import TaggingTask
from tests.samples import write_squad

TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG", "B-ORG"]


def random_sentences(rng: random.Random, count: int) -> list[list[str]]:
    """Sentences of random tags, ill-formed ones too (an I-X after O or after another type)."""
    return [[rng.choice(TAGS) for _ in range(rng.randint(0, 9))] for _ in range(count)]


@pytest.mark.parametrize("strict", [True, False])
def test_entity_f1_of_resampled_sentences_is_seqevals(strict):
    """A resample's F1 from summed per-sentence counts equals seqeval's F1 on the resampled sentences themselves,
    in strict IOB2 mode and in the default (conlleval) mode."""
    rng = random.Random(11)
    gold, predicted = random_sentences(rng, 60), random_sentences(rng, 60)
    for sentence, guess in zip(gold, predicted):
        del guess[len(sentence):]
        guess += ["O"] * (len(sentence) - len(guess))
    counts = span_counts(gold, predicted, strict)
    seqeval = entity_scores if strict else conlleval_scores
    key = "f1" if strict else "f1_conlleval"
    assert kind_metric("f1", counts.sum(0)) == pytest.approx(seqeval(gold, predicted)[key], abs=1e-9)
    draws = np.random.default_rng(0)
    for _ in range(20):
        chosen = draws.integers(0, len(gold), len(gold))
        resampled = np.bincount(chosen, minlength=len(gold)) @ counts
        expected = seqeval([gold[i] for i in chosen], [predicted[i] for i in chosen])[key]
        assert kind_metric("f1", resampled) == pytest.approx(expected, abs=1e-9)


def test_macro_f1_of_summed_confusions_is_the_scorers():
    rng = random.Random(3)
    gold, predicted = [rng.randrange(3) for _ in range(40)], [rng.randrange(3) for _ in range(40)]
    stats = class_stats(gold, predicted, 3)
    assert kind_metric("macro", stats.sum(0)) == pytest.approx(f1_macro(gold, predicted, labels=[0, 1, 2]))
    assert kind_metric("macro", class_stats([0, 0], [1, 1], 3).sum(0)) == 0.0  # no class right: 0, not nan


def task_row(results, name: str, data_dir, predictions, *overrides: str) -> Row:
    """A completed row of task `name` whose dev predictions are `predictions` (in the task's own form), written as
    the task writes them, with the task's own scores recorded."""
    cfg = compose([f"task={name}", *overrides]).task
    task = build_task(cfg, data_dir)
    examples = task.examples("dev")
    row = Row(run_id=f"{name}-run", status="completed", task=name, primary_metric=cfg.metric,
              config={"task": OmegaConf.to_container(cfg, resolve=True)}, data={"source": str(data_dir)},
              metrics={"dev": {"best": task.score(examples, predictions(task, examples))}})
    task.write_predictions(predictions(task, examples), run_path(results, row.run_id) / "predictions" / "dev", "dev")
    return row


def guesses(task, examples):
    """Deterministic predictions in each SuperGLUE task's own form, some right and some wrong."""
    if task.name == "multirc":
        return [{"idx": e["idx"], "label": i % 3 == 0} for i, e in enumerate(examples)]
    if task.name == "record":
        return [{"idx": e["idx"], "label": e["entities"][i % len(e["entities"])]} for i, e in enumerate(examples)]
    names = list(task.cfg.get("labels") or [])
    if task.name == "copa":
        return [{"idx": e["idx"], "label": i % 2} for i, e in enumerate(examples)]
    return [{"idx": e["idx"], "label": names[(i * 2) % len(names)]} for i, e in enumerate(examples)]


@pytest.mark.parametrize("name, metrics", [("rte", ["accuracy"]), ("cb", ["accuracy", "f1_macro"]),
                                           ("copa", ["accuracy"]), ("wic", ["accuracy"]), ("wsc", ["accuracy"]),
                                           ("boolq", ["accuracy"]), ("multirc", ["f1a", "em"]),
                                           ("record", ["f1", "em"])])
def test_superglue_units_give_back_the_tasks_own_score(tmp_path, write_samples, name, metrics):
    data = write_samples(tmp_path / "data")
    results = tmp_path / "results"
    row = task_row(results, name, data, guesses)
    reader = Reader(results)
    for metric in metrics:
        units = reader.units(row, "dev", metric)
        assert units is not None, reader.why
        assert kind_metric(units.kind, units.stats.sum(0)) == pytest.approx(row.score("dev", metric=metric))
    row.metrics["dev"]["best"][metrics[0]] += 1.0  # the file no longer gives the row's number: refused
    assert Reader(results).units(row, "dev", metrics[0]) is None


def test_the_majority_class_is_the_trivial_baseline(tmp_path, write_samples):
    """CB's 4 dev samples have labels entailment, contradiction, neutral, entailment: the majority class is right
    on 2 of 4 (accuracy 50) and its macro-F1 is (2 * 2 / (2 + 4)) / 3 for entailment, 0 for the others."""
    data = write_samples(tmp_path / "data")
    row = task_row(tmp_path / "results", "cb", data, guesses)
    reader = Reader(tmp_path / "results")
    assert reader.units(row, "dev", "accuracy").baseline == pytest.approx(50.0)
    assert reader.units(row, "dev", "f1_macro").baseline == pytest.approx(100 * (4 / 6) / 3)


def test_squad_units_and_the_empty_answer(tmp_path):
    write_squad(tmp_path / "data", "dev-v1.1.json", 2)
    write_squad(tmp_path / "data", "dev-v2.0.json", 2, unanswerable=True)
    for name in ("squad", "squad_v2"):
        def answers(task, examples):
            return QAPredictions({e["id"]: ("Stadium" if i % 2 else "") for i, e in enumerate(examples)})
        row = task_row(tmp_path / "results", name, tmp_path / "data", answers)
        reader = Reader(tmp_path / "results")
        for metric in ("exact_match", "f1"):
            units = reader.units(row, "dev", metric)
            assert kind_metric(units.kind, units.stats.sum(0)) == pytest.approx(row.score("dev", metric=metric))
        # the empty answer: nothing right on 1.1; on 2.0 right on the unanswerable half of the questions
        assert units.baseline == pytest.approx(0.0 if name == "squad" else 50.0)


def test_tagging_units_read_the_strict_and_the_raw_file(tmp_path):
    rng = random.Random(5)
    gold = [s for s in random_sentences(rng, 30) if s]
    raw = [[rng.choice(TAGS) for _ in sentence] for sentence in gold]
    predictions = [{"words": [f"w{i}" for i in range(len(g))], "gold": g, "predicted": strict_iob2(p),
                    "predicted_raw": p} for g, p in zip(gold, raw)]
    scores = {**entity_scores(gold, [strict_iob2(p) for p in raw]), **conlleval_scores(gold, raw)}
    row = Row(run_id="conll03-run", status="completed", task="conll03", metrics={"dev": {"best": scores}})
    TaggingTask.write_predictions(None, predictions, run_path(tmp_path, row.run_id) / "predictions" / "dev", "dev")
    reader = Reader(tmp_path)
    for metric in ("f1", "f1_conlleval"):
        units = reader.units(row, "dev", metric)
        assert kind_metric("f1", units.stats.sum(0)) == pytest.approx(scores[metric])
        assert units.baseline == 0.0 and len(units.ids) == len(gold)
    assert json.dumps(reader.why) == "{}"


def test_without_gold_labels_at_hand_a_run_is_left_out_with_the_reason(tmp_path, write_samples):
    data = write_samples(tmp_path / "data")
    row = task_row(tmp_path / "results", "rte", data, guesses)
    empty = tmp_path / "empty"
    empty.mkdir()
    reader = Reader(tmp_path / "results", data_dir=empty)
    assert reader.units(row, "dev", "accuracy") is None and "no gold labels" in reader.why[row.run_id]
    row.data = {"source": str(tmp_path / "nowhere")}
    reader = Reader(tmp_path / "results")
    assert reader.units(row, "dev", "accuracy") is None and "pass --data-dir" in reader.why[row.run_id]
