"""`ptune eval`: score a saved run on a split and write its predictions, from the row and the checkpoint.

    ptune eval run=rte-minilm-ptv2-psl16-s1-0cd0621037                # its dev split again
    ptune eval run=results/runs/rte-minilm-ptv2-psl16-s1-0cd0621037 task.split=test data_dir=../shared/data
    ptune eval run=rte-minilm-ptv2 out=/tmp/preds                     # a unique prefix of a run id is enough
    ptune eval run=rte-minilm-ptv2-psl16-s1-0cd0621037 weights=last task.split=train   # a run with trainer.save_last=true

The model is rebuilt from the row's saved config (`config` in row.json) and loaded with the checkpoint
that run saved, <paths.output_dir>/checkpoints/<run id>.pt (the best dev epoch's; weights=last: <run id>.last.pt,
or checkpoint=PATH); a checkpoint that does not fit (other run, other backbone, missing or unexpected weights,
other shapes) is refused. Predictions and metrics.json go to <paths.output_dir>/eval/<run id>/<split>/
(weights=last: .../<run id>/last/<split>/; or out=DIR); the metrics are printed.
Data and batches follow the run's config (task.max_length, trainer.eval_batch_size, max_eval_examples); the data
is read from the run's own data folder (its row's `data.source`) unless data_dir= says otherwise.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import OmegaConf

from ptune.config.compose import compose
from ptune.errors import ConfigError
from ptune.model.backbones import load_tokenizer
from ptune.model.device import autocast_dtype, pick_device
from ptune.model.methods.schemas import METHOD_SCHEMAS
from ptune.model.prompted import build_model
from ptune.registry import unknown_name_message
from ptune.store import find
from ptune.store.row import Row
from ptune.tasks import build_task
from ptune.tasks.schemas import TASK_SCHEMAS
from ptune.train import checkpoint, preflight
from ptune.train.feature_cache import load_split
from ptune.train.inference import evaluate

log = logging.getLogger(__name__)
DEFAULT_SPLIT = "dev"
ARGUMENTS = {"run": "run folder or run id (required)", "task.split": f"split to score (default {DEFAULT_SPLIT})",
             "data_dir": "task data folder (default: the one the run recorded, when it is at hand)",
             "device": "auto | cpu | cuda[:N]",
             "paths.results_dir": "where the rows are", "paths.output_dir": "where the checkpoints are",
             "weights": "best | last: the best dev epoch's checkpoint (default) or the last epoch's",
             "checkpoint": "checkpoint file (default: the run's own)", "out": "folder for predictions and metrics"}


def parse(argv: list[str]) -> dict[str, str]:
    args = {}
    for arg in argv:
        key, sep, value = arg.partition("=")
        key = {"split": "task.split"}.get(key, key)
        if not sep or key not in ARGUMENTS:
            raise ConfigError(f"ptune eval: {unknown_name_message('argument', key, list(ARGUMENTS))}; "
                              f"write KEY=VALUE (ptune eval --help)")
        args[key] = value
    if "run" not in args:
        raise ConfigError("ptune eval needs run=<run folder or run id> (ptune eval --help)")
    return args


def typed(node: dict, schemas):
    """The saved group config merged into its implementation's schema (fills keys added since the run)."""
    schema = OmegaConf.structured(schemas.get(node["impl"]))
    return OmegaConf.merge(schema, node)


def run_config(row: Row, base):
    """The run's saved experiment config plus what is local to this machine (paths, data, device)."""
    saved = dict(row.config)
    cfg = OmegaConf.create({key: value for key, value in saved.items() if key not in ("method", "task")})
    cfg.method = typed(saved["method"], METHOD_SCHEMAS)
    cfg.task = typed(saved["task"], TASK_SCHEMAS)
    cfg.paths, cfg.data_dir, cfg.device = base.paths, base.data_dir, base.device
    return cfg


def recorded_data_dir(row: Row, default: str | None) -> str | None:
    """The data folder the run read, as its row records it (None: the hub); `default` where the record cannot be
    used here (a folder outside the project, recorded as <local>/NAME, or one that does not exist from here)."""
    source = row.data.get("source")
    if source == "hub":
        return None
    return source if source and not source.startswith("<") and Path(source).is_dir() else default


def usage() -> str:
    return __doc__.strip() + "\n\narguments:\n" + "\n".join(f"  {k:18s}{v}" for k, v in ARGUMENTS.items())


def main(argv: list[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(usage())
        return 0
    args = parse(argv)
    epoch = args.get("weights", "best")
    if epoch not in checkpoint.EPOCHS:
        raise ConfigError.bad_value("weights", epoch, f"one of {list(checkpoint.EPOCHS)}")

    overrides = [f"{key}={args[key]}" for key in ("data_dir", "device", "paths.results_dir", "paths.output_dir")
                 if key in args]
    base = compose(overrides)  # paths, data_dir and device defaults as `ptune run` has them
    row = find.read_row(find.run_folder(args["run"], Path(base.paths.results_dir)))
    if "data_dir" not in args:
        base.data_dir = recorded_data_dir(row, base.data_dir)
    cfg = run_config(row, base)
    split = args.get("task.split", DEFAULT_SPLIT)
    default_out = Path(cfg.paths.output_dir) / "eval" / row.run_id / ("last" if epoch == "last" else "") / split
    out = Path(args["out"]) if "out" in args else default_out
    path = Path(args["checkpoint"]) if "checkpoint" in args else checkpoint.checkpoint_path(cfg.paths.output_dir,
                                                                                             row.run_id, epoch)
    metrics = evaluate_run(cfg, row.run_id, split, out, path)
    print(json.dumps({"run_id": row.run_id, "split": split, "weights": str(path), "metrics": metrics,
                      "predictions": str(out)}))
    return 0


def load_run_model(cfg, run_id: str, split: str, checkpoint_file: Path | None = None):
    """The run's task, tokenizer and model with its checkpoint's weights (on the CPU), and `split`'s data."""
    path = checkpoint_file or checkpoint.checkpoint_path(cfg.paths.output_dir, run_id)
    saved = checkpoint.load(path, run_id, OmegaConf.to_container(cfg.model, resolve=True))
    for key, value in saved["method_changes"].items():  # a folded checkpoint needs the folded model
        cfg.method[key] = value
    task = build_task(cfg.task, cfg.data_dir)
    if split not in ("train", *task.eval_splits):
        raise ConfigError.bad_value("task.split", split, f"one of {['train', *task.eval_splits]} (task {task.name})")
    preflight.check_data(task, [split])  # a missing or unreadable file: one line, before the model loads
    tokenizer = load_tokenizer(cfg.model, task.words_pretokenized)
    model = build_model(cfg.model, cfg.method, task, cfg.task.max_length, tokenizer)
    checkpoint.load_into(model, saved, path)
    return task, tokenizer, model, load_split(task, tokenizer, cfg, split)


def evaluate_run(cfg, run_id: str, split: str, out: Path, checkpoint_file: Path | None = None) -> dict | None:
    """Rebuild the run's model, load its checkpoint, score `split`; predictions + metrics.json into `out`."""
    task, tokenizer, model, data = load_run_model(cfg, run_id, split, checkpoint_file)
    device = pick_device(cfg.device)
    model.to(device)
    metrics, predictions = evaluate(task, data, model, cfg, tokenizer.pad_token_id, device,
                                    autocast_dtype(cfg.trainer.precision, device))
    task.write_predictions(predictions, out, split)
    summary = {"run_id": run_id, "split": split, "metrics": metrics}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info(f"run {run_id}, {split}: {metrics}; predictions in {out}")
    return metrics
