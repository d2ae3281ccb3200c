"""scripts/results_report.py: the README's results section, from rows written here with scores worked out by hand;
and the committed README is what the committed rows give (what `make tables` keeps true)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import results_report  # noqa: E402

FINAL = "minilm: method.lr and prompt_length chosen by sweep=search_minilm_ptv2"


def write_row(results: Path, task: str, method: str, seed: int, best: float, last: float, label: str = FINAL,
              lr: float = 0.01, model: str = "minilm", reused: bool = False):
    run_id = f"{task}-{model}-{method}-s{seed}-{abs(hash((label, lr))) % 10**6}"
    row = {"run_id": run_id, "status": "completed", "task": task, "model": model, "method": method,
           "prompt_length": 16, "seed": seed, "primary_metric": "accuracy", "epochs_run": 20,
           "metrics": {"dev": {"best": {"accuracy": best}, "last": {"accuracy": last}}},
           "params": {"trainable_percent": 0.33},
           "config": {"seed": seed, "preset_applied": label, "method": {"name": method, "lr": lr}}}
    if reused:
        row["reused_from"] = {"run_id": "x", "folder": "search/runs/x"}
    (results / "runs" / run_id).mkdir(parents=True)
    (results / "runs" / run_id / "row.json").write_text(json.dumps(row))


def table_line(text: str, method: str) -> list[str]:
    [line] = [line for line in text.splitlines() if line.startswith(f"| {method} | 0.33")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_cells_pool_the_final_runs_only(tmp_path):
    """RTE ptv2 best 60 / 70 / 80 (mean 70, std 10), last 50 / 52 / 54 (52 ± 2); search rows, another backbone and
    an unsearched config with fewer seeds stay out."""
    results = tmp_path / "results"
    for seed, best, last in zip((1, 2, 3), (60.0, 70.0, 80.0), (50.0, 52.0, 54.0)):
        write_row(results, "rte", "ptv2", seed, best, last, reused=seed == 1)
    write_row(results, "rte", "ptv2", 1, 99.0, 99.0, label="minilm: the settings search (sweep=search_minilm_ptv2)")
    write_row(results, "rte", "ptv2", 1, 98.0, 98.0, model="tiny-bert")
    write_row(results, "rte", "ptv2", 1, 97.0, 97.0, label="minilm: schedule only; not searched", lr=0.5)
    text = results_report.section(results_report.load_rows(results), tmp_path)
    assert table_line(text, "ptv2") == ["ptv2", "0.33", "70.0 ± 10.0 / 52.0 ± 2.0 (3)"]
    assert "| method | trainable % | RTE (accuracy) |" in text
    assert "| ptv2 | lr 0.01, psl 16, 20 ep |" in text and "1 of the runs are the search's seed-1 winners" in text


def test_check_fails_until_the_section_is_rewritten(tmp_path):
    results = tmp_path / "results"
    write_row(results, "copa", "finetune", 1, 60.0, 55.0)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{results_report.START}\nold\n{results_report.END}\nafter\n")
    args = ["--results", str(results), "--readme", str(readme)]
    assert results_report.main(["--check", *args]) == 1
    assert results_report.main(args) == 0
    assert results_report.main(["--check", *args]) == 0
    assert "60.0 / 55.0 (1)" in readme.read_text() and readme.read_text().endswith("after\n")


def test_the_committed_readme_shows_the_committed_rows():
    assert results_report.main(["--check"]) == 0, "run: make tables"


def test_the_figure_draws_the_final_cells_and_nothing_without_them(tmp_path):
    pytest.importorskip("matplotlib")
    results = tmp_path / "results"
    for seed, best in zip((1, 2), (60.0, 64.0)):
        write_row(results, "copa", "ptv2", seed, best, best - 5)
    path = tmp_path / "final.png"
    assert results_report.draw(results_report.load_rows(results), path) == path and path.stat().st_size > 0
    first = path.read_bytes()
    results_report.draw(results_report.load_rows(results), path)
    assert path.read_bytes() == first  # same rows, same bytes: `make tables` leaves no diff
    assert results_report.draw(results_report.load_rows(tmp_path / "nothing"), tmp_path / "none.png") is None


def test_the_figure_legend_names_every_method_drawn_in_any_panel(tmp_path):
    """The first panel (RTE) may lack a method that another panel draws: the one legend still names it."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    results = tmp_path / "results"
    write_row(results, "rte", "ptv2", 1, 55.0, 50.0)
    write_row(results, "copa", "prompt", 1, 60.0, 52.0)
    write_row(results, "copa", "finetune", 1, 63.0, 59.0)
    figure = results_report.final_figure(results_report.load_rows(results))
    legend = figure.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["finetune", "prompt", "ptv2"]
    assert [axes.get_title() for axes in figure.axes] == ["RTE", "COPA"]
    plt.close(figure)


def test_the_prompt_length_sweep_is_labelled_apart_from_the_finals_and_copies_the_search_winner(tmp_path):
    from ptune.config.compose import compose
    from ptune.reports.labels import setting_label
    from ptune.store.reuse import find_twin
    from ptune.store.rows import experiment_config, run_id

    grid = ["preset=minilm", "model=minilm", "task=copa", "method=ptv2", "seed=1"]
    final = compose(["sweep=reproduce_minilm", *grid])  # at COPA's committed ptv2 pick
    swept = compose(["sweep=prompt_length_minilm", *grid, f"prompt_length={final.prompt_length}"])
    assert (swept.method.lr, swept.prompt_length) == (final.method.lr, final.prompt_length)
    assert run_id(swept) != run_id(final)  # the label is part of the id: the sweep never counts as a final run

    twin = tmp_path / "runs" / run_id(final)  # the winner's row (a final's config, as the search's differs by label)
    twin.mkdir(parents=True)
    (twin / "row.json").write_text(json.dumps({"status": "completed", "config": experiment_config(final)}))
    assert find_twin(tmp_path, run_id(swept), experiment_config(swept)) == twin  # copied, not trained

    rows = [{"model": "minilm", "config": {"preset_applied": cfg.preset_applied}} for cfg in (final, swept)]
    assert [results_report.is_final(row) for row in rows] == [True, False]
    assert setting_label(rows[0]) != setting_label(rows[1])  # separate lines in the tables and figures
