"""`ptune table`: cells worked out by hand from rows written here, the published numbers, the table definitions."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ptune.config.compose import config_dir
from ptune.errors import ConfigError
from ptune.reports import render as render_module
from ptune.reports.reference import (
    UNSPECIFIED_MODEL,
    default_reference_dir,
    load_references,
)
from ptune.reports.render import main
from ptune.reports.table_specs import load_table_specs
from ptune.reports.tables import render, write_tables
from ptune.store import write
from ptune.store.find import completed_rows
from ptune.store.row import Row

TASK_FILES = {path.stem: path for path in (config_dir() / "task").glob("*.yaml")}
SPECS = {spec.name: spec for spec in load_table_specs()}
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "results" / "reference"
COMMITTED_RUNS = REFERENCE_DIR.parent / "runs"


def table_row(task: str, model: str, method: str, seed: int, dev: dict | None, psl: int | None = 16,
              status: str = "completed", trainable_percent: float = 1.5, lr: float = 0.01,
              best_epoch: int | None = None, epochs_run: int | None = None, last: dict | None = None) -> dict:
    """The fields of a row (for the write_row fixture) of one seed of a configuration."""
    return {"run_id": f"{task}-{model}-{method}-psl{psl}-s{seed}-lr{lr}", "status": status, "task": task,
            "model": model, "method": method, "prompt_length": psl, "seed": seed, "best_epoch": best_epoch,
            "epochs_run": epochs_run, "dev": dev, "last": last,
            "params": {"trainable": 1, "total": 2, "trainable_percent": trainable_percent},
            "config": {"seed": seed, "prompt_length": psl, "method": {"name": method, "lr": lr},
                       "task": {"name": task}, "trainer": {"name": "default", "max_train_examples": None}}}


def parse_table(markdown: str, number: int = 0) -> list[dict[str, str]]:
    """The Markdown document's table `number` (0: the scores, 1: the epoch selection, 2: the last-epoch scores) as
    dicts keyed by its header."""
    blocks, previous = [], False
    for line in markdown.splitlines():
        if line.startswith("|"):
            if not previous:
                blocks.append([])
            blocks[-1].append(line)
        previous = line.startswith("|")
    lines = blocks[number]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, body = split[0], split[2:]
    assert all(len(cells) == len(header) for cells in body), lines
    return [dict(zip(header, cells)) for cells in body]


def line_for(lines, model, method, source_part):
    found = [line for line in lines if line["model"] == model and line["method"] == method
             and source_part in line["source"]]
    assert len(found) == 1, (model, method, source_part, lines)
    return found[0]


@pytest.fixture
def results(write_row, tmp_path) -> Path:
    """RTE accuracy 50 / 60 / 70 over seeds 1-3 (mean 60, sample std 10); CB accuracy 80 / 83 (mean 81.5,
    sample std sqrt(2 * 1.5^2 / 1) = 2.12) without f1_macro; a failed run and a running one that must not count."""
    out = tmp_path / "results"
    for seed, accuracy in zip((1, 2, 3), (50.0, 60.0, 70.0)):
        write_row(out, **table_row("rte", "minilm", "ptv2", seed, {"accuracy": accuracy}))
    for seed, accuracy in zip((1, 2), (80.0, 83.0)):
        write_row(out, **table_row("cb", "minilm", "ptv2", seed, {"accuracy": accuracy}))
    write_row(out, **table_row("rte", "minilm", "ptv2", 4, {"accuracy": 0.0}, status="failed"))
    write_row(out, **table_row("rte", "minilm", "finetune", 1, {"accuracy": 65.0}, psl=None, trainable_percent=100.0))
    running = Row(run_id="rte-minilm-ptv2-running", status="running", task="rte", model="minilm", method="ptv2",
                  metrics={"dev": {"best": {"accuracy": 0.0}}})
    write.write_row(out / "runs" / running.run_id, running)  # as no run leaves it: a row.json not yet completed
    return out


def test_cells_are_mean_std_n_over_seeds(results):
    lines = parse_table(render(SPECS["superglue"], completed_rows(results), []))
    ptv2 = line_for(lines, "minilm", "ptv2", "ptune")
    assert ptv2["RTE"] == "60.0 ± 10.0 (3)"
    assert ptv2["CB"] == "81.5 ± 2.1 (2)"
    assert ptv2["CB F1"] == ""          # never measured: blank, not 0
    assert ptv2["BoolQ"] == ""
    assert ptv2["psl"] == "16" and ptv2["trainable %"] == "1.5"
    finetune = line_for(lines, "minilm", "finetune", "ptune")
    assert finetune["RTE"] == "65.0 (1)" and finetune["psl"] == "" and finetune["trainable %"] == "100"
    assert not any(line["method"] == "prefix" for line in lines)   # no rows, no line


def test_rendering_is_deterministic(results, tmp_path):
    first = [path.read_bytes() for path in write_tables(completed_rows(results), tmp_path / "a", REFERENCE_DIR)]
    second = [path.read_bytes() for path in write_tables(completed_rows(results), tmp_path / "b", REFERENCE_DIR)]
    assert first == second and len(first) == len(SPECS)


def test_published_rows_appear_and_unverified_ones_are_marked(results):
    text = render(SPECS["superglue"], completed_rows(results), load_references(REFERENCE_DIR))
    lines = parse_table(text)
    repo = line_for(lines, "roberta-large", "ptv2", "P-tuning v2 repo")
    assert repo["RTE"] == "86.6 · psl 128" and repo["BoolQ"] == "84.0 · psl 8"
    summary = line_for(lines, "roberta-large", "ptv2", "(unverified)")
    assert summary["BoolQ"] == "84.8"
    assert line_for(lines, "minilm", "ptv2", "peft peer")["RTE"] == "57.4"
    assert line_for(lines, "bert-large-cased", "finetune", "paper (quoted)")["CB"] == "94.6"
    for line in lines:   # every number of the third-party summary sits on a line that says unverified
        if line["source"].startswith("paper") and "quoted" not in line["source"]:
            assert "(unverified)" in line["source"]


def test_a_cell_with_several_configurations_shows_one_and_footnotes_the_rest(write_row, tmp_path):
    out = tmp_path / "results"
    for seed, accuracy in zip((1, 2), (60.0, 62.0)):
        write_row(out, **table_row("rte", "minilm", "ptv2", seed, {"accuracy": accuracy}))
    write_row(out, **table_row("rte", "minilm", "ptv2", 1, {"accuracy": 99.0}, lr=0.5))
    text = render(SPECS["superglue"], completed_rows(out), [])
    assert line_for(parse_table(text), "minilm", "ptv2", "ptune")["RTE"] == "61.0 ± 1.4 (2) [1]"
    assert "[1] minilm / ptv2 / RTE: runs with other settings not shown: rte-minilm-ptv2-psl16-s1-lr0.5" in text


def test_a_table_without_rows_says_so(tmp_path):
    text = render(SPECS["qa"], [], [])
    assert "No result rows for this table yet" in text and len(parse_table(text)) == 0


def test_cli_writes_every_table_and_refuses_unknown_names(results, tmp_path, capsys):
    assert main(["--results", str(results), "--out", str(tmp_path / "tables")]) == 0
    assert sorted(path.stem for path in (tmp_path / "tables").glob("*.md")) == sorted(SPECS)
    with pytest.raises(SystemExit, match="unknown table"):
        main(["--results", str(results), "--out", str(tmp_path / "t2"), "--tables", "superglu"])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_table_columns_name_known_tasks_splits_and_metrics(name):
    for column in SPECS[name].columns:
        assert column.task in TASK_FILES, f"{name}: column {column.label} names unknown task {column.task}"
        task = yaml.safe_load(TASK_FILES[column.task].read_text())
        assert column.metric in task["metrics"], f"{name}: {column.label}: {column.metric} not in {task['metrics']}"
        splits = task.get("eval_splits") or ["dev", "test"]
        assert column.split in splits, f"{name}: {column.label}: split {column.split} not in {splits}"


def test_every_published_number_has_a_known_model_method_and_a_table_column():
    models = {path.stem for path in (config_dir() / "model").glob("*.yaml")} | {UNSPECIFIED_MODEL}
    methods = {path.stem for path in (config_dir() / "method").glob("*.yaml")}
    columns = {(c.task, c.split, c.metric) for spec in SPECS.values() for c in spec.columns}
    references = load_references(REFERENCE_DIR)
    assert references
    for ref in references:
        assert ref.model in models and ref.method in methods, ref
        assert (ref.task, ref.split, ref.metric) in columns, ref
    assert default_reference_dir(Path("/nonexistent")) == REFERENCE_DIR


def test_a_reference_whose_verified_flag_disagrees_with_its_source_is_refused(tmp_path):
    (tmp_path / "sources.yaml").write_text((REFERENCE_DIR / "sources.yaml").read_text())
    header, first, *_ = (REFERENCE_DIR / "published.csv").read_text().splitlines()
    (tmp_path / "published.csv").write_text(f"{header}\n{first.replace(',true,', ',false,')}\n")
    with pytest.raises(ValueError, match="published.csv:2: verified"):
        load_references(tmp_path)


def test_the_setting_names_the_preset(write_row, tmp_path):
    out = tmp_path / "results"
    fields = table_row("rte", "minilm", "ptv2", 1, {"accuracy": 60.0})
    fields["config"]["preset_applied"] = "paper: P-tuning v2 repo settings for minilm on rte"
    write_row(out, **fields)
    line = line_for(parse_table(render(SPECS["superglue"], completed_rows(out), [])), "minilm", "ptv2", "ptune")
    assert line["source"] == "ptune (trainer=default, preset=paper)"


@pytest.mark.slow
def test_a_real_run_row_lands_in_its_cell(make_cfg, real_data_dir, tmp_path):
    """The runner's own row format, end to end: one smoke run of tiny-roberta on RTE."""
    from ptune.train.runner import execute

    row = execute(make_cfg("method=ptv2", "task=rte", "model=tiny-roberta", "trainer=smoke",
                           f"data_dir={real_data_dir}"))
    rows = completed_rows(tmp_path / "results")
    line = line_for(parse_table(render(SPECS["superglue"], rows, [])), "tiny-roberta", "ptv2", "ptune")
    assert line["RTE"] == f"{row.metrics['dev']['best']['accuracy']:.1f} (1)"
    assert line["psl"] == "16" and line["trainable %"] == f"{row.params['trainable_percent']:.3g}"


def test_the_selection_table_shows_which_epoch_each_cell_reports(write_row, tmp_path):
    """Best dev epochs 4, 9 and 10 of 10 (median 9): a cell whose best epoch is the last says 'still rising'."""
    out = tmp_path / "results"
    for seed, best in zip((1, 2, 3), (4, 10, 9)):
        write_row(out, **table_row("rte", "minilm", "ptv2", seed, {"accuracy": 60.0}, best_epoch=best, epochs_run=10))
    write_row(out, **table_row("copa", "minilm", "ptv2", 1, {"accuracy": 55.0}, best_epoch=20, epochs_run=20))
    markdown = render(SPECS["superglue"], completed_rows(out), [])
    [line] = parse_table(markdown, 1)
    assert (line["RTE"], line["COPA"], line["BoolQ"]) == ("9 (4-10) / 10", "20 / 20", "")
    assert "A best epoch at the end of the schedule means the dev score was still rising" in markdown


def test_the_last_epoch_table_scores_the_same_runs_without_selecting_an_epoch(write_row, tmp_path):
    """Best-epoch RTE 60 / 70 / 80 against last-epoch 50 / 52 / 54 (mean 52, sample std 2)."""
    out = tmp_path / "results"
    for seed, best, last in zip((1, 2, 3), (60.0, 70.0, 80.0), (50.0, 52.0, 54.0)):
        write_row(out, **table_row("rte", "minilm", "ptv2", seed, {"accuracy": best}, best_epoch=3, epochs_run=10,
                                   last={"accuracy": last}))
    markdown = render(SPECS["superglue"], completed_rows(out), [])
    assert line_for(parse_table(markdown, 0), "minilm", "ptv2", "ptune")["RTE"] == "70.0 ± 10.0 (3)"
    [line] = parse_table(markdown, 2)
    assert (line["RTE"], line["COPA"]) == ("52.0 ± 2.0 (3)", "")
    assert "Last epoch: the same runs scored at the end of their schedule" in markdown


def test_a_precision_other_than_auto_is_part_of_the_setting(write_row, tmp_path):
    out = tmp_path / "results"
    for precision, accuracy in (("auto", 60.0), ("fp32", 62.0)):
        fields = table_row("rte", "minilm", "ptv2", 1, {"accuracy": accuracy}, lr=precision)
        fields["config"]["trainer"]["precision"] = precision
        write_row(out, **fields)
    lines = parse_table(render(SPECS["superglue"], completed_rows(out), []))
    assert line_for(lines, "minilm", "ptv2", "precision=fp32")["RTE"] == "62.0 (1)"
    assert line_for(lines, "minilm", "ptv2", "ptune (trainer=default)")["RTE"] == "60.0 (1)"


def wsc_row(run, task_config, accuracy, seed=1) -> dict:
    """The fields of a WSC row (for the write_row fixture) with the task config `task_config`."""
    return {"run_id": run, "task": "wsc", "model": "minilm", "method": "ptv2", "prompt_length": 16, "seed": seed,
            "dev": {"accuracy": accuracy}, "params": {"trainable_percent": 1.0},
            "config": {"seed": seed, "method": {"name": "ptv2"}, "task": task_config, "trainer": {"name": "default"}}}


def test_tables_never_pool_task_versions_and_name_the_template(write_row, tmp_path):
    results = tmp_path / "results"
    write_row(results, **wsc_row("old-1", {"name": "wsc"}, 60.0))          # made before versions: version 1
    write_row(results, **wsc_row("old-2", {"name": "wsc"}, 62.0, seed=2))
    v2 = {"name": "wsc", "version": 2, "template": "ptv2", "variant": "wsc"}
    write_row(results, **wsc_row("new-1", v2, 40.0))
    spec = next(spec for spec in load_table_specs() if spec.name == "superglue")
    text = render(spec, completed_rows(results), [])
    assert "| 61.0 ± 1.4 (2) [1] |" in text and "runs with other settings not shown: new-1" in text
    write_row(results, **wsc_row("new-2", v2, 50.0, seed=2))
    write_row(results, **wsc_row("new-3", v2, 45.0, seed=3))
    text = render(spec, completed_rows(results), [])
    assert "| 45.0 ± 5.0 (3) · ptv2 · wsc · v2 [1] |" in text and "not shown: old-1, old-2" in text


def test_the_committed_tables_leave_out_random_weight_and_smoke_rows(results, write_row, tmp_path, monkeypatch,
                                                                      capsys):
    """Rows of a backbone built from a config (random weights) or of trainer=smoke never enter the committed tables
    (issue 36); another results folder's tables show every row (tests/test_cli.py sweeps tiny-roberta into one)."""
    for model, trainer, seed in (("tiny-bert", "default", 1), ("minilm", "smoke", 2)):
        fields = table_row("wic", model, "ptv2", seed, {"accuracy": 50.0})
        fields["config"] |= {"model": {"name": model, "pretrained": None if model == "tiny-bert" else "pkg:x",
                                       "tiny": {"hidden_size": 32} if model == "tiny-bert" else None},
                             "trainer": {"name": trainer, "max_train_examples": None}}
        write_row(results, **fields)
    flags = ["--results", str(results), "--no-figures", "--no-stats", "--tables", "superglue"]
    assert main([*flags, "--out", str(tmp_path / "elsewhere")]) == 0
    assert "| 50.0 (1)" in (tmp_path / "elsewhere" / "superglue.md").read_text()
    monkeypatch.setattr(render_module, "COMMITTED", results.resolve())
    assert main([*flags, "--out", str(tmp_path / "committed")]) == 0
    text = (tmp_path / "committed" / "superglue.md").read_text()
    assert "50.0" not in text and "| minilm | ptv2 |" in text  # the other rows stay
    assert "left out 2 row(s) of a random-weight backbone or trainer=smoke" in capsys.readouterr().err


def test_the_committed_tables_are_not_rewritten_without_the_task_data_for_gold_labels(tmp_path, monkeypatch):
    """Run where ../shared/data is not at hand, `ptune table` would write the committed tables without their SuperGLUE
    intervals: it refuses (exit 2 via ConfigError) before writing anything; --data-dir or --out elsewhere goes on."""
    committed = tmp_path / "results"
    for run in sorted((COMMITTED_RUNS).glob("rte-minilm-finetune-s*"))[:2]:
        shutil.copytree(run, committed / "runs" / run.name)
    monkeypatch.setattr(render_module, "COMMITTED", committed.resolve())
    monkeypatch.chdir(tmp_path)  # the rows recorded ../shared/data: not beside this folder
    flags = ["--results", str(committed), "--no-figures", "--tables", "superglue", "--bootstrap", "200"]
    with pytest.raises(ConfigError, match="the committed tables need the task data for gold labels"):
        main(flags)
    assert not (committed / "tables").exists()
    assert main([*flags, "--out", str(tmp_path / "elsewhere")]) == 0
