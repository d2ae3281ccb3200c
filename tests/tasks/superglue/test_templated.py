"""The P-tuning v2 code's input templates (WiC, WSC, COPA), built from real records and compared to the strings
that code builds (THUDM/P-tuning-v2 tasks/superglue/dataset.py, template_id 0 / 1), written out by hand."""
from __future__ import annotations

import json

import pytest

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.tasks import build_task

# Real records, copied by hand from the SuperGLUE files (../shared/data/super_glue/<Task>/...).
WIC_VAL_0 = {"word": "class", "sentence1": "An emerging professional class.",
             "sentence2": "Apologizing for losing your temper, even though you were badly provoked, showed real class.",
             "idx": 0, "label": False, "start1": 25, "start2": 85, "end1": 30, "end2": 90, "version": 1.1}
WSC_VAL_0 = {"text": "Bernard , who had not told the government official that he was less than 21 when he filed for a "
                     "homestead claim, did not consider that he had done anything dishonest. Still, anyone who knew "
                     "that he was 19 years old could take his claim away from him .",
             "target": {"span2_index": 47, "span1_index": 32, "span1_text": "anyone", "span2_text": "him"},
             "idx": 0, "label": False}
WSC_TRAIN_16 = {"text": "The city councilmen refused the demonstrators a permit because they advocated violence.",
                "target": {"span2_index": 9, "span1_index": 4, "span1_text": "The demonstrators", "span2_text": "they"},
                "idx": 16, "label": True}
COPA_VAL_0 = {"premise": "The man turned on the faucet.", "choice1": "The toilet filled with water.",
              "choice2": "Water flowed from the spout.", "question": "effect", "label": 1, "idx": 0}


def task(name, *overrides, data_dir=None):
    return build_task(compose([f"task={name}", *overrides]).task, data_dir)


def local_example(name, record, *overrides, tmp_path):
    """The record as the task reads it from a local file."""
    made = task(name, *overrides, data_dir=tmp_path)
    folder = tmp_path / "super_glue" / made.cfg.local_name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "val.jsonl").write_text(json.dumps(record) + "\n")
    return made, made.examples("dev")[0]


def test_wic_roberta_template_is_one_segment_with_the_question(tmp_path):
    wic, example = local_example("wic", WIC_VAL_0, "task.template=ptv2_roberta", tmp_path=tmp_path)
    assert wic.text_pair(example) == (
        "An emerging professional class. Apologizing for losing your temper, even though you were badly provoked, "
        "showed real class. Does class have the same meaning in both sentences?", None)
    tokenizer = load_tokenizer(compose(["model=tiny-bert"]).model)
    (feature,) = wic.features([example], tokenizer, 128)
    assert feature["input_ids"].count(tokenizer.sep_token_id) == 1 and set(feature["token_type_ids"]) == {0}


def test_wic_bert_template_is_the_word_before_each_sentence(tmp_path):
    wic, example = local_example("wic", WIC_VAL_0, "task.template=ptv2_bert", tmp_path=tmp_path)
    assert wic.text_pair(example) == (
        "class: An emerging professional class.",
        "class: Apologizing for losing your temper, even though you were badly provoked, showed real class.")


def test_wic_default_stays_the_marked_pair(tmp_path):
    wic, example = local_example("wic", WIC_VAL_0, tmp_path=tmp_path)
    assert wic.text_pair(example) == (
        "class: An emerging professional *class*.",
        "Apologizing for losing your temper, even though you were badly provoked, showed real *class*.")


def test_wsc_template_is_the_pronoun_before_the_text_paired_with_the_noun(tmp_path):
    wsc, example = local_example("wsc", WSC_VAL_0, "task.template=ptv2", "task.variant=wsc", tmp_path=tmp_path)
    assert wsc.text_pair(example) == (
        "him: Bernard , who had not told the government official that he was less than 21 when he filed for a "
        "homestead claim, did not consider that he had done anything dishonest. Still, anyone who knew that he was "
        "19 years old could take his claim away from him .", "anyone")


def test_wsc_variants_differ_only_in_corrected_span_texts(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    original, example = local_example("wsc", WSC_TRAIN_16, "task.template=ptv2", "task.variant=wsc",
                                      tmp_path=tmp_path / "a")
    assert original.text_pair(example) == (
        "they: The city councilmen refused the demonstrators a permit because they advocated violence.",
        "The demonstrators")  # wsc: the span text as the file gives it, though the text says "the demonstrators"
    fixed, example = local_example("wsc", WSC_TRAIN_16, "task.template=ptv2", "task.variant=wsc.fixed",
                                   tmp_path=tmp_path / "b")
    assert fixed.text_pair(example)[1] == "the demonstrators"
    assert compose(["task=wsc", "task.variant=wsc"]).task.hub.name == "wsc"  # the hub config follows the variant


def test_copa_keeps_the_premise_stop_as_the_official_code(tmp_path):
    copa, example = local_example("copa", COPA_VAL_0, tmp_path=tmp_path)
    assert copa.choice_pairs(example) == [("The man turned on the faucet. so", "The toilet filled with water."),
                                          ("The man turned on the faucet. so", "Water flowed from the spout.")]
    old, example = local_example("copa", COPA_VAL_0, "task.template=no_period", tmp_path=tmp_path)
    assert old.choice_pairs(example)[0] == ("The man turned on the faucet so", "The toilet filled with water.")


@pytest.mark.slow
@pytest.mark.parametrize("name, record, line", [("WiC", WIC_VAL_0, 0), ("WSC", WSC_VAL_0, 0), ("COPA", COPA_VAL_0, 0),
                                                ("WSC", WSC_TRAIN_16, 16)])
def test_the_hand_written_records_are_the_real_ones(real_data_dir, name, record, line):
    split = "train" if record is WSC_TRAIN_16 else "val"
    lines = (real_data_dir / "super_glue" / name / f"{split}.jsonl").read_text().splitlines()
    assert json.loads(lines[line]) == record


def test_unknown_template_and_variant_name_the_choices():
    with pytest.raises(ValueError, match="ptv2_roberta"):
        task("wic", "task.template=robreta")
    with pytest.raises(ValueError, match="wsc.fixed"):
        task("wsc", "task.variant=fixed")


def test_paper_preset_picks_the_official_template_per_backbone_family():
    assert compose(["preset=paper", "model=roberta-large", "task=wic"]).task.template == "ptv2_roberta"
    assert compose(["preset=paper", "model=bert-large-cased", "task=wic"]).task.template == "ptv2_bert"
    for model in ("roberta-large", "bert-large-cased"):
        cfg = compose(["preset=paper", f"model={model}", "task=wsc"])
        assert (cfg.task.template, cfg.task.variant, cfg.task.hub.name) == ("ptv2", "wsc", "wsc")
    assert compose(["preset=paper", "task=copa"]).task.template == "ptv2"
