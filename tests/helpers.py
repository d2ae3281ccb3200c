"""What several test modules share that is no fixture: the config choices they parametrize over (read when pytest
collects) and the plain builders conftest's fixtures hand out (build, encode, ptune, run_folder, ...)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import torch

from ptune.config.compose import compose, config_dir
from ptune.model.backbones import load_tokenizer
from ptune.model.prompted import build_model
from ptune.reports.stats import Settings, table_stats
from ptune.reports.table_specs import load_table_specs
from ptune.store.find import completed_rows, run_path
from ptune.tasks.tagging.metrics import entity_scores
from ptune.tasks.tagging.task import TaggingTask
from ptune.train import loop

TINY_MODELS = sorted(p.stem for p in (config_dir() / "model").glob("tiny-*.yaml"))
METHODS = sorted(p.stem for p in (config_dir() / "method").glob("*.yaml"))
TASKS = sorted(p.stem for p in (config_dir() / "task").glob("*.yaml"))

# the smallest run: RTE on tiny-bert with trainer=smoke (add method=... and data_dir=...)
SMOKE = ("task=rte", "model=tiny-bert", "trainer=smoke")

# two sentence pairs of different lengths, for encode(tokenizer, PAIRS)
PAIRS = [("The cat sat on the mat.", "A cat is sitting."), ("Rain fell all day long in town.", "It was dry.")]
CLASSIFICATION = SimpleNamespace(head="classification", num_labels=3, words_pretokenized=False)


def superglue_tasks() -> list[str]:
    """Every conf/task/*.yaml of family superglue."""
    return [name for name in TASKS if compose([f"task={name}"]).task.get("family") == "superglue"]


def build(model: str, method: str, *overrides: str, task=CLASSIFICATION, max_length: int = 64):
    """(PromptedModel, tokenizer, cfg) of model x method with prompt_length=5, seeded."""
    cfg = compose([f"model={model}", f"method={method}", "prompt_length=5", *overrides])
    torch.manual_seed(0)
    return build_model(cfg.model, cfg.method, task, max_length), load_tokenizer(cfg.model), cfg


def encode(tokenizer, pairs, **kwargs):
    first, second = zip(*pairs)
    return dict(tokenizer(list(first), list(second), return_tensors="pt", **({"padding": True} | kwargs)))


def ptune(*args, cwd=None):
    """`ptune <args>` in a subprocess, offline; the CompletedProcess with its text output."""
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "ptune.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


# What a config error, `--help` or `--cfg job` must answer without loading (the config is checked first: issue 36).
HEAVY_PACKAGES = {"torch", "transformers", "datasets"}


def ptune_imports(*args, cwd=None, env=None) -> tuple[subprocess.CompletedProcess, set[str]]:
    """ptune(*args) (offline unless `env` says otherwise), and the top-level packages the process had imported
    when it exited, read from sys.modules by an atexit hook, whatever way it exited. A config error must leave
    `HEAVY_PACKAGES & imported` empty."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "imported.json"
        code = ("import atexit, json, runpy, sys\n"
                f"atexit.register(lambda: open({str(report)!r}, 'w').write("
                "json.dumps(sorted({name.split('.')[0] for name in sys.modules}))))\n"
                "runpy.run_module('ptune.cli', run_name='__main__', alter_sys=True)\n")
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                                env=os.environ | {"HF_HUB_OFFLINE": "1"} | (env or {}), cwd=cwd, timeout=600)
        assert report.is_file(), f"the process wrote no import report:\n{result.stderr[-3000:]}"
        return result, set(json.loads(report.read_text()))


def run_folder(cfg, row) -> Path:
    return Path(cfg.paths.results_dir) / "runs" / row.run_id


def prediction_files(folder: Path) -> dict[str, bytes]:
    files = sorted((folder / "predictions").rglob("*"))
    return {str(p.relative_to(folder)): p.read_bytes() for p in files if p.is_file()}


def at_training_batch(monkeypatch, step: int, act) -> None:
    """Call `act()` when the runner pads its `step`-th training batch (counting from 1): a stop or a crash at a
    known point of a run."""
    calls = {"n": 0}
    original = loop.collate

    def collate(features, pad_id):
        if features and "labels" in features[0] and torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] == step:
                act()
        return original(features, pad_id)

    monkeypatch.setattr(loop, "collate", collate)


def sigterm_at_step(monkeypatch, step: int) -> None:
    """Send this process a real SIGTERM when the runner pads its `step`-th training batch (counting from 1)."""
    at_training_batch(monkeypatch, step, lambda: os.kill(os.getpid(), signal.SIGTERM))


# Tagging runs with predictions, for the statistics tests (tests/reports/test_stats.py, test_compare.py)
GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"], ["B-LOC", "O", "O"], ["B-PER", "O"]] * 10


def guess(misses: int) -> list[list[str]]:
    """GOLD with the first entity of the first `misses` sentences tagged O."""
    return [["O" if i < misses and tag == sentence[0] else tag for tag in sentence] for i, sentence in
            enumerate([list(s) for s in GOLD])]


def write_tagging_run(write_row, results: Path, task: str, method: str, seed: int, misses: int) -> str:
    """A completed tagging run whose dev and test predictions miss `misses` entities, with the F1 they give."""
    predicted = guess(misses)
    scores = entity_scores(GOLD, predicted)
    psl = None if method == "finetune" else 16
    run_id = f"{task}-minilm-{method}-s{seed}"
    write_row(results, run_id=run_id, task=task, model="minilm", method=method, prompt_length=psl, seed=seed,
              primary_metric="f1", metrics={split: {"best": scores} for split in ("dev", "test")},
              params={"trainable_percent": 1.0},
              config={"seed": seed, "prompt_length": psl, "method": {"name": method}, "task": {"name": task},
                      "trainer": {"name": "default"}})
    for split in ("dev", "test"):
        predictions = [{"words": ["w"] * len(g), "gold": g, "predicted": p} for g, p in zip(GOLD, predicted)]
        TaggingTask.write_predictions(None, predictions, run_path(results, run_id) / "predictions" / split, split)
    return run_id


def stats_of(results: Path, **settings) -> dict:
    return table_stats(load_table_specs(), completed_rows(results), results, Settings(replicates=2000, **settings))
