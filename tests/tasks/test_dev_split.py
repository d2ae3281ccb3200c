"""task.split_dev on BoolQ (whose train file is not at hand offline): the official dev file split by passage,
no passage on both sides, labelled in the row; a task without a grouping key refuses it; run ids of tasks that
do not use it are unchanged by the keys' existence."""
from __future__ import annotations

import json

import pytest

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.store.run_id import experiment_config, run_id
from ptune.tasks import build_task
from ptune.train.feature_cache import load_split
from ptune.train.runner import execute

# 6 passages, passage 1 with three questions and passage 4 with two: 9 questions in file order
PASSAGES = [0, 1, 1, 2, 1, 3, 4, 4, 5]


def write_boolq_dev(folder):
    boolq = folder / "super_glue" / "BoolQ"
    boolq.mkdir(parents=True)
    lines = [{"question": f"is question {i} true", "passage": f"Passage number {p} says something about {p}.",
              "label": i % 2 == 0, "idx": i} for i, p in enumerate(PASSAGES)]
    (boolq / "val.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (boolq / "test.jsonl").write_text(json.dumps({"question": "q", "passage": "p", "idx": 0}) + "\n")
    return folder


def test_boolq_dev_splits_by_passage_without_overlap(tmp_path):
    data = write_boolq_dev(tmp_path)
    task = build_task(compose(["task=boolq", "task.split_dev=2"]).task, data)
    train, dev = task.examples("train"), task.examples("dev")
    assert [e["idx"] for e in dev] == [6, 7, 8]  # the last two passages (4 and 5), every question of each
    assert [e["idx"] for e in train] == [0, 1, 2, 3, 4, 5]
    assert not {e["passage"] for e in train} & {e["passage"] for e in dev}
    assert task.has_split("train") and task.has_split("dev") and not task.has_split("test")
    assert task.data_description() == {"file": "super_glue/BoolQ/val.jsonl", "note": (
        "split_dev=2: train = the first passages of the official dev file, dev = its last passages held out "
        "(not the official dev set)")}
    half = build_task(compose(["task=boolq", "task.split_dev=0.5"]).task, data)
    assert [e["idx"] for e in half.examples("dev")] == [5, 6, 7, 8]  # 0.5 x 6 passages = 3: passages 3, 4, 5


def test_a_task_without_a_grouping_key_refuses_split_dev(tmp_path):
    task = build_task(compose(["task=rte", "task.split_dev=0.2"]).task, tmp_path)
    with pytest.raises(ValueError, match="split_dev is not offered"):
        task.examples("train")


def test_unused_split_keys_leave_the_run_id_as_before():
    """task.split_dev / split_by at null are not part of the experiment config: earlier run ids still match."""
    cfg = compose(["task=rte", "method=ptv2"])
    assert "split_dev" not in experiment_config(cfg)["task"] and "split_by" not in experiment_config(cfg)["task"]
    assert run_id(compose(["task=boolq", "task.split_dev=0.25"])) != run_id(compose(["task=boolq"]))


def test_a_split_run_writes_a_labelled_row(make_cfg, tmp_path):
    data = write_boolq_dev(tmp_path / "data")
    cfg = make_cfg("task=boolq", "task.split_dev=2", "method=ptv2", "model=tiny-bert", "trainer=smoke",
                   f"data_dir={data}")
    row = execute(cfg)
    assert row.data["train_examples"] == 6 and row.data["dev_examples"] == 3
    # the tokens it trained on per epoch (what `ptune plan` times the runs of its task data by)
    task = build_task(cfg.task, cfg.data_dir)
    _, features = load_split(task, load_tokenizer(cfg.model, task.words_pretokenized), cfg, "train")
    assert row.data["train_tokens"] == sum(len(feature["input_ids"]) for feature in features) > 6
    assert "test_examples" not in row.data and "split_dev=2" in row.data["note"]
    assert row.config["task"]["split_dev"] == 2


@pytest.mark.slow
def test_real_boolq_dev_split(real_data_dir):
    task = build_task(compose(["task=boolq", "task.split_dev=0.25"]).task, real_data_dir)
    train, dev = task.examples("train"), task.examples("dev")
    assert len(train) + len(dev) == 3270  # every question of the official dev file, once
    assert not {e["passage"] for e in train} & {e["passage"] for e in dev}
    passages = len({e["passage"] for e in train + dev})
    assert len({e["passage"] for e in dev}) == round(0.25 * passages)
