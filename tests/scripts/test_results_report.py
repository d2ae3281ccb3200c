"""scripts/results_report.py: the README's results section and results/README.md's summary, from rows written here
with scores worked out by hand; and the committed files are what the committed rows give (what `make tables` keeps
true)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import results_report  # noqa: E402

FINAL = "minilm: method.lr and prompt_length chosen by sweep=search_minilm_ptv2"


def write_final(write_row, results: Path, task: str, method: str, seed: int, best: float, last: float,
                label: str = FINAL, lr: float = 0.01, model: str = "minilm", reused: bool = False,
                test: float | None = None, loss: float = 0.5, seconds: float = 600.0, best_epoch: int = 20):
    """A MiniLM row with `label` as its preset label, through the write_row fixture."""
    write_row(results, run_id=f"{task}-{model}-{method}-s{seed}-{abs(hash((label, lr))) % 10**6}", task=task,
              model=model, method=method, prompt_length=16, seed=seed, primary_metric="accuracy", epochs_run=20,
              best_epoch=best_epoch, metrics={"dev": {"best": {"accuracy": best}, "last": {"accuracy": last}},
                                              "test": {"best": None if test is None else {"accuracy": test}}},
              history=[{"epoch": 1, "train_loss": 0.69}, {"epoch": 20, "train_loss": loss}], train_seconds=seconds,
              data={"dev_examples": 277}, params={"trainable_percent": 0.33},
              config={"seed": seed, "preset_applied": label, "method": {"name": method, "lr": lr}},
              reused_from={"run_id": "x", "folder": "search/runs/x"} if reused else None)


def table_line(text: str, method: str) -> list[str]:
    [line] = [line for line in text.splitlines() if line.startswith(f"| {method} | 0.33")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_cells_pool_the_final_runs_only(tmp_path, write_row):
    """RTE ptv2 best 60 / 70 / 80 (mean 70, std 10), last 50 / 52 / 54 (52 ± 2); search rows, another backbone and
    an unsearched config with fewer seeds stay out."""
    results = tmp_path / "results"
    for seed, best, last in zip((1, 2, 3), (60.0, 70.0, 80.0), (50.0, 52.0, 54.0)):
        write_final(write_row, results, "rte", "ptv2", seed, best, last, reused=seed == 1)
    write_final(write_row, results, "rte", "ptv2", 1, 99.0, 99.0, label="minilm: the settings search (sweep=search_minilm_ptv2)")
    write_final(write_row, results, "rte", "ptv2", 1, 98.0, 98.0, model="tiny-bert")
    write_final(write_row, results, "rte", "ptv2", 1, 97.0, 97.0, label="minilm: schedule only; not searched", lr=0.5)
    text = results_report.section(results_report.completed_rows(results), tmp_path)
    assert table_line(text, "ptv2") == ["ptv2", "0.33", "70.0 ± 10.0 / 52.0 ± 2.0 (3)"]
    assert "| method | trainable % | RTE (accuracy) |" in text
    assert "1 of the runs are the search's seed-1 winners" in text
    assert "lr 0.01, psl 16, 20 ep |" in results_report.summary(results_report.completed_rows(results))


def test_check_fails_until_the_section_is_rewritten(tmp_path, write_row):
    results = tmp_path / "results"
    write_final(write_row, results, "copa", "finetune", 1, 60.0, 55.0)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{results_report.START}\nold\n{results_report.END}\nafter\n")
    opening = results / "README.md"
    opening.write_text(f"# y\n\n{results_report.SUMMARY_START}\nold\n{results_report.SUMMARY_END}\nanalysis\n")
    args = ["--results", str(results), "--readme", str(readme)]
    assert results_report.main(["--check", *args]) == 1
    assert results_report.main(args) == 0
    assert results_report.main(["--check", *args]) == 0
    assert "60.0 / 55.0 (1)" in readme.read_text() and readme.read_text().endswith("after\n")
    assert "| COPA | finetune | 0.33 | 60.0 (1) | 55.0 (1) |" in opening.read_text()
    assert opening.read_text().endswith("analysis\n")
    opening.write_text(opening.read_text().replace("60.0 (1)", "61.0 (1)"))  # a hand edit of the summary
    assert results_report.main(["--check", *args]) == 1


def stats_entry(runs: list[str], method: str, mean: float, low: float, high: float, above: bool) -> dict:
    return {"runs": sorted(runs), "split": "dev", "metric": "accuracy", "method": method, "mean": mean, "label": "x",
            "ci95": [low, high], "baseline": 52.7, "above_baseline": above}


def test_the_summary_says_which_gaps_are_real_and_which_cells_are_at_chance(tmp_path, write_row):
    """The intervals and verdicts come from stats.json (written here by hand for the rows): finetune's RTE cell
    clears the baseline, ptv2's does not; ptv2's gap is real, prompt's interval excludes 0 only before Holm. Test,
    train loss, minutes and the selected epoch come per cell from the rows."""
    results = tmp_path / "results"
    write_final(write_row, results, "rte", "finetune", 1, 60.0, 50.0, test=70.0, loss=0.1, seconds=600, best_epoch=3)
    write_final(write_row, results, "rte", "finetune", 2, 64.0, 52.0, test=72.0, loss=0.2, seconds=1200, best_epoch=5)
    write_final(write_row, results, "rte", "ptv2", 1, 55.0, 54.0)
    write_final(write_row, results, "rte", "ptv2", 2, 57.0, 56.0)
    write_final(write_row, results, "rte", "prompt", 1, 50.0, 40.0)
    rows = results_report.completed_rows(results)
    ids = {method: [r.run_id for r in rows if r.method == method] for method in ("finetune", "ptv2", "prompt")}
    comparison = {"split": "dev", "metric": "accuracy", "delta": -6.0, "ci95": [-9.0, -3.0], "p": 0.001,
                  "p_holm": 0.002, "verdict": "worse", "within_margin": "no",
                  "runs": {"method": sorted(ids["ptv2"]), "reference": sorted(ids["finetune"])}}
    stats = {"bootstrap": {"replicates": 100, "seed": 0, "reference": "finetune", "margin": 1.0, "alpha": 0.05},
             "cells": [stats_entry(ids["finetune"], "finetune", 62.0, 56.0, 68.0, True),
                       stats_entry(ids["ptv2"], "ptv2", 56.0, 50.0, 61.0, False),
                       stats_entry(ids["prompt"], "prompt", 50.0, 44.0, 56.0, False)],
             "comparisons": [comparison, {**comparison, "delta": -12.0, "ci95": [-20.0, -1.0], "p": 0.04,
                                          "p_holm": 0.08, "verdict": "no difference", "within_margin": "no",
                                          "runs": {"method": sorted(ids["prompt"]),
                                                   "reference": sorted(ids["finetune"])}}],
             "aggregates": [{"label": "x", "method": "finetune", "tasks": ["copa", "rte"], "mean": 61.0,
                             "ci95": [57.0, 65.0], "p_improvement": None},
                            {"label": "x", "method": "ptv2", "tasks": ["copa", "rte"], "mean": 55.0,
                             "ci95": [51.0, 59.0], "p_improvement": 0.25},
                            {"label": "other", "method": "ptv2", "tasks": ["wic", "rte"], "mean": 1.0,
                             "ci95": [0.0, 2.0], "p_improvement": 0.5}]}
    text = results_report.summary(rows, stats)
    assert ("| RTE | accuracy | 277 | 52.7 | 62.0 [56.0, 68.0] | 50.0 [44.0, 56.0] † | 56.0 [50.0, 61.0] † |"
            in text)
    assert ("- **Gaps told from noise** (Holm p < 0.05; delta against finetune [95%]): RTE ptv2 -6.0 [-9.0, -3.0]"
            in text)
    assert "**No gap told from noise** against finetune: RTE: prompt." in text
    assert "before Holm's correction for the table's many comparisons: RTE prompt -12.0 [-20.0, -1.0] (p 0.04" in text
    assert "- **At chance** (the interval does not clear the trivial baseline): RTE: prompt, ptv2." in text
    assert "| RTE | ptv2 | -6.0 [-9.0, -3.0] | 0.002 | worse | no |" in text
    assert ("(probability of improvement over finetune): finetune 61.0 [57.0, 65.0]; ptv2 55.0 [51.0, 59.0] (0.25)."
            in text) and "wic" not in text  # only the final cells' aggregates
    assert ("| RTE | finetune | 0.33 | 62.0 ± 2.8 (2) | 51.0 ± 1.4 (2) | 71.0 ± 1.4 (2) | 4 (3-5) / 20 "
            "| 0.100–0.200 | 10–20 | lr 0.01, psl 16, 20 ep |") in text
    assert "| RTE | prompt | 0.33 | 50.0 (1) | 40.0 (1) |  | 20 / 20 | 0.500 | 10 |" in text
    assert text.startswith(results_report.SUMMARY_START) and text.endswith(results_report.SUMMARY_END)
    assert "trivial baseline" not in results_report.summary(rows)  # without stats.json: the cells' details only


def test_the_committed_readmes_show_the_committed_rows():
    assert results_report.main(["--check"]) == 0, "run: make tables"


def test_the_figure_draws_the_final_cells_and_nothing_without_them(tmp_path, write_row):
    pytest.importorskip("matplotlib")
    results = tmp_path / "results"
    for seed, best in zip((1, 2), (60.0, 64.0)):
        write_final(write_row, results, "copa", "ptv2", seed, best, best - 5)
    path = tmp_path / "final.png"
    assert results_report.draw(results_report.completed_rows(results), path) == path and path.stat().st_size > 0
    first = path.read_bytes()
    results_report.draw(results_report.completed_rows(results), path)
    assert path.read_bytes() == first  # same rows, same bytes: `make tables` leaves no diff
    assert results_report.draw(results_report.completed_rows(tmp_path / "nothing"), tmp_path / "none.png") is None


def test_the_figure_legend_names_every_method_drawn_in_any_panel(tmp_path, write_row):
    """The first panel (RTE) may lack a method that another panel draws: the one legend still names it."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    results = tmp_path / "results"
    write_final(write_row, results, "rte", "ptv2", 1, 55.0, 50.0)
    write_final(write_row, results, "copa", "prompt", 1, 60.0, 52.0)
    write_final(write_row, results, "copa", "finetune", 1, 63.0, 59.0)
    figure = results_report.final_figure(results_report.completed_rows(results))
    legend = figure.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["finetune", "prompt", "ptv2"]
    assert [axes.get_title() for axes in figure.axes] == ["RTE", "COPA"]
    plt.close(figure)


def test_the_prompt_length_sweep_is_labelled_apart_from_the_finals_and_copies_the_search_winner(tmp_path):
    from ptune.config.compose import compose
    from ptune.reports.labels import setting_label
    from ptune.store.reuse import find_twin
    from ptune.store.row import Row
    from ptune.store.run_id import experiment_config, run_id

    grid = ["preset=minilm", "model=minilm", "task=copa", "method=ptv2", "seed=1"]
    final = compose(["sweep=reproduce_minilm", *grid])  # at COPA's committed ptv2 pick
    swept = compose(["sweep=prompt_length_minilm", *grid, f"prompt_length={final.prompt_length}"])
    assert (swept.method.lr, swept.prompt_length) == (final.method.lr, final.prompt_length)
    assert run_id(swept) != run_id(final)  # the label is part of the id: the sweep never counts as a final run

    twin = tmp_path / "runs" / run_id(final)  # the winner's row (a final's config, as the search's differs by label)
    twin.mkdir(parents=True)
    (twin / "row.json").write_text(json.dumps({"status": "completed", "config": experiment_config(final)}))
    assert find_twin(tmp_path, run_id(swept), experiment_config(swept)) == twin  # copied, not trained

    rows = [Row(model="minilm", config={"preset_applied": cfg.preset_applied}) for cfg in (final, swept)]
    assert [results_report.is_final(row) for row in rows] == [True, False]
    assert setting_label(rows[0]) != setting_label(rows[1])  # separate lines in the tables and figures
