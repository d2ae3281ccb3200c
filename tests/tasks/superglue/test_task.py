"""SuperGLUE tasks: every task loads the samples written here and runs end to end on them (ptv2, tiny-bert,
trainer=smoke); hub rows map to the local layout, templates, predictions in the leaderboard's form, scores
worked out by hand, and errors that name the file / line / path; on the real copies in ../shared/data (skipped
where they are absent), the official counts and features a tiny tokenizer takes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.tasks import build_task
from ptune.tasks.data import DataFileError
from ptune.train.batching import TENSOR_KEYS
from ptune.train.runner import execute
from tests.helpers import superglue_tasks
from tests.samples import MAKERS

SUPERGLUE = superglue_tasks()


def make_task(name, data_dir=None, overrides=()):
    return build_task(compose([f"task={name}", *overrides]).task, data_dir)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(compose(["model=tiny-bert"]).model)


@pytest.mark.parametrize("name", SUPERGLUE)
def test_every_superglue_task_has_a_sample_that_loads(name, tmp_path, write_samples):
    cfg = compose([f"task={name}"])
    assert cfg.task.local_name in MAKERS, f"add a sample maker for {cfg.task.local_name} in tests/samples.py"
    task = build_task(cfg.task, write_samples(tmp_path))
    assert task.examples("train") and task.examples("dev") and task.examples("test")


@pytest.mark.parametrize("name", SUPERGLUE)
def test_task_runs_end_to_end_and_writes_leaderboard_files(name, tmp_path, make_cfg, run_folder, write_samples):
    data_dir = write_samples(tmp_path / "data")
    cfg = make_cfg(f"task={name}", "model=tiny-bert", "method=ptv2", "prompt_length=4", "trainer=smoke",
                   f"data_dir={data_dir}", "task.max_length=64")
    row = execute(cfg)
    assert row.status == "completed"
    assert set(row.metrics["dev"]["best"]) == set(cfg.task.metrics)
    assert row.metrics["test"]["best"] is None  # official test files carry no labels
    run_folder = Path(cfg.paths.results_dir) / "runs" / row.run_id
    for split in ("dev", "test"):
        path = run_folder / "predictions" / split / f"{cfg.task.local_name}.jsonl"
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert lines and all("idx" in line and ("label" in line or "passage" in line) for line in lines)



# The same example as a local jsonl record and as the hub's (aps/super_glue) row, written out by hand.
LOCAL_AND_HUB = {
    "rte": ({"premise": "P.", "hypothesis": "H.", "label": "not_entailment", "idx": 3},
            {"premise": "P.", "hypothesis": "H.", "label": 1, "idx": 3}),
    "copa": ({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 1, "idx": 0},
             {"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 1, "idx": 0}),
    "wic": ({"word": "bank", "sentence1": "A bank.", "sentence2": "The bank.", "start1": 2, "end1": 6,
             "start2": 4, "end2": 8, "label": True, "idx": 7, "version": 1.1},
            {"word": "bank", "sentence1": "A bank.", "sentence2": "The bank.", "start1": 2, "end1": 6,
             "start2": 4, "end2": 8, "label": 1, "idx": 7}),
    "wsc": ({"text": "Tom said he left .", "idx": 2, "label": False,
             "target": {"span1_index": 0, "span1_text": "Tom", "span2_index": 2, "span2_text": "he"}},
            {"text": "Tom said he left .", "idx": 2, "label": 0, "span1_index": 0, "span1_text": "Tom",
             "span2_index": 2, "span2_text": "he"}),
}


def fake_load_dataset(rows, calls):
    def load(path, name=None, split=None, revision=None):
        assert revision, "hub loads pin a revision"
        calls.append((path, name, split))
        return rows
    return load


@pytest.mark.parametrize("name", sorted(LOCAL_AND_HUB))
def test_hub_row_and_local_record_give_the_same_example(name, tmp_path, monkeypatch):
    local, hub = LOCAL_AND_HUB[name]
    task = make_task(name, tmp_path)
    folder = tmp_path / "super_glue" / task.cfg.local_name
    folder.mkdir(parents=True)
    (folder / "val.jsonl").write_text(json.dumps(local) + "\n")
    calls = []
    monkeypatch.setattr("datasets.load_dataset", fake_load_dataset([hub], calls))
    from_hub = make_task(name).examples("dev")
    assert calls == [("aps/super_glue", task.cfg.hub.name, "validation")]
    expected = {k: v for k, v in task.examples("dev")[0].items() if k != "version"}
    assert from_hub == [expected]


def test_multirc_and_record_hub_rows_match_the_flattened_local_files(tmp_path, monkeypatch, write_samples):
    data_dir = write_samples(tmp_path)
    multirc_hub = [{"paragraph": "The river is near a town. The town has a lake.",
                    "question": "What is near the river?", "answer": "A town",
                    "idx": {"paragraph": 0, "question": 0, "answer": 0}, "label": 0}]
    monkeypatch.setattr("datasets.load_dataset", fake_load_dataset(multirc_hub, []))
    assert make_task("multirc").examples("dev") == make_task("multirc", data_dir).examples("dev")[:1]
    # the hub's entities are the unique entity texts, sorted; its answers the unique answer texts
    record_hub = [{"passage": "Paris and Berlin met London.\n@highlight\nThe river summit",
                   "query": "@placeholder hosted the river talks", "entities": ["Berlin", "London", "Paris"],
                   "entity_spans": {"text": ["Paris", "Berlin", "London"], "start": [0, 10, 21], "end": [5, 16, 27]},
                   "answers": ["Paris"], "idx": {"passage": 0, "query": 100}}]
    monkeypatch.setattr("datasets.load_dataset", fake_load_dataset(record_hub, []))
    assert make_task("record").examples("dev") == make_task("record", data_dir).examples("dev")[:1]


def test_hub_test_labels_of_minus_one_mean_unlabelled(monkeypatch):
    row = {**LOCAL_AND_HUB["copa"][1], "label": -1}
    monkeypatch.setattr("datasets.load_dataset", fake_load_dataset([row], []))
    task = make_task("copa")
    examples = task.examples("test")
    assert examples[0]["label"] is None
    assert task.score(examples, [{"idx": 0, "label": 1}]) is None


def test_templates_mark_what_the_docstring_says():
    copa = make_task("copa")  # template ptv2: the premise keeps its final stop
    assert copa.choice_pairs(LOCAL_AND_HUB["copa"][0]) == [("P. because", "A."), ("P. because", "B.")]
    assert copa.choice_pairs({**LOCAL_AND_HUB["copa"][0], "question": "effect"})[0] == ("P. so", "A.")
    assert make_task("copa", overrides=["task.template=no_period"]).choice_pairs(LOCAL_AND_HUB["copa"][0])[0] == \
        ("P because", "A.")
    wic = make_task("wic")
    assert wic.text_pair(LOCAL_AND_HUB["wic"][0]) == ("bank: A *bank*.", "The *bank*.")
    wsc = make_task("wsc")
    assert wsc.text_pair(wsc.normalise(dict(LOCAL_AND_HUB["wsc"][0]))) == ("[Tom] said *he* left .", "Tom")
    two_words = {"text": "Mr. Smith said he left", "idx": 0, "label": None,
                 "target": {"span1_index": 0, "span1_text": "Mr. Smith", "span2_index": 3, "span2_text": "he"}}
    assert wsc.text_pair(two_words)[0] == "[Mr. Smith] said *he* left"


def test_spans_outside_the_text_are_refused_with_the_idx():
    bad = {"text": "Tom left .", "idx": 9, "label": None,
           "target": {"span1_index": 0, "span1_text": "Tom", "span2_index": 5, "span2_text": "he"}}
    with pytest.raises(ValueError, match="idx 9.*word 5"):
        make_task("wsc").text_pair(bad)
    with pytest.raises(ValueError, match="idx 7.*offsets 2:60"):
        make_task("wic").text_pair({**LOCAL_AND_HUB["wic"][0], "end1": 60})


def test_malformed_jsonl_line_names_file_and_line(tmp_path):
    task = make_task("copa", tmp_path)
    path = tmp_path / "super_glue" / "COPA" / "train.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(LOCAL_AND_HUB["copa"][0]) + "\n{\"premise\": \"cut off\n")
    with pytest.raises(DataFileError, match=rf"{path}:2: not valid JSON"):
        task.examples("train")
    path.write_text(json.dumps(LOCAL_AND_HUB["copa"][0]) + "\n" + json.dumps({"premise": "P.", "idx": 1}) + "\n")
    with pytest.raises(DataFileError, match=rf"{path}:2: missing key\(s\) \['choice1'"):
        task.examples("train")


@pytest.mark.parametrize("name", SUPERGLUE)
def test_missing_file_names_the_expected_path(name, tmp_path):
    task = make_task(name, tmp_path)
    expected = tmp_path / "super_glue" / task.cfg.local_name / "val.jsonl"
    assert not task.has_split("test")
    with pytest.raises(DataFileError, match=rf"{expected}(.|\n)*data_dir="):
        task.examples("dev")


def fake_outputs(task, features, seed=0):
    generator = torch.Generator().manual_seed(seed)
    if task.head == "multiple_choice":
        return [torch.randn(len(f["input_ids"]), generator=generator) for f in features]
    return [torch.randn(task.num_labels, generator=generator) for f in features]


@pytest.mark.parametrize("name", SUPERGLUE)
def test_predictions_are_written_in_the_leaderboard_form(name, tmp_path, tokenizer, write_samples):
    task = make_task(name, write_samples(tmp_path / "data"))
    for split in ("dev", "test"):
        examples = task.examples(split)
        features = task.features(examples, tokenizer, task.cfg.max_length)
        predictions = task.predict(examples, features, fake_outputs(task, features))
        path = task.write_predictions(predictions, tmp_path / split, split)
        assert path.name == f"{task.cfg.local_name}.jsonl"
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        check_leaderboard_lines(task, examples, lines)
        scores = task.score(examples, predictions)
        assert (scores is None) == (split == "test")
        if scores is not None:
            assert set(scores) == set(task.cfg.metrics) and all(0 <= v <= 100 for v in scores.values())


def check_leaderboard_lines(task, examples, lines):
    if task.name == "multirc":
        answers = [(line["idx"], q["idx"], a["idx"], a["label"])
                   for line in lines for q in line["passage"]["questions"] for a in q["answers"]]
        assert [a[:3] for a in answers] == [tuple(e["idx"].values()) for e in examples]
        assert {a[3] for a in answers} <= {0, 1}
        return
    if task.name == "record":
        assert [line["idx"] for line in lines] == [e["idx"]["query"] for e in examples]
        assert all(line["label"] in e["entities"] for line, e in zip(lines, examples))
        return
    assert [line["idx"] for line in lines] == [e["idx"] for e in examples]
    allowed = {"copa": {0, 1}, "wic": {"false", "true"}, "boolq": {"false", "true"}, "wsc": {"False", "True"}}
    assert {line["label"] for line in lines} <= (allowed[task.name] if task.name in allowed else set(task.cfg.labels))


def test_copa_features_hold_one_token_list_per_choice(tmp_path, tokenizer, write_samples):
    task = make_task("copa", write_samples(tmp_path))
    features = task.features(task.examples("dev"), tokenizer, 16)
    assert all(len(f["input_ids"]) == 2 and len(f["attention_mask"]) == 2 for f in features)
    assert [f["labels"] for f in features] == [0, 1, 0, 1]


def test_record_scores_one_candidate_per_query_by_hand(tmp_path, tokenizer, write_samples):
    task = make_task("record", write_samples(tmp_path))
    examples = task.examples("dev")[:2]  # gold: query 100 -> Paris, query 101 -> Berlin
    features = task.features(examples, tokenizer, 64)
    assert [(f["example_index"], f["candidate"], f["labels"]) for f in features] == [
        (0, "Berlin", 0), (0, "London", 0), (0, "Paris", 1), (1, "Berlin", 1), (1, "London", 0), (1, "Paris", 0)]
    assert "- the river summit [sep] paris hosted the river talks" in tokenizer.decode(features[2]["input_ids"]).lower()
    # positive minus negative logit: query 100 -> Paris (2 - 0), query 101 -> London (1 - 0 beats 0.5 - 0)
    outputs = [torch.tensor(v) for v in ([0., 1.], [0., -1.], [0., 2.], [0., 0.5], [0., 1.], [3., 0.])]
    predictions = task.predict(examples, features, outputs)
    assert predictions == [{"idx": 100, "label": "Paris"}, {"idx": 101, "label": "London"}]
    assert task.score(examples, predictions) == {"em": 50.0, "f1": 50.0}


def test_multirc_scores_by_hand(tmp_path, tokenizer, write_samples):
    task = make_task("multirc", write_samples(tmp_path))
    examples = task.examples("dev")[:4]  # passage 0: questions 0 and 1, gold labels 0 1 / 0 1
    assert [e["label"] for e in examples] == [0, 1, 0, 1]
    outputs = [torch.tensor(v) for v in ([1., 0.], [0., 1.], [0., 1.], [0., 1.])]  # predicted 0 1 1 1
    predictions = task.predict(examples, task.features(examples, tokenizer, 64), outputs)
    # tp 2, fp 1, fn 0 -> F1a = 4 / 5; question 0 all right, question 1 not -> EM 1 / 2
    assert task.score(examples, predictions) == pytest.approx({"f1a": 80.0, "em": 50.0})


# Examples per split as ../shared/data/README.md gives them (MultiRC: answer options; ReCoRD: queries).
OFFICIAL_COUNTS = {
    "RTE": {"train": 2490, "dev": 277, "test": 3000}, "CB": {"train": 250, "dev": 56, "test": 250},
    "BoolQ": {"train": 9427, "dev": 3270, "test": 3245}, "COPA": {"train": 400, "dev": 100, "test": 500},
    "WiC": {"train": 5428, "dev": 638, "test": 1400}, "WSC": {"train": 554, "dev": 104, "test": 146},
    "MultiRC": {"train": 27243, "dev": 4848, "test": 9693},
    "ReCoRD": {"train": 100730, "dev": 10000, "test": 10000},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", SUPERGLUE)
def test_local_loader_reads_the_real_files(name, real_data_dir, tokenizer):
    task = build_task(compose([f"task={name}"]).task, real_data_dir)
    present = [split for split in ("train", "dev", "test") if task.has_split(split)]
    if not present:
        pytest.skip(f"no super_glue/{task.cfg.local_name} files in {real_data_dir}")
    for split in present:
        examples = task.examples(split)
        assert len(examples) == OFFICIAL_COUNTS[task.cfg.local_name][split], split
        unlabelled = task.score(examples[:8], task_predictions_of_gold(task, examples[:8])) is None
        assert unlabelled == (split == "test"), split
        features = task.features(examples[:8], tokenizer, task.cfg.max_length)
        check_features(task, features, tokenizer)


def task_predictions_of_gold(task, examples):
    """Predictions that copy the gold labels where there are any (enough to ask score() if it scores)."""
    if task.name == "record":
        return [{"idx": e["idx"]["query"], "label": (e["answers"] or [""])[0]} for e in examples]
    if task.name in ("copa", "multirc"):
        return [{"idx": e["idx"], "label": e["label"] or 0} for e in examples]
    return [{"idx": e["idx"], "label": task.cfg.labels[e["label"] or 0]} for e in examples]


def check_features(task, features, tokenizer):
    assert features
    for feature in features:
        sequences = feature["input_ids"] if task.head == "multiple_choice" else [feature["input_ids"]]
        masks = feature["attention_mask"] if task.head == "multiple_choice" else [feature["attention_mask"]]
        for ids, mask in zip(sequences, masks):
            assert 2 < len(ids) <= task.cfg.max_length and len(mask) == len(ids)
            assert all(0 <= i < tokenizer.vocab_size for i in ids)
            assert ids[0] == tokenizer.cls_token_id and ids.count(tokenizer.sep_token_id) == 2  # a pair
        limit = 2 if task.head == "multiple_choice" or task.num_labels == 2 else task.num_labels
        assert feature["labels"] == -100 or 0 <= feature["labels"] < limit
        assert set(feature) & set(TENSOR_KEYS) >= {"input_ids", "attention_mask", "labels"}
