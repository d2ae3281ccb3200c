"""Self-describing checkpoints of a run's trainable weights, found from the run id alone.

    <paths.output_dir>/checkpoints/<run id>.pt        the best dev epoch's (outputs/ is never committed; the row is)
    <paths.output_dir>/checkpoints/<run id>.last.pt   the last epoch's, with trainer.save_last=true

A checkpoint holds the run id, the experiment config it was trained with, the backbone it needs and the
weights that trained (the frozen backbone comes from model.pretrained). `ptune eval` rebuilds the model
from the row's config and refuses a checkpoint that does not fit it. With trainer.fold_prefix=true a
method may save a smaller equivalent form (the prefix method: the table its MLP computes).
"""
from __future__ import annotations

from pathlib import Path

import torch

from ptune.errors import CheckpointError

FORMAT = "ptune-checkpoint/1"
EPOCHS = {"best": "", "last": ".last"}  # which epoch's weights -> the file name's suffix


def checkpoint_path(output_dir, run_id: str, epoch: str = "best") -> Path:
    return Path(output_dir) / "checkpoints" / f"{run_id}{EPOCHS[epoch]}.pt"


def save_run(cfg, run_id: str, config: dict, weights: dict, model, epoch: str = "best") -> Path:
    """The checkpoint of run `run_id` (experiment config `config`) of its `epoch` ("best" dev epoch or "last"),
    where `ptune eval` finds it from the run id."""
    return save(checkpoint_path(cfg.paths.output_dir, run_id, epoch), run_id, config, weights, model,
                cfg.trainer.fold_prefix)


def save(path: Path, run_id: str, config: dict, weights: dict, model, fold: bool) -> Path:
    """`weights`: a trainable state of the model; `model` is loaded with them when folding."""
    method_changes = {}
    if fold:
        model.load_state_dict(weights, strict=False)
        folded = model.method.fold_for_inference()
        if folded is not None:
            method_state, method_changes = folded
            weights = {k: v for k, v in weights.items() if not k.startswith("method.")}
            weights |= {f"method.{k}": v.detach().cpu() for k, v in method_state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"format": FORMAT, "run_id": run_id, "model": config["model"], "method_changes": method_changes,
                "config": config, "weights": {k: v.cpu() for k, v in weights.items()}}, tmp)
    tmp.replace(path)
    return path


def load(path: Path, run_id: str, model_cfg: dict) -> dict:
    """The checkpoint at `path`, refused unless it is ptune's, of run `run_id` and of the same backbone."""
    if not path.is_file():
        setting = "save_last" if path.name.endswith(f"{EPOCHS['last']}.pt") else "save_checkpoint"
        raise CheckpointError(f"no checkpoint for run {run_id} at {path}; it is written when the run trains with "
                              f"trainer.{setting}=true (set paths.output_dir to where that run wrote it, or "
                              f"pass checkpoint=/path/to/{path.name})")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file means the same to the user
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} checkpoint (a bare state dict from before ptune eval?); "
                              f"train the run again to get one")
    if saved["run_id"] != run_id:
        raise CheckpointError(f"{path} belongs to run {saved['run_id']}, not {run_id}")
    if saved["model"] != model_cfg:
        raise CheckpointError(f"{path} was trained on backbone {saved['model']}, but the run's config builds "
                              f"{model_cfg}")
    return saved


def load_into(model, saved: dict, path: Path) -> None:
    """Load the checkpoint's weights: exactly the model's trainable ones, each of the model's shape."""
    expected = {name: p.shape for name, p in model.named_parameters() if p.requires_grad}
    weights = saved["weights"]
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    wrong = sorted(k for k in set(expected) & set(weights) if tuple(weights[k].shape) != tuple(expected[k]))
    if missing or unexpected or wrong:
        details = [f"missing {missing[:5]}" if missing else "", f"unexpected {unexpected[:5]}" if unexpected else "",
                   "other shapes: " + ", ".join(f"{k} {tuple(weights[k].shape)} vs {tuple(expected[k])}"
                                                for k in wrong[:5]) if wrong else ""]
        raise CheckpointError(f"{path} does not match the model the run's config builds with this code: "
                              + "; ".join(d for d in details if d)
                              + ". Was it written by another version of ptune or another method/backbone?")
    model.load_state_dict(weights, strict=False)
