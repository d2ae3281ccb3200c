"""preset=paper (per task and per (method, model, task) settings) and the sweep presets, composed for real."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.types import RunMode

from ptune.config.compose import compose, config_dir

CONF = config_dir()
TASKS = {path.stem for path in (CONF / "task").glob("*.yaml")}
MODELS = {path.stem for path in (CONF / "model").glob("*.yaml")}
METHODS = {path.stem for path in (CONF / "method").glob("*.yaml")}
BY_RUN = sorted((CONF / "preset" / "by_run").glob("*.yaml"))
BY_TASK = sorted((CONF / "preset" / "by_task").glob("*.yaml"))
SWEEPS = sorted(path.stem for path in (CONF / "sweep").glob("*.yaml"))
PUBLISHED = Path(__file__).resolve().parents[2] / "results" / "reference" / "published.csv"


def by_run_parts(path: Path) -> tuple[str, str, str, str]:
    """paper_ptv2_roberta-large_squad_v2 -> (paper, ptv2, roberta-large, squad_v2); model names hold no '_'."""
    preset, method, rest = path.stem.split("_", 2)
    model, task = rest.split("_", 1)
    return preset, method, model, task


def test_paper_preset_sets_the_published_roberta_rte_run():
    cfg = compose(["preset=paper", "method=ptv2", "model=roberta-large", "task=rte"])
    # PAPER.md, RoBERTa-large RTE: 100 epochs, batch 32, lr 5e-3, dropout 0.1, psl 128; SuperGLUE length 128
    assert (cfg.trainer.epochs, cfg.trainer.batch_size, cfg.method.lr) == (100, 32, 5e-3)
    assert cfg.prompt_length == 128 and cfg.method.prompt_length == 128
    assert cfg.method.prefix_dropout == 0.1 and cfg.task.max_length == 128
    assert "P-tuning v2 repo settings for roberta-large on rte" in cfg.preset_applied
    assert cfg.seed == compose([]).seed     # seeds are not forced


def test_paper_preset_specials_reparameterization_and_lengths():
    assert compose(["preset=paper", "model=bert-large-cased", "task=wic"]).method.reparameterize is True
    assert compose(["preset=paper", "model=roberta-large", "task=wic"]).method.reparameterize is False
    if "conll03" in TASKS:
        cfg = compose(["preset=paper", "model=roberta-large", "task=conll03"])
        assert cfg.task.max_length == 152 and cfg.trainer.schedule == "exponential"
    if "squad" in TASKS:
        cfg = compose(["preset=paper", "model=roberta-large", "task=squad"])
        assert (cfg.task.max_length, cfg.task.stride, cfg.trainer.batch_size) == (384, 128, 8)


# What preset=paper changes on a (method, model, task) without published settings: the protocol only.
PROTOCOL = {"trainer.weight_decay": 0.0, "trainer.precision": "fp32"}
PROTOCOL_BY_METHOD = {"ptv2": {"method.init_std": 0.02, "method.shift_positions": True},
                      "prefix": {"method.init_std": 0.02, "method.shift_positions": True},
                      "prompt": {"method.init_std": 0.02}, "finetune": {}}


def flat(node, prefix=""):
    return {f"{prefix}{k}": v for key, value in node.items()
            for k, v in (flat(value, f"{key}.").items() if isinstance(value, dict) else [(key, value)])}


@pytest.mark.parametrize("overrides", [["model=roberta-large", "task=cb"], ["method=finetune", "task=rte",
                                                                           "model=roberta-large"],
                                       ["method=prompt", "model=minilm", "task=rte"]])
def test_without_published_settings_only_the_protocol_changes_and_the_config_says_so(overrides):
    plain, paper = compose(overrides), compose(["preset=paper", *overrides])
    assert paper.preset_applied.startswith("paper: no published settings")
    from omegaconf import OmegaConf

    changed = {}
    for group in ("method", "trainer", "model"):
        before = flat(OmegaConf.to_container(plain[group], resolve=True), f"{group}.")
        after = flat(OmegaConf.to_container(paper[group], resolve=True), f"{group}.")
        changed |= {key: value for key, value in after.items() if before.get(key, "absent") != value}
    assert changed == {**PROTOCOL, **PROTOCOL_BY_METHOD[paper.method.name]}
    assert paper.prompt_length == plain.prompt_length


def test_command_line_overrides_win_over_the_preset():
    cfg = compose(["preset=paper", "model=roberta-large", "task=rte", "method.lr=0.1", "prompt_length=3"])
    assert cfg.method.lr == 0.1 and cfg.prompt_length == 3 and cfg.trainer.epochs == 100


def test_no_preset_applies_nothing():
    """preset=none: preset_applied (a key of the typed top-level schema) stays null, the groups as they are."""
    plain = compose([])
    assert plain.preset_applied is None and compose(["preset=none"]) == plain


@pytest.mark.parametrize("path", BY_RUN, ids=lambda path: path.stem)
def test_every_per_run_preset_names_real_groups_and_is_picked_up(path):
    preset, method, model, task = by_run_parts(path)
    assert (CONF / "preset" / f"{preset}.yaml").is_file() and method in METHODS and model in MODELS, path
    if task not in TASKS:
        pytest.skip(f"task {task} has no conf/task yaml yet")
    cfg = compose([f"preset={preset}", f"method={method}", f"model={model}", f"task={task}"])
    written = yaml.safe_load(path.read_text())
    assert cfg.preset_applied == written["preset_applied"]  # the file's own label, not the preset's fallback
    assert model in cfg.preset_applied or "chosen by sweep=" in cfg.preset_applied  # paper's name the run, picks the search
    for key in ("prompt_length", "method.lr", "trainer.epochs"):
        *parents, leaf = key.split(".")
        node, value = written, cfg
        for part in parents:
            node, value = node.get(part, {}), value[part]
        if leaf in node:
            assert value[leaf] == node[leaf], (path.name, key)


@pytest.mark.parametrize("path", BY_TASK, ids=lambda path: path.stem)
def test_every_per_task_preset_composes(path):
    preset, task = path.stem.split("_", 1)
    if task not in TASKS:
        pytest.skip(f"task {task} has no conf/task yaml yet")
    assert compose([f"preset={preset}", f"task={task}"]).task.name == task


def test_preset_prompt_lengths_agree_with_the_published_table():
    """Two transcriptions of PAPER.md (presets, results/reference/published.csv) must agree on psl."""
    with PUBLISHED.open(newline="") as handle:
        published = {(r["model"], r["task"]): int(r["prompt_length"]) for r in csv.DictReader(handle)
                     if r["source"] == "ptv2-repo"}
    presets = {}
    for path in BY_RUN:
        preset, method, model, task = by_run_parts(path)
        if preset != "paper":
            continue
        text = path.read_text()
        presets[(model, task)] = int(text.split("\nprompt_length:")[1].split()[0])
    assert presets == published


@pytest.mark.parametrize("name", SWEEPS)
def test_every_sweep_preset_switches_to_multirun_over_real_keys(name):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=[f"sweep={name}"], return_hydra_config=True)
    assert cfg.hydra.mode == RunMode.MULTIRUN
    params = cfg.hydra.sweeper.params
    assert params, name
    for key, values in params.items():
        choices = [value.strip() for value in str(values).split(",")]
        if (CONF / key).is_dir():
            assert all((CONF / key / f"{choice}.yaml").is_file() for choice in choices), (key, choices)
        else:
            from omegaconf import OmegaConf

            absent = object()
            assert OmegaConf.select(cfg, key, default=absent) is not absent, \
                f"sweep {name}: {key} is neither a config group nor a config key"


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
