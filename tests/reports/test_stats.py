"""stats.json from rows and prediction files written here: cells, paired comparisons, aggregates, the same bytes on
a rerun, and the tables that show them."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from ptune.reports.render import main
from ptune.reports.stats import Settings, table_stats, write_stats
from ptune.reports.table_specs import load_table_specs
from ptune.store.find import completed_rows, run_path
from ptune.tasks.tagging.metrics import entity_scores
from ptune.tasks.tagging.task import TaggingTask

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"], ["B-LOC", "O", "O"], ["B-PER", "O"]] * 10
CELL_KEYS = {"table", "model", "task", "split", "metric", "column", "label", "method", "psl", "runs", "n", "mean",
             "std", "ci95", "baseline", "above_baseline"}


def guess(misses: int) -> list[list[str]]:
    """GOLD with the first entity of the first `misses` sentences tagged O."""
    return [["O" if i < misses and tag == sentence[0] else tag for tag in sentence] for i, sentence in
            enumerate([list(s) for s in GOLD])]


def write_run(write_row, results: Path, task: str, method: str, seed: int, misses: int) -> str:
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


@pytest.fixture
def results(write_row, tmp_path) -> Path:
    """conll03 and conll04: finetune misses 0 / 1 entity (seeds 1, 2), ptv2 misses 12 / 14."""
    out = tmp_path / "results"
    for task in ("conll03", "conll04"):
        for seed, (tuned, prompted) in enumerate(((0, 12), (1, 14)), start=1):
            write_run(write_row, out, task, "finetune", seed, tuned)
            write_run(write_row, out, task, "ptv2", seed, prompted)
    return out


def stats_of(results: Path, **settings) -> dict:
    return table_stats(load_table_specs(), completed_rows(results), results, Settings(replicates=2000, **settings))


def test_cells_comparisons_and_aggregates(results):
    stats = stats_of(results)
    cell = next(c for c in stats["cells"] if (c["task"], c["split"], c["method"]) == ("conll03", "test", "ptv2"))
    assert set(cell) == CELL_KEYS
    scores = [entity_scores(GOLD, guess(misses))["f1"] for misses in (12, 14)]
    assert cell["runs"] == ["conll03-minilm-ptv2-s1", "conll03-minilm-ptv2-s2"] and cell["n"] == 2
    assert cell["mean"] == pytest.approx(statistics.fmean(scores), abs=1e-4)
    assert cell["std"] == pytest.approx(statistics.stdev(scores), abs=1e-4)
    assert cell["ci95"][0] < cell["mean"] < cell["ci95"][1] and cell["baseline"] == 0.0 and cell["above_baseline"]
    comparison = next(c for c in stats["comparisons"] if (c["task"], c["split"]) == ("conll03", "test"))
    tuned = [entity_scores(GOLD, guess(misses))["f1"] for misses in (0, 1)]
    assert comparison["reference"] == "finetune" and comparison["method"] == "ptv2"
    assert comparison["runs"]["reference"] == ["conll03-minilm-finetune-s1", "conll03-minilm-finetune-s2"]
    assert comparison["delta"] == pytest.approx(statistics.fmean(scores) - statistics.fmean(tuned), abs=1e-4)
    # ptv2 misses the same 12-14 entities on every resample of the shared sentences: a clear, paired loss
    assert comparison["ci95"][1] < -1 and comparison["verdict"] == "worse" and comparison["within_margin"] == "no"
    tagging = [c for c in stats["comparisons"] if c["table"] == "tagging"]
    assert len(tagging) == 4  # 2 tasks x (test, dev: no conlleval recorded); Holm multiplies the smallest p by 4
    assert min(c["p_holm"] for c in tagging) == pytest.approx(4 * min(c["p"] for c in tagging), abs=1e-5)
    (ptv2,) = [a for a in stats["aggregates"] if a["method"] == "ptv2"]
    assert ptv2["tasks"] == ["conll03", "conll04"] and ptv2["p_improvement"] == 0.0
    assert ptv2["mean"] == pytest.approx(statistics.fmean(scores), abs=1e-4)  # both tasks have the same runs


def test_the_numbers_are_fixed_by_the_bootstrap_seed(results):
    assert stats_of(results) == stats_of(results)
    assert stats_of(results)["cells"][0]["ci95"] != stats_of(results, seed=1)["cells"][0]["ci95"]


def test_ptune_table_writes_stats_json_and_the_intervals_and_rewrites_the_same_bytes(results, tmp_path, capsys):
    args = ["--results", str(results), "--no-figures", "--bootstrap", "1000"]
    assert main(args) == 0
    first = (results / "tables" / "stats.json").read_bytes()
    tagging = (results / "tables" / "tagging.md").read_text()
    assert main(args) == 0 and (results / "tables" / "stats.json").read_bytes() == first
    stats = json.loads(first)
    assert stats["version"] == 1 and stats["bootstrap"]["replicates"] == 1000
    cell = next(c for c in stats["cells"] if (c["task"], c["split"], c["method"]) == ("conll03", "test", "ptv2"))
    assert f"[{cell['ci95'][0]:.1f}, {cell['ci95'][1]:.1f}]" in tagging
    assert "| minilm | ptune (trainer=default) | CoNLL03 strict | ptv2 | 16 |" in tagging
    assert "| worse | no |" in tagging
    assert main([*args, "--no-stats", "--out", str(tmp_path / "plain")]) == 0
    assert "[" not in (tmp_path / "plain" / "tagging.md").read_text().split("| minilm | ptv2")[1].split("\n")[0]


@pytest.mark.slow
def test_the_committed_stats_json_is_what_the_committed_rows_give(real_data_dir, tmp_path):
    """What `make tables` keeps true: the committed file is regenerated byte for byte (the gold labels of the
    SuperGLUE and SQuAD cells come from the real data)."""
    results = Path(__file__).resolve().parents[2] / "results"
    stats = table_stats(load_table_specs(), completed_rows(results), results, Settings(), real_data_dir)
    written = write_stats(stats, Path(tmp_path) / "stats.json")
    assert written.read_bytes() == (results / "tables" / "stats.json").read_bytes(), "run: make tables"
