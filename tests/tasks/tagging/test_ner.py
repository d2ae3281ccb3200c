"""Local layouts of the NER tasks that ../shared/data lacks (CoNLL04, OntoNotes), hub-row mapping, and errors."""
from __future__ import annotations

import json

import pytest

from ptune.config.compose import compose
from ptune.errors import HubUnreachableError
from ptune.tasks import build_task
from ptune.tasks.data import DataFileError

SPERT = [{"tokens": ["John", "Smith", "lives", "in", "New", "York", "."],
          "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Loc", "start": 4, "end": 6}],
          "relations": [{"type": "Live_In", "head": 0, "tail": 1}]}]


def task(name, data_dir):
    return build_task(compose([f"task={name}"]).task, data_dir)


def test_conll04_spert_json(tmp_path):
    (tmp_path / "conll04").mkdir()
    for split in ("train", "dev", "test"):
        (tmp_path / "conll04" / f"conll04_{split}.json").write_text(json.dumps(SPERT))
    example = task("conll04", tmp_path).examples("dev")[0]
    assert example["tags"] == ["B-Peop", "I-Peop", "O", "O", "B-Loc", "I-Loc", "O"]


def test_conll04_column_files(tmp_path):
    (tmp_path / "conll04").mkdir()
    (tmp_path / "conll04" / "train.txt").write_text("John B-Peop\nSmith I-Peop\nsleeps O\n\nParis B-Loc\n")
    examples = task("conll04", tmp_path).examples("train")
    assert [e["tags"] for e in examples] == [["B-Peop", "I-Peop", "O"], ["B-Loc"]]


def test_ontonotes_column_files_and_bad_tag_names_the_line(tmp_path):
    (tmp_path / "ontonotes").mkdir()
    (tmp_path / "ontonotes" / "onto.train.ner").write_text("The\tO\nUN\tB-ORG\nsaid\tO\n\non\tO\nMonday\tB-DATE\n")
    examples = task("ontonotes", tmp_path).examples("train")
    assert [e["tags"] for e in examples] == [["O", "B-ORG", "O"], ["O", "B-DATE"]]
    (tmp_path / "ontonotes" / "onto.development.ner").write_text("The\tO\n\nUN\tB-ORGANISATION\n")
    with pytest.raises(DataFileError, match=r"onto.development.ner:3.*B-ORGANISATION"):
        task("ontonotes", tmp_path).examples("dev")


def test_missing_local_file_names_the_layout(tmp_path):
    with pytest.raises(DataFileError, match="eng.testa"):
        task("conll03", tmp_path).examples("dev")
    assert not task("conll04", tmp_path).has_split("test")


def test_hub_rows_map_to_sentences():
    ontonotes = task("ontonotes", None)
    document = {"sentences": [{"words": ["UN", "says"], "named_entities": [7, 0]},
                              {"words": ["Monday"], "named_entities": [15]}]}
    assert [e["tags"] for e in ontonotes.from_hub_row(document, 0)] == [["B-ORG", "O"], ["B-DATE"]]
    conll04 = task("conll04", None)
    assert conll04.from_hub_row(SPERT[0], 0)[0]["tags"][:2] == ["B-Peop", "I-Peop"]
    conll12 = task("conll12", None)
    sentence = {"words": ["He", "ran", "."], "srl_frames": [{"verb": "ran", "frames": ["B-ARG0", "B-V", "O"]}]}
    assert conll12.from_hub_row({"sentences": [sentence]}, 0)[0]["predicate_index"] == 1


def test_offline_hub_load_fails_with_a_hint():
    """HF_HUB_OFFLINE=1 (the tests') and no cached copy: the user must give data_dir, exit 2 (nothing ran)."""
    with pytest.raises(HubUnreachableError, match="data_dir") as raised:
        task("conll03", None).examples("dev")
    assert raised.value.exit_code == 2
