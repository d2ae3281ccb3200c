"""Data parallel for one run: torchrun starts N processes (ranks), each trains on a slice of every batch.

    torchrun --standalone --nproc_per_node 4 -m ptune.cli run method=ptv2 task=rte model=roberta-large
    torchrun --standalone --nproc_per_node 2 -m ptune.cli run ... device=cpu     # gloo on CPU cores

Every rank draws the same global batches from the run's own generator (so the global batch and the data
order are those of the one-process run) and takes every N-th member of each. Its loss is weighted by its
share of the batch's loss terms (examples, or labelled tokens for token-level heads) times N, so that the
gradient DistributedDataParallel averages is the gradient of the whole batch's loss, the one a single
process computes. Evaluation splits each split's features across the ranks and gathers the outputs on
every rank, so that all ranks score alike and agree on the best epoch; only rank 0 writes the row,
predictions, checkpoint and resume state. gloo on CPU, nccl on CUDA (rank r on cuda:<local rank>).
Dropout masks come from each rank's own RNG, so with dropout the numbers match a one-process run in
distribution, not bit for bit.
"""
from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


def loss_terms(feature: dict) -> int:
    """How many terms a feature adds to its batch's mean loss: labelled tokens for token labels, else 1."""
    labels = feature.get("labels")
    return sum(label != -100 for label in labels) if isinstance(labels, list) else 1


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: rank 0 of 1 outside torchrun."""
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """The rank that writes the row, predictions, checkpoint and state."""
        return self.rank == 0

    def shard(self, batch: list[int], features: list[dict]) -> tuple[list[int], float]:
        """This rank's members of a global batch and its share of the batch's loss terms (all and 1.0 alone)."""
        if self.world == 1:
            return batch, 1.0
        mine = batch[self.rank::self.world]
        if not mine:  # a last batch smaller than the world: every rank must still run backward (DDP)
            return batch[:1], 0.0
        total = sum(loss_terms(features[i]) for i in batch)
        return mine, sum(loss_terms(features[i]) for i in mine) / max(1, total)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module to train through: DistributedDataParallel across ranks, the model itself alone."""
        if self.world == 1:
            return model
        device = next(model.parameters()).device
        # static_graph: the same weights take part in every step, and those that never do (a fine-tuned
        # pooler under a tagging head) are found once, not searched for at every step.
        return torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, static_graph=True)

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """`value` summed over the ranks (the value itself alone)."""
        if self.world > 1:
            value = value.clone()
            dist.all_reduce(value)
        return value

    def split(self, size: int) -> list[int]:
        """This rank's part of `size` evaluation features: every N-th, so that lengths balance."""
        return list(range(self.rank, size, self.world))

    def gather(self, mine: list[int], outputs: list, size: int) -> list:
        """Every rank's outputs (for the features at `mine`) in feature order, on every rank."""
        if self.world == 1:
            return outputs
        parts = [None] * self.world
        dist.all_gather_object(parts, (mine, outputs))
        merged = [None] * size
        for indices, values in parts:
            for i, value in zip(indices, values):
                merged[i] = value
        return merged


def setup(device: torch.device) -> tuple[Ranks, torch.device]:
    """Join torchrun's process group when this process is one of its ranks; its rank and device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Ranks(), device
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        atexit.register(dist.destroy_process_group)
    return Ranks(dist.get_rank(), world, local_rank), device
