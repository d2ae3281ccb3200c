"""Every task's hub path, offline: a folder in each hub repo's layout (dataset card with the repo's `configs:` YAML,
parquet files with its column names and types) read through the same loader a hub id takes (ptune/tasks/hub.py, with
PTUNE_HUB_MIRROR pointing the hub ids at these folders). A wrong config, split or column name fails here.

Layouts, as far as they could be learned offline: aps/super_glue, rajpurkar/squad(_v2) and
ontonotes/conll2012_ontonotesv5 as the hub's script-to-parquet conversions lay them out (one folder per config,
`<config>/<split>-00000-of-00001.parquet`, the loading script's features); lukasgarbas/conll-03 with its card's
data_files mapping (which datasets 5.x refuses, hence ptune's direct parquet read); DFKI-SLT/conll04 as its
task yaml describes it (tokens + entity spans). Tasks are enumerated from conf/task: a new task with a hub path
fails here until its layout is added below.
"""
from __future__ import annotations

import datasets
import pytest
import yaml
from datasets import ClassLabel, Features, List, Value

from ptune.config.compose import compose, config_dir
from ptune.errors import DataError
from ptune.model.backbones import load_tokenizer
from ptune.tasks import build_task
from ptune.tasks.hub import MIRROR_ENV

TASKS = sorted(path.stem for path in (config_dir() / "task").glob("*.yaml"))
S, I32 = Value("string"), Value("int32")
BOOL = ClassLabel(names=["False", "True"])
ONTO_TAGS = yaml.safe_load((config_dir() / "task" / "ontonotes.yaml").read_text())["hub"]["tag_names"]
SQUAD = Features({"id": S, "title": S, "context": S, "question": S,
                  "answers": {"text": List(S), "answer_start": List(I32)}})
SQUAD_ROW = {"id": "q1", "title": "Denver", "context": "Denver Broncos won Super Bowl 50.",
             "question": "Who won Super Bowl 50?", "answers": {"text": ["Denver Broncos"], "answer_start": [0]}}
WSC = Features({"text": S, "span1_index": I32, "span2_index": I32, "span1_text": S, "span2_text": S, "idx": I32,
                "label": BOOL})
WSC_ROW = {"text": "Mark told Pete many lies about himself .", "span1_index": 0, "span2_index": 6,
           "span1_text": "Mark", "span2_text": "himself", "idx": 0, "label": 1}
ONTONOTES = Features({"document_id": S, "sentences": List({
    "part_id": I32, "words": List(S), "pos_tags": List(ClassLabel(names=["XX", "``", "NNP", "VBD", "."])),
    "parse_tree": S, "predicate_lemmas": List(S), "predicate_framenet_ids": List(S), "word_senses": List(Value("float32")),
    "speaker": S, "named_entities": List(ClassLabel(names=ONTO_TAGS)),
    "srl_frames": List({"verb": S, "frames": List(S)}), "coref_spans": List(List(I32))})})


def onto_sentence(words, entities, frames):
    n = len(words)
    return {"part_id": 0, "words": words, "pos_tags": [2] * n, "parse_tree": "(TOP)", "predicate_lemmas": [None] * n,
            "predicate_framenet_ids": [None] * n, "word_senses": [None] * n, "speaker": None,
            "named_entities": [ONTO_TAGS.index(tag) for tag in entities], "srl_frames": frames, "coref_spans": []}


ONTO_ROW = {"document_id": "nw/wsj/00/wsj_0001", "sentences": [
    onto_sentence(["Vinken", "joined", "Elsevier", "."], ["B-PERSON", "O", "B-ORG", "O"],
                  [{"verb": "joined", "frames": ["B-ARG0", "B-V", "B-ARG1", "O"]}]),
    onto_sentence(["He", "left", "."], ["O", "O", "O"], [{"verb": "left", "frames": ["B-ARG0", "B-V", "O"]}])]}
SPLITS3 = ("train", "validation", "test")

# hub path -> configs: config name (None = the card's default) -> (features, one row, splits)
SUPER_GLUE = {
    "boolq": (Features({"question": S, "passage": S, "idx": I32, "label": BOOL}),
              {"question": "is ethanol fuel renewable", "passage": "Ethanol fuel -- ...", "idx": 0, "label": 1}),
    "cb": (Features({"premise": S, "hypothesis": S, "idx": I32,
                     "label": ClassLabel(names=["entailment", "contradiction", "neutral"])}),
           {"premise": "It was a complex language.", "hypothesis": "the language was peeled down", "idx": 0, "label": 0}),
    "copa": (Features({"premise": S, "choice1": S, "choice2": S, "question": S, "idx": I32,
                       "label": ClassLabel(names=["choice1", "choice2"])}),
             {"premise": "The man turned on the faucet.", "choice1": "The toilet filled with water.",
              "choice2": "Water flowed from the spout.", "question": "effect", "idx": 0, "label": 1}),
    "multirc": (Features({"paragraph": S, "question": S, "answer": S,
                          "idx": {"paragraph": I32, "question": I32, "answer": I32}, "label": BOOL}),
                {"paragraph": "What causes a change in motion? The application of a force.",
                 "question": "What causes a change in motion?", "answer": "A force",
                 "idx": {"paragraph": 0, "question": 0, "answer": 0}, "label": 1}),
    "record": (Features({"passage": S, "query": S, "entities": List(S),
                         "entity_spans": {"text": List(S), "start": List(I32), "end": List(I32)},
                         "answers": List(S), "idx": {"passage": I32, "query": I32}}),
               {"passage": "Paris and Berlin met.\n@highlight\nThe summit", "query": "@placeholder hosted it",
                "entities": ["Berlin", "Paris"], "entity_spans": {"text": ["Paris", "Berlin"], "start": [0, 10],
                                                                  "end": [5, 16]},
                "answers": ["Paris"], "idx": {"passage": 0, "query": 0}}),
    "rte": (Features({"premise": S, "hypothesis": S, "idx": I32,
                      "label": ClassLabel(names=["entailment", "not_entailment"])}),
            {"premise": "Dana Reeve, the widow of the actor Christopher Reeve, has died.",
             "hypothesis": "Christopher Reeve had an accident.", "idx": 0, "label": 1}),
    "wic": (Features({"word": S, "sentence1": S, "sentence2": S, "start1": I32, "start2": I32, "end1": I32,
                      "end2": I32, "idx": I32, "label": BOOL}),
            {"word": "class", "sentence1": "An emerging professional class.", "sentence2": "It showed real class.",
             "start1": 25, "start2": 16, "end1": 30, "end2": 21, "idx": 0, "label": 0}),
    "wsc": (WSC, WSC_ROW),
    "wsc.fixed": (WSC, WSC_ROW),
}
LAYOUTS = {
    "aps/super_glue": {name: (features, row, SPLITS3) for name, (features, row) in SUPER_GLUE.items()},
    "rajpurkar/squad": {"plain_text": (SQUAD, SQUAD_ROW, ("train", "validation"))},
    "rajpurkar/squad_v2": {"squad_v2": (SQUAD, SQUAD_ROW, ("train", "validation"))},
    "ontonotes/conll2012_ontonotesv5": {"english_v4": (ONTONOTES, ONTO_ROW, SPLITS3),
                                        "english_v12": (ONTONOTES, ONTO_ROW, SPLITS3)},
    "DFKI-SLT/conll04": {None: (Features({"tokens": List(S), "entities": List({"type": S, "start": I32, "end": I32})}),
                                {"tokens": ["John", "lives", "in", "New", "York"],
                                 "entities": [{"type": "Peop", "start": 0, "end": 1},
                                              {"type": "Loc", "start": 3, "end": 5}]}, SPLITS3)},
    "lukasgarbas/conll-03": {None: (Features({"tokens": List(S), "ner_tags": List(S)}),
                                    {"tokens": ["EU", "rejects", "German", "call"],
                                     "ner_tags": ["B-ORG", "O", "B-MISC", "O"]}, SPLITS3)},
}
# How each repo's card lists its data files: the converted repos as a list of {split, path}; conll-03 as a mapping.
CARD_STYLE = {"lukasgarbas/conll-03": "mapping"}


def write_repo(folder, path, configs):
    entries = []
    for config, (features, row, splits) in configs.items():
        subfolder = "data" if config is None else config
        for split in splits:
            target = folder / subfolder / f"{split}-00000-of-00001.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            datasets.Dataset.from_list([row], features=features).to_parquet(str(target))
        files = {split: f"{subfolder}/{split}-*" for split in splits}
        data_files = files if CARD_STYLE.get(path) == "mapping" else \
            [{"split": split, "path": pattern} for split, pattern in files.items()]
        entries.append({"config_name": config or "default", "data_files": data_files})
    (folder / "README.md").write_text("---\n" + yaml.safe_dump({"configs": entries}, sort_keys=False) + "---\n")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    for path, configs in LAYOUTS.items():
        write_repo(root / path, path, configs)
    return root


@pytest.fixture
def hub_mirror(mirror, monkeypatch, tmp_path):
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    return mirror


@pytest.mark.parametrize("name", TASKS)
def test_every_task_loads_from_its_hub_layout(name, hub_mirror):
    cfg = compose([f"task={name}"]).task
    task = build_task(cfg, None)
    if not cfg.get("hub"):
        with pytest.raises(ValueError, match="data_dir"):
            task.examples("train")
        return
    assert cfg.hub.path in LAYOUTS, f"add the hub layout of {cfg.hub.path} (task {name}) to this test"
    assert cfg.hub.revision, f"task {name}: pin hub.revision"
    tokenizer = load_tokenizer(compose(["model=tiny-bert"]).model, task.words_pretokenized)
    for split in ("train", *task.eval_splits):
        if not cfg.hub.splits.get(split):
            continue
        examples = task.examples(split)
        assert examples, (name, split)
        features = task.features(examples, tokenizer, int(cfg.max_length))
        assert features and all(feature["input_ids"] for feature in features)
        if task.head == "token_classification":  # class ids became tag names of the task's label set
            assert all(set(e["tags"]) <= set(task.labels) for e in examples), examples
        elif "label" in examples[0]:
            assert examples[0]["label"] is not None


def test_ontonotes_documents_become_one_example_per_sentence_with_named_tags(hub_mirror):
    examples = build_task(compose(["task=ontonotes"]).task, None).examples("dev")
    assert [e["tags"] for e in examples] == [["B-PERSON", "O", "B-ORG", "O"], ["O", "O", "O"]]
    srl = build_task(compose(["task=conll12"]).task, None).examples("dev")
    assert [(e["predicate_index"], e["tags"]) for e in srl] == [(1, ["B-ARG0", "B-V", "B-ARG1", "O"]),
                                                                  (1, ["B-ARG0", "B-V", "O"])]


def test_conll03_card_is_refused_by_datasets_so_ptune_reads_its_parquet(hub_mirror):
    with pytest.raises(ValueError, match="data_files"):
        datasets.load_dataset(str(hub_mirror / "lukasgarbas/conll-03"), split="train")
    examples = build_task(compose(["task=conll03"]).task, None).examples("test")
    assert examples[0]["words"] == ["EU", "rejects", "German", "call"]
    assert examples[0]["tags"] == ["B-ORG", "O", "B-MISC", "O"]


def test_class_id_tags_are_named_by_the_parquet_features(tmp_path, monkeypatch):
    repo = tmp_path / "lukasgarbas" / "conll-03"
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    configs = {None: (Features({"tokens": List(S), "ner_tags": List(ClassLabel(names=names))}),
                      {"tokens": ["EU", "rejects"], "ner_tags": [3, 0]}, SPLITS3)}
    write_repo(repo, "lukasgarbas/conll-03", configs)
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    assert build_task(compose(["task=conll03"]).task, None).examples("dev")[0]["tags"] == ["B-ORG", "O"]


def test_a_wrong_config_name_fails_naming_the_task(hub_mirror):
    task = build_task(compose(["task=rte", "task.hub.name=rte_v2"]).task, None)
    with pytest.raises(DataError, match="could not load task 'rte'"):
        task.examples("train")


def test_wsc_variants_load_their_own_hub_config(hub_mirror):
    for variant in ("wsc", "wsc.fixed"):
        task = build_task(compose(["task=wsc", f"task.variant={variant}"]).task, None)
        assert task.examples("dev")[0]["target"]["span2_text"] == "himself"
