"""Print the rows of a set of runs beside the committed rows of the same configurations.

    ptune compare outputs/demo/results              # every row there, beside results/runs/<same run id>
    ptune compare DIR --committed OTHER_RESULTS_DIR

A run id is a hash of the experiment's config, so the committed row with the same id is the same
command run earlier (on the machine and commit its provenance names).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ptune.errors import ConfigError
from ptune.reports.labels import method_rank
from ptune.reports.markdown import markdown_table
from ptune.store.find import completed_rows
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptune compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="folder with runs/*/row.json")
    parser.add_argument("--committed", type=Path, default=Path("results"),
                        help="folder whose runs/ holds the committed rows (default: results)")
    args = parser.parse_args(argv)
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
