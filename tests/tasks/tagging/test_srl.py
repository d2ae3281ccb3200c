"""SRL tasks: predicate-per-example reading of the conll05st-release and CoNLL-2012 layouts, the pair encoding
(words [SEP] predicate), a run with the two CoNLL-2005 test splits, and the real CoNLL-2005 predicate counts."""
from __future__ import annotations

import gzip
import math

import pytest

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.tasks import build_task
from ptune.train.runner import execute

# One sentence, two target verbs (props column 0), one bracketed argument column per verb.
WORDS = ["The", "economy", "will", "be", "taken", "from", "points", "and", "grow", "."]
PROPS = [["-", "(A1*", "(A1*"], ["-", "*)", "*)"], ["-", "(AM-MOD*)", "(AM-MOD*)"], ["-", "*", "*"],
         ["take", "(V*)", "*"], ["-", "(A2*", "*"], ["-", "*)", "*"], ["-", "*", "*"], ["grow", "*", "(V*)"],
         ["-", "*", "*"]]
SPLIT_FILES = {"train": ("train", ["train.02", "train.03"]), "dev": ("devel", ["devel.24"]),
               "test_wsj": ("test.wsj", ["test.wsj"]), "test_brown": ("test.brown", ["test.brown"])}


def write_conll05(folder, sentences: int = 3):
    root = folder / "conll2005" / "conll05st-release"
    for split, (directory, stems) in SPLIT_FILES.items():
        for stem in stems:
            for column, lines in (("words", WORDS), ("props", [" ".join(p) for p in PROPS])):
                (root / directory / column).mkdir(parents=True, exist_ok=True)
                with gzip.open(root / directory / column / f"{stem}.{column}.gz", "wt") as handle:
                    handle.write(("\n".join(lines) + "\n\n") * sentences)
    return folder


def conll05_cfg(folder, stems_override=True):
    overrides = ["task=conll05"]
    if stems_override:
        overrides.append("task.local.splits.train.stems=[train.02,train.03]")
    return compose(overrides).task, write_conll05(folder)


def test_conll05_one_example_per_predicate_with_bio_tags(tmp_path):
    cfg, data = conll05_cfg(tmp_path)
    task = build_task(cfg, data)
    train = task.examples("train")
    assert len(train) == 2 * 3 * 2  # two section files x three sentences x two predicates
    first, second = train[0], train[1]
    assert first["predicate_index"] == 4 and second["predicate_index"] == 8
    assert first["tags"] == ["B-A1", "I-A1", "B-AM-MOD", "O", "B-V", "B-A2", "I-A2", "O", "O", "O"]
    assert second["tags"] == ["B-A1", "I-A1", "B-AM-MOD", "O", "O", "O", "O", "O", "B-V", "O"]
    assert task.eval_splits == ["dev", "test_wsj", "test_brown"]


def test_conll05_mismatched_props_name_the_file(tmp_path):
    cfg, data = conll05_cfg(tmp_path)
    props = data / "conll2005/conll05st-release/devel/props/devel.24.props.gz"
    with gzip.open(props, "wt") as handle:
        handle.write("\n".join(" ".join(p) for p in PROPS[:-1]) + "\n\n")
    with pytest.raises(ValueError, match="devel.24"):
        build_task(cfg, data).examples("dev")


@pytest.mark.parametrize("model", ["tiny-bert", "tiny-roberta"])
def test_predicate_follows_the_separator_and_is_never_labelled(tmp_path, model):
    cfg, data = conll05_cfg(tmp_path)
    task = build_task(cfg, data)
    tokenizer = load_tokenizer(compose([f"model={model}"]).model, task.words_pretokenized)
    example = task.examples("dev")[1]
    feature = task.features([example], tokenizer, 64)[0]
    encoded = tokenizer(example["words"], ["grow"], is_split_into_words=True)
    assert feature["input_ids"] == encoded["input_ids"]
    second = [i for i, s in enumerate(encoded.sequence_ids()) if s == 1]
    assert second and all(feature["labels"][i] == -100 for i in second)
    assert sum(label != -100 for label in feature["labels"]) == len(example["words"])


def test_srl_scores_with_and_without_v(tmp_path):
    cfg, data = conll05_cfg(tmp_path)
    task = build_task(cfg, data)
    example = task.examples("dev")[0]  # gold: A1, AM-MOD, V, A2
    guess = list(example["tags"])
    guess[5:7] = ["O", "O"]  # miss A2: 3 of 4 with V, 2 of 3 without
    scores = task.score([example], [{"predicted": guess}])
    assert scores["precision"] == pytest.approx(100.0) and scores["recall"] == pytest.approx(75.0)
    assert scores["f1_no_v"] == pytest.approx(100 * 2 * (1.0 * 2 / 3) / (1 + 2 / 3))


def test_conll05_run_writes_every_eval_split(tmp_path, make_cfg):
    data = write_conll05(tmp_path / "data")
    cfg = make_cfg("task=conll05", "task.local.splits.train.stems=[train.02,train.03]", "method=ptv2",
                   "model=tiny-roberta", "trainer=smoke", "prompt_length=4", f"data_dir={data}")
    row = execute(cfg)
    assert math.isfinite(row.history[0]["train_loss"])
    assert set(row.metrics) == {"dev", "test_wsj", "test_brown"}
    for split in row.metrics:
        assert {"precision", "recall", "f1", "f1_no_v"} <= set(row.metrics[split]["best"])
        written = next((tmp_path / "results" / "runs").glob(f"*/predictions/{split}/{split}.conll")).read_text()
        assert written.count("\n\n") == 6 and written.splitlines()[0].split(" ")[0] == "The"


GOLD_CONLL = """#begin document (nw/wsj/00/wsj_0001); part 000
nw/wsj/00/wsj_0001 0 0 Pierre NNP (TOP(S(NP* - - - - (PERSON* (ARG0* * -
nw/wsj/00/wsj_0001 0 1 Vinken NNP *) - - - - *) *) * -
nw/wsj/00/wsj_0001 0 2 will MD (VP* - - - - * (ARGM-MOD*) * -
nw/wsj/00/wsj_0001 0 3 join VB (VP* join 01 - - * (V*) * -
nw/wsj/00/wsj_0001 0 4 boards NNS (NP*) board - - - * (ARG1*) (V*) -
nw/wsj/00/wsj_0001 0 5 . . *)) - - - - * * * -

#end document
"""


def test_conll12_gold_conll_files(tmp_path):
    folder = tmp_path / "conll2012" / "development" / "data" / "english" / "annotations" / "nw"
    folder.mkdir(parents=True)
    (folder / "wsj_0001.gold_conll").write_text(GOLD_CONLL)
    task = build_task(compose(["task=conll12"]).task, tmp_path)
    assert task.has_split("dev") and not task.has_split("test")
    examples = task.examples("dev")
    assert [e["predicate_index"] for e in examples] == [3, 4]
    assert examples[0]["tags"] == ["B-ARG0", "I-ARG0", "B-ARGM-MOD", "B-V", "B-ARG1", "O"]
    assert examples[0]["words"] == ["Pierre", "Vinken", "will", "join", "boards", "."]


def test_conll05_has_no_hub_copy_and_says_so():
    task = build_task(compose(["task=conll05"]).task, None)
    with pytest.raises(ValueError, match="no dataset-hub copy"):
        task.examples("dev")


@pytest.mark.slow
def test_conll05_real_predicate_counts(real_data_dir):
    task = build_task(compose(["task=conll05"]).task, real_data_dir)
    counts = {split: len(task.examples(split)) for split in ("train", "dev", "test_wsj", "test_brown")}
    assert counts == {"train": 90750, "dev": 3248, "test_wsj": 5267, "test_brown": 804}
