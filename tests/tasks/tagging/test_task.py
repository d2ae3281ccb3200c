"""Tagging tasks end to end: word/sub-word label alignment, long-sentence windows, predictions in CoNLL
evaluation format, every method x tiny backbone on a CoNLL-2003 sample, and the real CoNLL-2003 counts."""
from __future__ import annotations

import math

import pytest
import torch

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.model.prompted import build_model
from ptune.tasks import build_task
from ptune.train.batching import collate
from ptune.train.runner import execute
from tests.helpers import METHODS, TASKS, TINY_MODELS

# IOB1 as in the original release: entities start with I-, B- only between touching entities of one type.
CONLL03_SAMPLE = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
to TO I-VP O
boycott VB I-VP O
British JJ I-NP I-MISC
lamb NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
met VBD I-VP O
Hans NNP I-NP I-PER
Schmidt NNP I-NP B-PER
in IN I-PP O
BRUSSELS NNP I-NP I-LOC

"""
TAGGING_TASKS = [t for t in TASKS if compose([f"task={t}"]).task.impl in ("ner", "conll05_srl", "conll12_srl")]


def write_conll03(folder, copies: int = 4):
    (folder / "conll2003").mkdir(parents=True, exist_ok=True)
    for name in ("eng.train", "eng.testa", "eng.testb"):
        (folder / "conll2003" / name).write_text(CONLL03_SAMPLE * copies)
    return folder


def conll03_task(tmp_path):
    return build_task(compose(["task=conll03"]).task, write_conll03(tmp_path))


def test_every_tagging_yaml_names_its_file_and_builds(tmp_path):
    assert {"conll03", "conll04", "ontonotes", "conll05", "conll12"} <= set(TAGGING_TASKS)
    for name in TAGGING_TASKS:
        cfg = compose([f"task={name}"]).task
        task = build_task(cfg, None)
        assert cfg.name == name and task.head == "token_classification" and task.words_pretokenized
        assert cfg.metric == "f1" and {"precision", "recall", "f1"} <= set(cfg.metrics)
        assert task.num_labels == 1 + 2 * len(cfg.entity_types)


def test_local_conll03_reads_iob1_as_iob2_without_docstart(tmp_path):
    examples = conll03_task(tmp_path).examples("train")
    assert len(examples) == 8 and all("-DOCSTART-" not in e["words"] for e in examples)
    assert examples[1]["tags"] == ["B-PER", "I-PER", "O", "B-PER", "B-PER", "O", "B-LOC"]


@pytest.mark.parametrize("model", TINY_MODELS)
def test_first_sub_word_carries_the_label(tmp_path, model):
    task = conll03_task(tmp_path)
    tokenizer = load_tokenizer(compose([f"model={model}"]).model, task.words_pretokenized)
    examples = task.examples("dev")[:2] + [{"id": "x", "words": ["Schmidtbauerhausen", "rejects"],
                                            "tags": ["B-PER", "O"]}]
    features = task.features(examples, tokenizer, 128)
    assert len(features) == len(examples)  # nothing needed a window
    for example, feature in zip(examples, features):
        labelled = [i for i, label in enumerate(feature["labels"]) if label != -100]
        assert [word for word, _ in feature["word_positions"]] == list(range(len(example["words"])))
        assert labelled == [position for _, position in feature["word_positions"]]
        assert [task.labels[feature["labels"][i]] for i in labelled] == example["tags"]
        special = set(tokenizer.all_special_ids)
        assert all(feature["labels"][i] == -100 for i, t in enumerate(feature["input_ids"]) if t in special)
    assert len(features[2]["input_ids"]) > 4  # the long word is several sub-words, one of them labelled


def perfect_logits(task, features):
    return [torch.nn.functional.one_hot(torch.tensor([max(l, 0) for l in f["labels"]]), task.num_labels).float()
            for f in features]


def test_long_sentences_are_windowed_and_every_word_scored(tmp_path):
    task = conll03_task(tmp_path)
    tokenizer = load_tokenizer(compose(["model=tiny-bert"]).model, True)
    examples = task.examples("dev")
    long = {"id": "long", "words": examples[0]["words"] * 3, "tags": examples[0]["tags"] * 3}
    features = task.features([long], tokenizer, 12)
    assert len(features) > 1 and task.window_counts["windowed_examples"] == 1
    assert all(len(f["input_ids"]) <= 12 for f in features)
    assert sorted(w for f in features for w, _ in f["word_positions"]) == list(range(len(long["words"])))
    predictions = task.predict([long], features, perfect_logits(task, features))
    assert task.score([long], predictions)["f1"] == pytest.approx(100.0)
    # a window with no output: its words are predicted O, and its gold entities still count (recall < 100)
    dropped = task.predict([long], features[:-1], perfect_logits(task, features[:-1]))
    scores = task.score([long], dropped)
    assert scores["precision"] == pytest.approx(100.0) and scores["recall"] < 100.0


def read_conll_file(path) -> list[list[list[str]]]:
    blocks = path.read_text().split("\n\n")
    return [[line.split(" ") for line in block.splitlines()] for block in blocks if block.strip()]


def test_predictions_file_is_conll_evaluation_format(tmp_path):
    task = conll03_task(tmp_path)
    tokenizer = load_tokenizer(compose(["model=tiny-roberta"]).model, True)
    examples = task.examples("test")
    features = task.features(examples, tokenizer, 128)
    predictions = task.predict(examples, features, perfect_logits(task, features))
    sentences = read_conll_file(task.write_predictions(predictions, tmp_path / "out", "test"))
    assert len(sentences) == len(examples)
    for example, lines in zip(examples, sentences):
        assert [line[0] for line in lines] == example["words"]
        assert [line[1] for line in lines] == [line[2] for line in lines] == example["tags"]


@pytest.mark.parametrize("model", TINY_MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_every_method_and_backbone_tags(tmp_path, make_cfg, method, model):
    cfg = make_cfg("task=conll03", f"method={method}", f"model={model}", "trainer=smoke", "prompt_length=4",
                   f"data_dir={write_conll03(tmp_path / 'data')}")
    task = build_task(cfg.task, cfg.data_dir)
    tokenizer = load_tokenizer(cfg.model, task.words_pretokenized)
    features = task.features(task.examples("dev")[:2], tokenizer, cfg.task.max_length)
    batch = collate(features, tokenizer.pad_token_id)
    model_ = build_model(cfg.model, cfg.method, task, cfg.task.max_length, tokenizer)
    logits = model_(batch)
    # prompt / prefix positions are never part of the output, so they can never be labelled or scored
    assert logits.shape == (*batch["input_ids"].shape, task.num_labels)
    row = execute(cfg)
    assert math.isfinite(row.history[0]["train_loss"])
    for split in ("dev", "test"):
        scores = row.metrics[split]["best"]
        assert {"precision", "recall", "f1"} <= set(scores) and all(0 <= v <= 100 for v in scores.values())
        written = read_conll_file(next((tmp_path / "results" / "runs").glob(f"*/predictions/{split}/{split}.conll")))
        assert len(written) == len(task.examples(split)) and all(len(l) == 3 for s in written for l in s)


@pytest.mark.slow
def test_conll03_real_counts(real_data_dir):
    task = build_task(compose(["task=conll03"]).task, real_data_dir)
    counts = {split: len(task.examples(split)) for split in ("train", "dev", "test")}
    assert counts == {"train": 14041, "dev": 3250, "test": 3453}


def test_tagging_rows_carry_both_readings_and_both_prediction_files(make_cfg, tmp_path):
    task = build_task(make_cfg("task=conll03").task, None)
    examples = [{"id": "0", "words": ["Jim", "left", "Rome"], "tags": ["B-PER", "O", "B-LOC"]}]
    predictions = [{"id": "0", "words": examples[0]["words"], "gold": examples[0]["tags"],
                    "predicted": ["O", "O", "B-LOC"], "predicted_raw": ["I-PER", "O", "B-LOC"]}]
    scores = task.score(examples, predictions)
    assert (scores["f1"], scores["f1_conlleval"]) == (pytest.approx(200 / 3), pytest.approx(100.0))
    task.write_predictions(predictions, tmp_path, "test")
    assert (tmp_path / "test.raw.conll").read_text().splitlines()[0] == "Jim B-PER I-PER"
    assert (tmp_path / "test.conll").read_text().splitlines()[0] == "Jim B-PER O"
