"""SQuAD tasks end to end: official json files, the by-article split, every method x tiny backbone."""
import json

import pytest

from ptune.tasks import build_task
from ptune.tasks.data import DataFileError
from ptune.train.runner import execute
from tests.helpers import METHODS, TINY_MODELS
from tests.samples import write_squad


@pytest.fixture
def squad_dir(tmp_path):
    write_squad(tmp_path, "train-v1.1.json", 3)
    write_squad(tmp_path, "dev-v1.1.json", 2)
    write_squad(tmp_path, "train-v2.0.json", 3, unanswerable=True)
    write_squad(tmp_path, "dev-v2.0.json", 2, unanswerable=True)
    return tmp_path


QA_RUN = ["trainer=smoke", "task.max_length=64", "task.stride=16", "prompt_length=4"]


@pytest.mark.parametrize("model", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_squad_runs_for_every_method_and_tiny_backbone(make_cfg, squad_dir, method, model):
    row = execute(make_cfg("task=squad", f"method={method}", f"model={model}", f"data_dir={squad_dir}", *QA_RUN))
    best = row.metrics["dev"]["best"]
    assert set(best) == {"exact_match", "f1"} and all(0 <= v <= 100 for v in best.values())
    assert row.primary_metric == "f1" and row.data["dev_examples"] == 4
    folder = make_cfg().paths.results_dir + f"/runs/{row.run_id}/predictions/dev"
    with open(f"{folder}/predictions.json") as handle:
        assert set(json.load(handle)) == {"a0p0", "a0p1", "a1p0", "a1p1"}


def test_squad_v2_run_writes_null_odds_and_breakdowns(make_cfg, squad_dir):
    row = execute(make_cfg("task=squad_v2", "method=ptv2", "model=tiny-bert", f"data_dir={squad_dir}", *QA_RUN))
    assert set(row.metrics["dev"]["best"]) == {"exact_match", "f1", "has_ans_exact_match", "has_ans_f1",
                                                  "no_ans_exact_match", "no_ans_f1"}
    folder = make_cfg().paths.results_dir + f"/runs/{row.run_id}/predictions/dev"
    with open(f"{folder}/predictions.json") as answers, open(f"{folder}/null_odds.json") as odds:
        answers, odds = json.load(answers), json.load(odds)
    assert len(answers) == 8 and set(answers) == set(odds)
    assert all(isinstance(value, float) for value in odds.values())


def test_split_dev_trains_and_scores_on_one_file_by_article(make_cfg, tmp_path):
    write_squad(tmp_path, "dev-v1.1.json", 5)  # no train file: the dev file alone is split
    cfg = make_cfg("task=squad", "task.split_dev=2", f"data_dir={tmp_path}")
    task = build_task(cfg.task, cfg.data_dir)
    train, dev = task.examples("train"), task.examples("dev")
    assert {e["title"] for e in train} == {"Article_0", "Article_1", "Article_2"}
    assert {e["title"] for e in dev} == {"Article_3", "Article_4"}  # the last two, in file order
    assert task.has_split("train") and not task.has_split("test")
    fraction = build_task(make_cfg("task=squad", "task.split_dev=0.2", f"data_dir={tmp_path}").task, tmp_path)
    assert {e["title"] for e in fraction.examples("dev")} == {"Article_4"}  # 0.2 x 5 articles = 1
    row = execute(make_cfg("task=squad", "task.split_dev=2", "method=ptv2", "model=tiny-bert",
                           f"data_dir={tmp_path}", *QA_RUN))
    assert row.config["task"]["split_dev"] == 2
    assert "split_dev=2" in row.data["note"] and row.data["dev_examples"] == 4
    assert row.data["train_examples"] == 6


@pytest.mark.parametrize("value", [0, 5, 7, 1.5, "two", True])
def test_split_dev_refuses_impossible_values(make_cfg, tmp_path, value):
    write_squad(tmp_path, "dev-v1.1.json", 5)
    task = build_task(make_cfg("task=squad", f"task.split_dev={value}", f"data_dir={tmp_path}").task, tmp_path)
    with pytest.raises(ValueError, match="task.split_dev="):
        task.examples("train")


def test_official_json_records_and_errors(make_cfg, squad_dir):
    records = build_task(make_cfg("task=squad_v2").task, squad_dir).examples("dev")
    assert len(records) == 8 and records[1]["answers"] == {"text": [], "answer_start": []}
    assert records[0]["context"][records[0]["answers"]["answer_start"][0]:].startswith("Harbor 00 Stadium")
    v1 = build_task(make_cfg("task=squad").task, squad_dir)
    (squad_dir / "squad" / "dev-v1.1.json").write_text(
        '{"data": [{"title": "x", "paragraphs": [{"qas": [{"id": "1", "question": "q", "answers": []}]}]}]}')
    with pytest.raises(DataFileError, match=r"data\[0\].paragraphs\[0\]: missing \['context'\]"):
        v1.examples("dev")
    (squad_dir / "squad" / "train-v1.1.json").write_text('{"articles": []}')
    with pytest.raises(DataFileError, match="train-v1.1.json: not an official SQuAD json"):
        v1.examples("train")
    with pytest.raises(DataFileError, match="data file not found"):
        build_task(make_cfg("task=squad").task, squad_dir / "elsewhere").examples("dev")


@pytest.mark.parametrize("task_name, hub_path", [("squad", "rajpurkar/squad"), ("squad_v2", "rajpurkar/squad_v2")])
def test_hub_records_become_the_local_layout(make_cfg, monkeypatch, task_name, hub_path):
    import datasets

    asked = []
    row = {"id": "q", "title": "T", "context": "A cat.", "question": "What?",
           "answers": {"text": ["cat"], "answer_start": [2]}}
    monkeypatch.setattr(datasets, "load_dataset", lambda path, name, split, revision: asked.append((path, split)) or [row])
    task = build_task(make_cfg(f"task={task_name}").task, None)
    assert task.examples("dev") == [row] and asked == [(hub_path, "validation")]
    assert task.data_description() == {"file": f"hub {hub_path} validation"}
