"""How much a saved run's [CLS] representation varies across the examples of a split.

    python scripts/cls_spread.py RUN [RUN ...] [--split dev] [--examples 128] [--data-dir ../shared/data]
                                 [--results-dir results/search] [--output-dir outputs] [--weights best|last]
    (offline, as here: HF_HUB_OFFLINE=1 python scripts/cls_spread.py ...)

A classification head reads the last layer's [CLS] vector (through the pooler). When deep prefixes take over the
attention, that vector stops depending on the input, and every example gets the same prediction: the dev score
sits at the majority class and the train loss at the label entropy. Per run this prints the standard deviation of
the [CLS] vector across the first N examples (mean over its dimensions), its mean absolute value, and the spread
of the logits; a working run has a spread of the same order as the vector itself. RUN is a run folder, id or
unique id prefix, as for `ptune eval`; the checkpoint is the one `ptune eval` would load.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def spread(folder: Path, args) -> dict:
    import torch

    from ptune import checkpoint
    from ptune.config import compose
    from ptune.data import collate
    from ptune.evaluate import load_run_model, run_config

    row = json.loads((folder / "row.json").read_text())
    cfg = run_config(row, compose([f"data_dir={args.data_dir}", f"paths.output_dir={args.output_dir}"]))
    path = checkpoint.checkpoint_path(cfg.paths.output_dir, row["run_id"], args.weights)
    _, tokenizer, model, (_, features) = load_run_model(cfg, row["run_id"], args.split, path)
    model.eval()
    batch = collate(features[:args.examples], tokenizer.pad_token_id)
    seen = []
    pool = model.head.pool
    model.head.pool = lambda sequence: seen.append(sequence[:, 0]) or pool(sequence)
    with torch.no_grad():
        logits = model(batch).float()
    cls = seen[0].float()
    return {"run_id": row["run_id"], "method": cfg.method.name, "lr": cfg.method.lr, "examples": len(cls),
            "cls_std_across_examples": round(cls.std(0).mean().item(), 4),
            "cls_mean_abs": round(cls.abs().mean().item(), 4),
            "logit_std_across_examples": round(logits.std(0).mean().item(), 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--examples", type=int, default=128)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--results-dir", default="results/search")
    parser.add_argument("--output-dir", default="outputs")
    parser.add_argument("--weights", choices=["best", "last"], default="best")
    args = parser.parse_args()
    from ptune.evaluate import find_run

    for run in args.runs:
        print(json.dumps(spread(find_run(run, Path(args.results_dir)), args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
