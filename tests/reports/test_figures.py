"""ptune table's figures: points worked out by hand from rows written here; files drawn twice are the same bytes."""
from __future__ import annotations

from pathlib import Path

import pytest

from ptune.reports.figures import (
    add_f1_standard_errors,
    caption,
    configurations,
    error_bar,
    prompt_length_lines,
    seeds_label,
    trainable_series,
    write_delta_figures,
    write_figures,
)
from ptune.store.find import completed_rows


def figure_row(method: str, psl: int | None, seed: int, accuracy: float, percent: float, trainer: str = "default",
               metric: str = "accuracy") -> dict:
    """The fields of an RTE row (for the write_row fixture) scoring `accuracy` on its primary `metric`."""
    return {"run_id": f"rte-minilm-{method}-psl{psl}-s{seed}-{trainer}", "task": "rte", "model": "minilm",
            "method": method, "prompt_length": psl, "seed": seed, "primary_metric": metric, "dev": {metric: accuracy},
            "params": {"trainable_percent": percent}, "data": {"dev_examples": 400},
            "config": {"seed": seed, "prompt_length": psl, "method": {"name": method}, "task": {"name": "rte"},
                       "trainer": {"name": trainer}}}


@pytest.fixture
def results(write_row, tmp_path) -> Path:
    """ptv2 at psl 4 (seeds: 50, 54) and 16 (60, 62); prompt at psl 16 only; finetune once."""
    out = tmp_path / "results"
    for psl, scores in ((4, (50.0, 54.0)), (16, (60.0, 62.0))):
        for seed, score in enumerate(scores, start=1):
            write_row(out, **figure_row("ptv2", psl, seed, score, 0.1 * psl))
    write_row(out, **figure_row("prompt", 16, 1, 55.0, 0.03))
    write_row(out, **figure_row("finetune", None, 1, 65.0, 100.0))
    return out


def test_points_pool_the_seeds_of_one_configuration(results):
    points = configurations(completed_rows(results))["rte"]
    by_key = {(p["method"], p["psl"]): p for p in points}
    assert by_key["ptv2", 4]["mean"] == 52.0 and by_key["ptv2", 4]["std"] == pytest.approx(2 ** 0.5 * 2)
    assert by_key["ptv2", 16]["mean"] == 61.0 and by_key["finetune", None]["trainable"] == 100.0
    lines = prompt_length_lines(points)
    assert list(lines) == [("minilm", "ptv2", "trainer=default")]  # prompt has one length: no line
    assert [p["psl"] for p in lines["minilm", "ptv2", "trainer=default"]] == [4, 16]


def test_figures_are_drawn_and_redrawn_byte_for_byte(results, tmp_path):
    pytest.importorskip("matplotlib")
    first = write_figures(completed_rows(results), tmp_path / "a")
    second = write_figures(completed_rows(results), tmp_path / "b")
    assert [p.name for p in first] == ["prompt_length-rte.png", "trainable-rte.png"]
    for a, b in zip(first, second):
        assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and a.read_bytes() == b.read_bytes()


def test_the_trainable_figure_keeps_cells_of_other_settings_apart(write_row, results):
    write_row(results, **figure_row("ptv2", 16, 1, 58.0, 1.6, trainer="demo"))  # the same method on another schedule
    series = trainable_series(configurations(completed_rows(results))["rte"])
    assert list(series) == [("minilm", "finetune", "trainer=default"), ("minilm", "prompt", "trainer=default"),
                            ("minilm", "ptv2", "trainer=default"), ("minilm", "ptv2", "trainer=demo")]
    assert [p["psl"] for p in series["minilm", "ptv2", "trainer=default"]] == [4, 16]
    assert [p["mean"] for p in series["minilm", "ptv2", "trainer=demo"]] == [58.0]


def test_a_prompt_length_line_says_how_many_seeds_its_points_pool(write_row, results):
    line = prompt_length_lines(configurations(completed_rows(results))["rte"])["minilm", "ptv2", "trainer=default"]
    assert seeds_label(line) == " n=2"  # two seeds at psl 4 and at psl 16
    write_row(results, **figure_row("ptv2", 8, 1, 56.0, 0.8))  # a sweep's single-seed length between them
    line = prompt_length_lines(configurations(completed_rows(results))["rte"])["minilm", "ptv2", "trainer=default"]
    assert [p["psl"] for p in line] == [4, 8, 16] and seeds_label(line) == " n=2,1,2"


def test_a_single_seed_accuracy_gets_one_evaluations_standard_error_as_its_bar(write_row, results):
    write_row(results, **figure_row("prefix", 16, 1, 70.0, 1.0, metric="f1"))
    by_key = {(p["method"], p["psl"]): p for p in configurations(completed_rows(results))["rte"]}
    assert error_bar(by_key["ptv2", 4]) == (pytest.approx(2 ** 0.5 * 2), "std")  # two seeds: their spread
    assert error_bar(by_key["prompt", 16]) == (pytest.approx(100 * (0.55 * 0.45 / 400) ** 0.5), "se")  # 2.49
    assert error_bar(by_key["prefix", 16]) == (0.0, None)  # an F1 is not a share of examples: no bar
    assert caption([by_key["prompt", 16]]) == "one seed: ±1 standard error of one dev evaluation (binomial)"
    assert caption(list(by_key.values())) == ("bars: the seeds' standard deviation; one seed: ±1 standard error of "
                                              "one dev evaluation (binomial)")


def test_a_single_seed_f1_gets_the_standard_error_over_its_dev_sentences(write_row, results):
    """Two sentences, one entity each: one right, one of the wrong type -> F1 50, standard error 50 (by hand:
    residuals 2 - 0.5 * 2 = +1 and 0 - 0.5 * 2 = -1, sqrt(2 / 2) / mean(2))."""
    run = write_row(results, **figure_row("prefix", 16, 1, 50.0, 1.0, metric="f1"))
    (run / "predictions" / "dev").mkdir(parents=True)
    (run / "predictions" / "dev" / "dev.conll").write_text("Jim B-PER B-PER\nsat O O\n\nParis B-LOC B-PER\n\n")
    other = write_row(results, **figure_row("prompt", 32, 1, 60.0, 0.1, metric="f1"))  # its file gives another F1: no bar
    (other / "predictions" / "dev").mkdir(parents=True)
    (other / "predictions" / "dev" / "dev.conll").write_text((run / "predictions" / "dev" / "dev.conll").read_text())
    points = configurations(completed_rows(results))["rte"]
    add_f1_standard_errors(points, results)
    by_key = {(p["method"], p["psl"]): p for p in points}
    assert error_bar(by_key["prefix", 16]) == (pytest.approx(50.0), "se_f1")
    assert error_bar(by_key["prompt", 32]) == (0.0, None)
    assert error_bar(by_key["ptv2", 4])[1] == "std"  # two seeds: their spread, never a file
    assert caption([by_key["prefix", 16]]) == "one seed: ±1 standard error of one dev evaluation (over its sentences)"


def test_the_delta_figure_draws_each_tables_comparisons_byte_for_byte(tmp_path):
    pytest.importorskip("matplotlib")
    comparison = {"table": "superglue", "column": "RTE", "method": "ptv2", "psl": 16, "label": "ptune (x)",
                  "delta": -6.0, "ci95": [-12.0, -0.2], "verdict": "no difference"}
    stats = {"bootstrap": {"replicates": 100, "seed": 0, "reference": "finetune", "margin": 1.0, "alpha": 0.05},
             "comparisons": [comparison, {**comparison, "column": "WiC", "verdict": "worse"}]}
    first = write_delta_figures(stats, tmp_path / "a")
    assert [path.name for path in first] == ["deltas-superglue.png"]
    assert first[0].read_bytes() == write_delta_figures(stats, tmp_path / "b")[0].read_bytes()
    assert write_delta_figures({**stats, "comparisons": []}, tmp_path / "c") == []
