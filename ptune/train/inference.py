"""Inference: model outputs for every feature of a split, and a split scored by its task."""
from __future__ import annotations

import torch

from ptune.model.prompted import PromptedModel
from ptune.train import distributed
from ptune.train.batching import collate, inference_batches
from ptune.train.optim import move


@torch.inference_mode()
def infer(model: PromptedModel, features: list[dict], cfg, pad_id: int, device, dtype) -> list[torch.Tensor]:
    """One output tensor per feature (in the features' order), trimmed to its own length for token-level heads."""
    model.eval()
    outputs: list = [None] * len(features)
    for indices in inference_batches(features, cfg.trainer.eval_batch_size):
        chunk = [features[i] for i in indices]
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(move(collate(chunk, pad_id), device)).float().cpu()
        for i, row in zip(indices, logits):
            outputs[i] = row[:len(features[i]["input_ids"])] if row.dim() >= 2 else row
    return outputs


def evaluate(task, split_data, model, cfg, pad_id, device, dtype, ranks=distributed.Ranks()):
    examples, features = split_data
    mine = ranks.split(len(features))  # every feature alone; every N-th under torchrun, gathered on all ranks
    outputs = ranks.gather(mine, infer(model, [features[i] for i in mine], cfg, pad_id, device, dtype), len(features))
    predictions = task.predict(examples, features, outputs)
    return task.score(examples, predictions), predictions
