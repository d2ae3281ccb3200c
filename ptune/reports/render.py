"""`ptune table`: the comparison tables, their statistics (stats.json) and the figures, from the result rows.

    ptune table [--results DIR] [--out DIR] [--reference DIR] [--tables superglue,tagging,qa] [--no-figures]
                [--bootstrap 10000] [--bootstrap-seed 0] [--reference-method finetune] [--margin 1] [--data-dir DIR]
                [--no-stats]

The statistics (ptune/reports/stats.py) read each run's saved predictions and, where those hold no gold labels
(SuperGLUE, SQuAD), the task's data: --data-dir, else the folder the row recorded (../shared/data).
The committed tables (the checkout's results/) leave out rows of a random-weight backbone or of trainer=smoke.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ptune.errors import ConfigError
from ptune.reports.figures import write_delta_figures, write_figures
from ptune.reports.reference import default_reference_dir
from ptune.reports.stats import Settings, table_stats, write_stats
from ptune.reports.table_specs import load_table_specs
from ptune.reports.tables import write_tables
from ptune.reports.units import NO_GOLD
from ptune.store.find import completed_rows
from ptune.store.row import Row

COMMITTED = Path(__file__).resolve().parents[2] / "results"  # the checkout's committed results tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptune table", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path(os.environ.get("PTUNE_RESULTS_DIR", "results")),
                        help="folder with runs/*/row.json (default: $PTUNE_RESULTS_DIR or results)")
    parser.add_argument("--out", type=Path, default=None, help="where the .md files go (default: RESULTS/tables)")
    parser.add_argument("--reference", type=Path, default=None,
                        help="folder with published.csv and sources.yaml (default: RESULTS/reference, "
                             "else the checkout's results/reference)")
    parser.add_argument("--tables", default=None, help="comma-separated table names (default: all)")
    parser.add_argument("--no-figures", dest="figures", action="store_false", help="tables only")
    parser.add_argument("--figures-out", type=Path, default=None, help="where the .png files go (default: RESULTS/figures)")
    parser.add_argument("--no-stats", dest="stats", action="store_false", help="no intervals, comparisons, stats.json")
    parser.add_argument("--bootstrap", type=int, default=Settings.replicates, help="bootstrap replicates (10000)")
    parser.add_argument("--bootstrap-seed", type=int, default=Settings.seed, help="the draws' seed (0)")
    parser.add_argument("--reference-method", default=Settings.reference, help="what methods compare against")
    parser.add_argument("--margin", type=float, default=Settings.margin, help="points: 'within margin' (1)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="task data for gold labels (default: the folder each row recorded)")
    args = parser.parse_args(argv)
    reference_dir = args.reference or default_reference_dir(args.results)
    names = args.tables.split(",") if args.tables else None
    rows = completed_rows(args.results)
    if args.results.resolve() == COMMITTED:
        kept = [row for row in rows if not throwaway(row)]
        if len(kept) < len(rows):
            print(f"left out {len(rows) - len(kept)} row(s) of a random-weight backbone or trainer=smoke: their "
                  "numbers mean nothing, and never enter the committed tables", file=sys.stderr)
        rows = kept
    out = args.out or args.results / "tables"
    stats = None
    if args.stats:
        settings = Settings(args.bootstrap, args.bootstrap_seed, args.reference_method, args.margin)
        left_out: dict[str, str] = {}
        stats = table_stats(load_table_specs(), rows, args.results, settings, args.data_dir, left_out)
        no_gold = sorted(run for run, why in left_out.items() if why.startswith(NO_GOLD))
        if no_gold and args.results.resolve() == COMMITTED and out.resolve() == COMMITTED / "tables":
            raise ConfigError(f"the committed tables need the task data for gold labels, and {len(no_gold)} run(s) "
                              f"have none at hand (e.g. {no_gold[0]}: {left_out[no_gold[0]]}); run from the project "
                              "folder beside ../shared/data, or pass --data-dir DIR (or --out DIR to write elsewhere)")
        print(f"wrote {write_stats(stats, out / 'stats.json')}")
        for run_id, why in sorted(left_out.items()):
            print(f"statistics: {run_id} left out: {why}", file=sys.stderr)
    for path in write_tables(rows, out, reference_dir, names, stats):
        print(f"wrote {path}")
    if args.figures:
        figures_out = args.figures_out or args.results / "figures"
        figures = write_figures(rows, figures_out, args.results)
        figures += write_delta_figures(stats, figures_out) if stats else []
        for path in figures:
            print(f"wrote {path}")
        if not figures:
            print("no figures: matplotlib is not installed (pip install -e '.[figures]') or no rows make one")
    print(f"{len(rows)} completed row(s) from {args.results / 'runs'}; published numbers from {reference_dir}")
    return 0


def throwaway(row: Row) -> bool:
    """A row whose numbers mean nothing: its backbone has random weights (built from a config: model.tiny, no
    pretrained weights) or it ran the seconds-long trainer=smoke schedule."""
    model, trainer = row.config.get("model") or {}, row.config.get("trainer") or {}
    return bool(model.get("tiny")) and not model.get("pretrained") or trainer.get("name") == "smoke"
