"""Print the rows of a set of runs beside the committed rows of the same configurations, or compare any two sets
of runs as the tables' statistics do.

    ptune compare outputs/demo/results              # every row there, beside results/runs/<same run id>
    ptune compare DIR --committed OTHER_RESULTS_DIR
    ptune compare --runs rte-minilm-ptv2-psl64 --against rte-minilm-finetune       # run ids or their prefixes
    ptune compare outputs/demo/results --runs conll03-minilm-ptv2 --against conll03-minilm-ptv2 \
        --against-results results --split test --metric f1_conlleval     # --runs from DIR (default: results)

A run id is a hash of the experiment's config, so the committed row with the same id is the same
command run earlier (on the machine and commit its provenance names). With --runs / --against: both cells (mean,
std, n, 95% interval from the two-level bootstrap, trivial baseline) and the first set against the second, paired
on the same examples (delta, its interval, p, verdict, within --margin points), from the runs' saved predictions
(ptune/reports/stats.py; docs/statistics.md). Each set is the seeds of one task's configuration: where the ids
match runs of several settings, those of the configuration with the most seeds, as a table cell; the rest are listed
as left out. Default split dev, the task's primary metric.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ptune.errors import ConfigError
from ptune.reports.cells import shown_configuration
from ptune.reports.labels import method_rank
from ptune.reports.markdown import markdown_table
from ptune.reports.stats import Settings, compare_runs
from ptune.reports.table_specs import Column
from ptune.store.find import completed_rows, run_path
from ptune.store.row import Row

HEADER = ["task", "method", "psl", "trainable %", "dev (best epoch)", "test", "train examples/s", "precision",
          "committed dev", "committed test"]


def score(row: Row | None, split: str) -> str:
    value = None if row is None else row.score(split)
    return "-" if value is None else f"{value:.1f}"


def compare_table(rows: list[Row], committed: dict[str, Row]) -> str:
    """Each row beside the committed row of the same run id (- where there is none)."""
    lines = []
    for row in sorted(rows, key=lambda r: (r.task, method_rank(r.method), r.run_id)):
        earlier = committed.get(row.run_id)
        lines.append([row.task, row.method, "" if row.prompt_length is None else row.prompt_length,
                      f"{row.params['trainable_percent']:.3g}", f"{score(row, 'dev')} ({row.primary_metric})",
                      score(row, "test"), f"{row.train_examples_per_second:.1f}",
                      row.hyperparameters.get("precision_used", "fp32"), score(earlier, "dev"), score(earlier, "test")])
    return markdown_table(HEADER, lines)


def select(rows: list[Row], patterns: str, where: Path) -> tuple[list[Row], list[Row]]:
    """(the runs compared, the runs left out) of the rows whose run id is one of the comma-separated `patterns` or
    starts with one: the seeds of one configuration, chosen as a table cell chooses it (the most seeds), so that a
    prefix that also matches runs of other settings (another trainer, preset or lr) never pools them as seeds."""
    wanted = [pattern.strip() for pattern in patterns.split(",") if pattern.strip()]
    found = [row for row in rows if any(row.run_id.startswith(pattern) for pattern in wanted)]
    if not found:
        raise ConfigError(f"no completed run under {where / 'runs'} matches {patterns!r}")
    if len({row.task for row in found}) != 1:
        raise ConfigError(f"{patterns!r} selects runs of several tasks {sorted({row.task for row in found})}; "
                          "name one task's runs")
    shown, hidden = shown_configuration(found)
    return sorted(shown, key=lambda row: row.run_id), sorted(hidden, key=lambda row: row.run_id)


def interval_text(cell: dict) -> str:
    ci = cell["ci95"]
    return "" if ci is None else f"[{ci[0]:.1f}, {ci[1]:.1f}]"


def stats_report(args) -> str:
    sides, left_out = [], []
    for patterns, where in ((args.runs, args.results), (args.against, args.against_results or args.results)):
        shown, hidden = select(completed_rows(where), patterns, where)
        sides.append((shown, where))
        left_out += [row.run_id for row in hidden]
    (method, method_dir), (reference, reference_dir) = sides
    if method[0].task != reference[0].task:
        raise ConfigError(f"the two sets are runs of different tasks: {method[0].task}, {reference[0].task}")
    metric = args.metric or method[0].primary_metric
    column = Column(metric, method[0].task, args.split, metric)
    folders = {row.run_id: run_path(method_dir, row.run_id) for row in method}
    folders |= {row.run_id: run_path(reference_dir, row.run_id) for row in reference}
    settings = Settings(args.bootstrap, args.bootstrap_seed, margin=args.margin)
    cells, comparison, why = compare_runs(method, reference, column, folders, settings, args.data_dir)
    lines = [[side, cell["method"], cell["n"], f"{cell['mean']:.1f}",
              "" if cell["std"] is None else f"{cell['std']:.1f}", interval_text(cell),
              "" if cell["baseline"] is None else f"{cell['baseline']:.1f}", ", ".join(cell["runs"])]
             for side, cell in zip(("runs", "against"), cells)]
    out = [f"{column.task} {column.split} {metric}: {settings.replicates} bootstrap replicates (seed {settings.seed})",
           "", markdown_table(["set", "method", "n", "mean", "std", "95% interval", "trivial baseline", "runs"], lines)]
    if left_out:
        out += ["", "Left out, runs of other settings than the configuration with the most seeds (as a table cell "
                "leaves them out): " + ", ".join(left_out)]
    if comparison is None:
        out += ["", "No paired comparison: the two sets were not scored on the same examples, or a run's predictions "
                "could not be read" + "".join(f"\n  {run}: {reason}" for run, reason in sorted(why.items()))]
    else:
        out += ["", markdown_table(["delta", "95% interval", "p", "verdict", f"within {args.margin:g}"], [[
            f"{comparison['delta']:+.2f}", f"[{comparison['ci95'][0]:+.2f}, {comparison['ci95'][1]:+.2f}]",
            f"{comparison['p']:.3g}", comparison["verdict"], comparison["within_margin"]]])]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptune compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="?", default=None,
                        help="folder with runs/*/row.json (with --runs: default results)")
    parser.add_argument("--committed", type=Path, default=Path("results"),
                        help="folder whose runs/ holds the committed rows (default: results)")
    parser.add_argument("--runs", help="run ids or prefixes (comma-separated): the set compared")
    parser.add_argument("--against", help="run ids or prefixes (comma-separated): the reference set")
    parser.add_argument("--against-results", type=Path, default=None, help="where the --against runs are "
                        "(default: the folder of --runs)")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--metric", default=None, help="default: the runs' primary metric")
    parser.add_argument("--bootstrap", type=int, default=Settings.replicates)
    parser.add_argument("--bootstrap-seed", type=int, default=Settings.seed)
    parser.add_argument("--margin", type=float, default=Settings.margin)
    parser.add_argument("--data-dir", type=Path, default=None, help="task data for gold labels (default: the "
                        "folder each row recorded)")
    args = parser.parse_args(argv)
    if args.runs or args.against:
        if not (args.runs and args.against):
            raise ConfigError("ptune compare: give both --runs and --against")
        args.results = args.results or Path("results")
        print(stats_report(args))
        return 0
    if args.results is None:
        raise ConfigError("ptune compare: name a results folder, or two sets of runs with --runs and --against")
    rows = completed_rows(args.results)
    if not rows:
        raise ConfigError(f"no completed rows under {args.results / 'runs'}: name a results folder that holds "
                          "runs/<run id>/row.json (e.g. outputs/results)")
    committed = {row.run_id: row for row in completed_rows(args.committed)}
    print(compare_table(rows, committed))
    matched = sum(row.run_id in committed for row in rows)
    print(f"\n{len(rows)} run(s) from {args.results / 'runs'}; {matched} with a committed row of the same "
          f"configuration in {args.committed / 'runs'} (- where there is none)")
    return 0
