"""An independent check of results/tables/stats.json: one comparison recomputed from the runs' prediction files with
plain code of its own (it imports nothing of ptune's statistics), against the number stats.json holds.

    python scripts/check_stats.py                              # RTE, ptv2 against finetune, the final MiniLM grid
    python scripts/check_stats.py --task rte --method prompt --data-dir ../shared/data

Reads stats.json's comparison (its runs), each run's predictions/dev/RTE.jsonl ({"idx", "label"} per line) and the
gold labels of <data-dir>/super_glue/RTE/val.jsonl; draws its own two-level bootstrap (per replicate: each side's
seeds with replacement, one draw of the dev examples shared by both sides) and prints both results. Exit 1 when the
deltas differ or an interval end differs by more than --tolerance points (bootstrap noise: two independent draws of
10,000 replicates put an end of a 12-point-wide interval within a few tenths of a point).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FILES = {"rte": "RTE", "copa": "COPA", "wic": "WiC"}  # tasks whose dev predictions cover the whole val.jsonl


def right(run_folder: Path, local: str, gold: dict) -> np.ndarray:
    """1 where the run's dev prediction is right, per example in gold's order (labels compared as lower-case text:
    the files spell booleans as true / "False")."""
    predicted = {}
    for line in (run_folder / "predictions" / "dev" / f"{local}.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            predicted[record["idx"]] = record["label"]
    return np.array([str(predicted[idx]).lower() == str(label).lower() for idx, label in gold.items()], dtype=float)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--task", default="rte", choices=sorted(FILES))
    parser.add_argument("--method", default="ptv2")
    parser.add_argument("--label", default="ptune (trainer=default, preset=minilm)")
    parser.add_argument("--replicates", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--tolerance", type=float, default=0.75)
    args = parser.parse_args(argv)
    local = FILES[args.task]
    stats = json.loads((args.results / "tables" / "stats.json").read_text())
    found = [c for c in stats["comparisons"] if (c["task"], c["split"], c["method"], c["label"]) ==
             (args.task, "dev", args.method, args.label)]
    if len(found) != 1:
        print(f"stats.json has {len(found)} comparisons of {args.task} {args.method} in {args.label!r}")
        return 1
    comparison = found[0]
    gold = {}
    for line in (args.data_dir / "super_glue" / local / "val.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            gold[record["idx"]] = record["label"]
    sides = [np.stack([right(args.results / "runs" / run, local, gold) for run in comparison["runs"][side]])
             for side in ("method", "reference")]
    delta = 100 * (sides[0].mean() - sides[1].mean())
    rng = np.random.default_rng(args.seed)
    size = len(gold)
    deltas = np.empty(args.replicates)
    for b in range(args.replicates):
        examples = rng.integers(0, size, size)  # shared by both sides: the comparison is paired
        means = [side[rng.integers(0, len(side), len(side))][:, examples].mean() for side in sides]
        deltas[b] = 100 * (means[0] - means[1])
    low, high = np.percentile(deltas, [2.5, 97.5])
    print(f"{args.task} {args.method} - {comparison['reference']} ({args.label}), runs {comparison['runs']}")
    print(f"  this script: delta {delta:+.2f}, 95% interval [{low:+.2f}, {high:+.2f}] ({args.replicates} replicates)")
    print(f"  stats.json:  delta {comparison['delta']:+.2f}, 95% interval "
          f"[{comparison['ci95'][0]:+.2f}, {comparison['ci95'][1]:+.2f}]")
    agree = (abs(delta - comparison["delta"]) < 1e-3 and abs(low - comparison["ci95"][0]) <= args.tolerance
             and abs(high - comparison["ci95"][1]) <= args.tolerance)
    print("agree" if agree else f"DISAGREE (tolerance {args.tolerance} points)")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
