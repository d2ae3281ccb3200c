"""`ptune compare --runs A --against B`: any two sets of runs compared as the tables' statistics compare them."""
from __future__ import annotations

import json

import pytest

from ptune.errors import ConfigError
from ptune.reports.compare import main
from tests.helpers import stats_of, write_tagging_run


@pytest.fixture
def results(write_row, tmp_path):
    out = tmp_path / "results"
    for seed, (tuned, prompted) in enumerate(((0, 12), (1, 14)), start=1):
        write_tagging_run(write_row, out, "conll03", "finetune", seed, tuned)
        write_tagging_run(write_row, out, "conll03", "ptv2", seed, prompted)
    return out


def test_two_sets_of_runs_give_the_comparison_stats_json_holds(results, capsys):
    """The same runs draw the same replicates as their table cells: the same delta, interval and p."""
    (expected,) = [c for c in stats_of(results)["comparisons"] if c["split"] == "test"]
    assert main([str(results), "--runs", "conll03-minilm-ptv2", "--against", "conll03-minilm-finetune",
                 "--split", "test", "--bootstrap", "2000"]) == 0
    out = capsys.readouterr().out
    assert "| runs | ptv2 | 2 |" in out and "| against | finetune | 2 |" in out
    assert (f"| {expected['delta']:+.2f} | [{expected['ci95'][0]:+.2f}, {expected['ci95'][1]:+.2f}] "
            f"| {expected['p']:.3g} | worse | no |") in out


def test_a_set_of_other_examples_is_not_paired_and_bad_selections_are_one_line_errors(results, tmp_path, capsys,
                                                                                       write_row):
    other = tmp_path / "other"
    write_tagging_run(write_row, other, "conll03", "ptv2", 1, 3)
    folder = other / "runs" / "conll03-minilm-ptv2-s1" / "predictions" / "dev" / "dev.conll"
    folder.write_text(folder.read_text().split("\n\n", 1)[1])  # one sentence fewer: other examples
    assert main([str(other), "--runs", "conll03-minilm-ptv2", "--against", "conll03-minilm-finetune",
                 "--against-results", str(results), "--bootstrap", "200"]) == 0
    assert "No paired comparison" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="give both --runs and --against"):
        main([str(results), "--runs", "conll03"])
    with pytest.raises(ConfigError, match="matches 'rte'"):
        main([str(results), "--runs", "rte", "--against", "conll03"])


def test_runs_of_other_settings_that_the_prefix_matches_are_left_out_not_pooled_as_seeds(results, capsys,
                                                                                           write_row):
    """A prefix that also matches a run of another configuration (here trainer=demo) compares the configuration
    with the most seeds, as its table cell does, and lists the other run as left out: the same cells and the same
    comparison as without that run."""
    args = [str(results), "--runs", "conll03-minilm-ptv2", "--against", "conll03-minilm-finetune", "--split",
            "test", "--bootstrap", "500"]
    assert main(args) == 0
    alone = capsys.readouterr().out
    extra = write_tagging_run(write_row, results, "conll03", "ptv2", 3, 40)  # far worse: pooled, it would move the mean
    row_file = results / "runs" / extra / "row.json"
    row = json.loads(row_file.read_text())
    row["config"]["trainer"]["name"] = "demo"
    row_file.write_text(json.dumps(row))
    assert main(args) == 0
    with_extra = capsys.readouterr().out
    note = ("\n\nLeft out, runs of other settings than the configuration with the most seeds (as a table cell leaves "
            f"them out): {extra}")
    assert "Left out" not in alone and note in with_extra
    assert with_extra.replace(note, "") == alone
