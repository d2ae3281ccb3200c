"""The local loaders on the real SuperGLUE copies in ../shared/data (skipped where they are absent):
every superglue task reads the files that exist, with the official counts, and its features are valid
inputs for a tiny tokenizer."""
from __future__ import annotations

import pytest
from test_superglue_samples import superglue_tasks

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.tasks import build_task
from ptune.train.batching import TENSOR_KEYS

# Examples per split as ../shared/data/README.md gives them (MultiRC: answer options; ReCoRD: queries).
OFFICIAL_COUNTS = {
    "RTE": {"train": 2490, "dev": 277, "test": 3000}, "CB": {"train": 250, "dev": 56, "test": 250},
    "BoolQ": {"train": 9427, "dev": 3270, "test": 3245}, "COPA": {"train": 400, "dev": 100, "test": 500},
    "WiC": {"train": 5428, "dev": 638, "test": 1400}, "WSC": {"train": 554, "dev": 104, "test": 146},
    "MultiRC": {"train": 27243, "dev": 4848, "test": 9693},
    "ReCoRD": {"train": 100730, "dev": 10000, "test": 10000},
}


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(compose(["model=tiny-bert"]).model)


@pytest.mark.parametrize("name", superglue_tasks())
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
