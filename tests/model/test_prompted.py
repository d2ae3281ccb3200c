"""Issue 8's switches: init_std, per-example prefix dropout, shift_positions, model.hidden_dropout, conlleval F1,
task versions in run ids and tables, and preset=paper's protocol (checked on the real CLI)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from ptune.config.compose import compose
from ptune.model.backbones import load_tokenizer
from ptune.model.methods import build_method
from ptune.model.methods.prefix_encoder import PrefixEncoder
from ptune.model.prompted import build_model
from ptune.reports.table_specs import load_table_specs
from ptune.reports.tables import render
from ptune.store.rows import load_rows, run_id
from ptune.tasks import build_task
from ptune.tasks.tagging.metrics import conlleval_scores, entity_scores
from ptune.train.batching import collate


# init ----------------------------------------------------------------------------------------------------------
def test_init_std_gives_bert_style_init_and_null_keeps_torch_default():
    torch.manual_seed(0)
    table = PrefixEncoder(8, 2, 64, init_std=0.02).embedding.weight    # 8 x 256 values
    assert 0.018 < table.std().item() < 0.022 and abs(table.mean().item()) < 0.002
    assert 0.95 < PrefixEncoder(8, 2, 64).embedding.weight.std().item() < 1.05   # torch: N(0, 1)
    mlp = PrefixEncoder(8, 2, 64, reparameterize=True, init_std=0.02).mlp
    for linear in (mlp[0], mlp[2]):
        assert 0.018 < linear.weight.std().item() < 0.022 and torch.count_nonzero(linear.bias) == 0
    default = PrefixEncoder(8, 2, 64, reparameterize=True).mlp[0]      # torch: U(-1/sqrt(64), 1/sqrt(64))
    assert default.weight.abs().max().item() <= 1 / 8 and torch.count_nonzero(default.bias) > 0


def test_shallow_prompt_init_std(make_cfg):
    cfg = make_cfg("method=prompt", "model=tiny-bert", "prompt_length=64", "method.init_std=0.02")
    model = build_model(cfg.model, cfg.method, build_task(cfg.task, None), 128)
    assert 0.017 < model.method.prompts.std().item() < 0.023


# prefix dropout ---------------------------------------------------------------------------------------------------
def test_prefix_dropout_draws_one_mask_per_example(make_cfg):
    cfg = make_cfg("method=ptv2", "model=tiny-bert", "prompt_length=4", "method.prefix_dropout=0.5")
    model = build_model(cfg.model, cfg.method, build_task(cfg.task, None), 64)
    method = model.method.train()
    prefixes = method.layer_prefixes(3)          # [layers, 2, batch, heads, P, d]
    zeros = prefixes == 0
    assert not torch.equal(zeros[:, :, 0], zeros[:, :, 1]) and not torch.equal(zeros[:, :, 1], zeros[:, :, 2])
    method.eval()
    prefixes = method.layer_prefixes(3)
    assert torch.equal(prefixes[:, :, 0], prefixes[:, :, 2])


def test_prefix_method_gets_the_official_prefix_dropout():
    assert compose(["method=prefix"]).method.prefix_dropout == 0.1


# shifted positions --------------------------------------------------------------------------------------------
def expected_positions(model_type, input_ids, pad_id, offset):
    """Written out per token, the way BERT / RoBERTa number positions after `offset` cached ones."""
    rows = []
    for ids in input_ids.tolist():
        if model_type == "roberta":
            count, row = 0, []
            for token in ids:
                count += token != pad_id
                row.append(pad_id + offset + count if token != pad_id else pad_id)
            rows.append(row)
        else:
            rows.append([offset + i for i in range(len(ids))])
    return torch.tensor(rows)


@pytest.mark.parametrize("model_name", ["tiny-bert", "tiny-roberta"])
def test_shifted_run_equals_the_backbone_with_explicit_offset_positions(make_cfg, model_name):
    cfg = make_cfg("method=ptv2", f"model={model_name}", "prompt_length=5", "method.shift_positions=true")
    task = build_task(cfg.task, None)
    tokenizer = load_tokenizer(cfg.model)
    model = build_model(cfg.model, cfg.method, task, 64, tokenizer).eval()
    encoded = [dict(tokenizer("a short one", "b")), dict(tokenizer("a much longer first text here", "and more"))]
    batch = collate([{**e, "labels": 0} for e in encoded], tokenizer.pad_token_id)
    seen = {}
    model.head.register_forward_hook(lambda module, args, output: seen.update(sequence=args[0]))
    with torch.no_grad():
        model(batch)
        positions = expected_positions(model.backbone.config.model_type, batch["input_ids"], tokenizer.pad_token_id, 5)
        model.injector.set(model.method.layer_prefixes(2))
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
        explicit = model.backbone(**inputs, position_ids=positions).last_hidden_state
        unshifted = model.backbone(**inputs).last_hidden_state
        model.injector.set(None)
    mask = batch["attention_mask"].bool()
    assert torch.allclose(seen["sequence"][mask], explicit[mask], atol=1e-5)
    assert not torch.allclose(seen["sequence"][mask], unshifted[mask], atol=1e-3)


def test_shift_beyond_the_position_table_is_refused(make_cfg):
    cfg = make_cfg("method=ptv2", "model=tiny-bert", "prompt_length=20", "method.shift_positions=true")
    with pytest.raises(ValueError, match="shift_positions.*500 \\+ prompt_length 20 = 520 exceeds the 512"):
        build_model(cfg.model, cfg.method, build_task(cfg.task, None), 500)
    cfg.method.shift_positions = False
    build_model(cfg.model, cfg.method, build_task(cfg.task, None), 500)


def test_hidden_dropout_reaches_the_backbone(make_cfg):
    cfg = make_cfg("model=tiny-bert", "model.hidden_dropout=0.2")
    model = build_model(cfg.model, cfg.method, build_task(cfg.task, None), 64)
    assert model.backbone.config.hidden_dropout_prob == 0.2
    assert {m.p for m in model.backbone.encoder.modules() if isinstance(m, torch.nn.Dropout)} >= {0.2}


# NER / SRL scoring -------------------------------------------------------------------------------------------
def test_conlleval_and_strict_readings_against_counts_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]]
    predicted = [["I-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-LOC"]]
    # conlleval: gold chunks PER(0-1), LOC(3), ORG(5-6) = 3; predicted chunks PER(0-1) (an I- after O starts a
    # chunk), LOC(3), ORG(5) and LOC(6) (a type change starts a new chunk) = 4; correct PER, LOC = 2.
    # P = 2/4, R = 2/3, F1 = 2PR/(P+R) = 4/7.
    scores = conlleval_scores(gold, predicted)
    assert scores["precision_conlleval"] == pytest.approx(50.0)
    assert scores["recall_conlleval"] == pytest.approx(200 / 3)
    assert scores["f1_conlleval"] == pytest.approx(400 / 7)
    # strict IOB2: the leading I-PER I-PER is no entity, I-LOC after B-ORG is none either: predicted LOC(3),
    # ORG(5) = 2, correct LOC = 1: P = 1/2, R = 1/3, F1 = 2/5.
    assert entity_scores(gold, predicted) == pytest.approx({"precision": 50.0, "recall": 100 / 3, "f1": 40.0})


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


# bookkeeping -----------------------------------------------------------------------------------------------------
def test_task_version_and_template_go_into_the_run_id():
    base = compose(["task=wic"])
    assert base.task.version == 1
    ids = {run_id(base), run_id(compose(["task=wic", "task.version=2"])),
           run_id(compose(["task=wic", "task.template=ptv2_bert"]))}
    assert len(ids) == 3


def write_row(results, run, task_config, accuracy, seed=1):
    row = {"run_id": run, "status": "completed", "task": "wsc", "model": "minilm", "method": "ptv2",
           "prompt_length": 16, "seed": seed, "metrics": {"dev": {"best": {"accuracy": accuracy}}},
           "params": {"trainable_percent": 1.0},
           "config": {"seed": seed, "method": {"name": "ptv2"}, "task": task_config, "trainer": {"name": "default"}}}
    (results / "runs" / run).mkdir(parents=True)
    (results / "runs" / run / "row.json").write_text(json.dumps(row))


def test_tables_never_pool_task_versions_and_name_the_template(tmp_path):
    results = tmp_path / "results"
    write_row(results, "old-1", {"name": "wsc"}, 60.0)          # made before versions: version 1
    write_row(results, "old-2", {"name": "wsc"}, 62.0, seed=2)
    write_row(results, "new-1", {"name": "wsc", "version": 2, "template": "ptv2", "variant": "wsc"}, 40.0)
    spec = next(spec for spec in load_table_specs() if spec.name == "superglue")
    text = render(spec, load_rows(results), [])
    assert "| 61.0 ± 1.4 (2) [1] |" in text and "runs with other settings not shown: new-1" in text
    write_row(results, "new-2", {"name": "wsc", "version": 2, "template": "ptv2", "variant": "wsc"}, 50.0, seed=2)
    write_row(results, "new-3", {"name": "wsc", "version": 2, "template": "ptv2", "variant": "wsc"}, 45.0, seed=3)
    text = render(spec, load_rows(results), [])
    assert "| 45.0 ± 5.0 (3) · ptv2 · wsc · v2 [1] |" in text and "not shown: old-1, old-2" in text


# preset=paper on the real command line ------------------------------------------------------------------------
def test_paper_preset_cfg_job_shows_the_protocol():
    out = subprocess.run([sys.executable, "-m", "ptune.cli", "run", "--cfg", "job", "preset=paper", "method=ptv2",
                          "model=roberta-large", "task=rte"], capture_output=True, text=True, check=True).stdout
    assert "weight_decay: 0.0" in out and "precision: fp32" in out
    assert "init_std: 0.02" in out and "shift_positions: true" in out and "hidden_dropout: 0.1" in out


def test_paper_preset_for_qa_and_tagging():
    squad = compose(["preset=paper", "model=roberta-large", "task=squad"])
    assert (squad.trainer.schedule, squad.trainer.lr_decay_gamma, squad.method.head_dropout) == ("exponential", 0.95, 0.0)
    assert squad.model.hidden_dropout == 0.2
    conll04 = compose(["preset=paper", "model=bert-large-uncased", "task=conll04"])
    assert (conll04.model.hidden_dropout, conll04.task.metric) == (0.2, "f1_conlleval")


def test_build_method_accepts_every_method_yaml_with_init_std(make_cfg):
    for method in ("ptv2", "prefix", "prompt"):
        cfg = make_cfg(f"method={method}", "model=tiny-bert", "method.init_std=0.02")
        build_method(cfg.method, build_model(cfg.model, cfg.method, build_task(cfg.task, None), 64).backbone)
