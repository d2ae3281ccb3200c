"""Which features go into which batch: shuffled or length-grouped for training, length-sorted for inference.

Batches are padded to their longest member, so batching similar lengths together removes most padding:
on RTE (max length 128) a random batch of 32 is padded to ~128 tokens, a length-grouped one to about its
members' own length. Every order comes from the run's own generator, so it is the same for a seed.
"""
from __future__ import annotations

import torch

CHUNK_BATCHES = 50  # a mega-batch of this many batches is sorted by length; randomness comes from the rest


def feature_length(feature: dict) -> int:
    """Tokens a feature pads to: its own length, or its longest choice for multiple-choice features."""
    ids = feature["input_ids"]
    return max(len(choice) for choice in ids) if ids and isinstance(ids[0], list) else len(ids)


def shuffled_batches(size: int, batch_size: int, generator: torch.Generator) -> list[list[int]]:
    order = torch.randperm(size, generator=generator).tolist()
    return [order[start:start + batch_size] for start in range(0, size, batch_size)]


def length_grouped_batches(lengths: list[int], batch_size: int, generator: torch.Generator,
                           chunk_batches: int = CHUNK_BATCHES) -> list[list[int]]:
    """Shuffle, cut into mega-batches of `chunk_batches` batches, sort each by length, batch, shuffle the batches.

    Every index appears exactly once; the order depends only on `lengths`, the sizes and the generator.
    """
    order = torch.randperm(len(lengths), generator=generator).tolist()
    chunk = batch_size * chunk_batches
    batches = []
    for start in range(0, len(order), chunk):
        members = sorted(order[start:start + chunk], key=lambda i: lengths[i], reverse=True)  # stable sort
        batches += [members[i:i + batch_size] for i in range(0, len(members), batch_size)]
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


def epoch_batches(features: list[dict], batch_size: int, generator: torch.Generator,
                  group_by_length: bool) -> list[list[int]]:
    """This epoch's batches of feature indices, drawn from the run's own generator and nothing else."""
    if not group_by_length:
        return shuffled_batches(len(features), batch_size, generator)
    return length_grouped_batches([feature_length(f) for f in features], batch_size, generator)


def inference_batches(features: list[dict], batch_size: int) -> list[list[int]]:
    """Longest first, so that each batch pads to little more than its own members; callers restore the order."""
    order = sorted(range(len(features)), key=lambda i: feature_length(features[i]), reverse=True)
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


# Feature keys that become tensors; any other key is metadata the task keeps for post-processing.
TENSOR_KEYS = ("input_ids", "attention_mask", "token_type_ids", "labels",
               "start_positions", "end_positions", "span_mask")


PAD_VALUES = {"labels": -100}


def collate(features: list[dict], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Pad sequences (and lists of choice sequences) to the longest in the batch; stack the rest."""
    batch = {}
    for key in TENSOR_KEYS:
        if key not in features[0]:
            continue
        values = [f[key] for f in features]
        pad = pad_token_id if key == "input_ids" else PAD_VALUES.get(key, 0)
        batch[key] = torch.tensor(_pad(values, pad))
    return batch


def _pad(values: list, pad):
    if not isinstance(values[0], list):
        return values
    if isinstance(values[0][0], list):  # [example][choice][token]
        width = max(len(seq) for choices in values for seq in choices)
        return [[seq + [pad] * (width - len(seq)) for seq in choices] for choices in values]
    width = max(len(seq) for seq in values)
    return [seq + [pad] * (width - len(seq)) for seq in values]
