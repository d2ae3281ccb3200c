"""Randomly initialised task heads on the encoder's sequence output (prompt positions already removed).

A task names its head (`Task.head`); each head turns [batch, length, hidden] into logits and knows its loss.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ptune.registry import Registry

HEADS: Registry[type["Head"]] = Registry("head")


class Head(nn.Module):
    def __init__(self, hidden: int, num_labels: int, dropout: float, pooler: nn.Module | None = None):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.num_labels = num_labels
        # The backbone's own [CLS] pooler (BERT, RoBERTa) when it has one, as in BERT's classifier;
        # it belongs to the backbone, so it trains only when the backbone does.
        self._pooler = [pooler]  # a list keeps it out of this module's parameters

    def pool(self, sequence: torch.Tensor) -> torch.Tensor:
        pooler = self._pooler[0]
        return pooler(sequence) if pooler is not None else sequence[:, 0]

    def forward(self, sequence: torch.Tensor, batch: dict) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, logits: torch.Tensor, batch: dict) -> torch.Tensor:
        raise NotImplementedError


@HEADS.register("classification")
class ClassificationHead(Head):
    """pooled [CLS] -> dropout -> linear: [batch, num_labels]."""

    def __init__(self, hidden, num_labels, dropout, pooler=None):
        super().__init__(hidden, num_labels, dropout, pooler)
        self.classifier = nn.Linear(hidden, num_labels)

    def forward(self, sequence, batch):
        return self.classifier(self.dropout(self.pool(sequence)))

    def loss(self, logits, batch):
        return F.cross_entropy(logits.float(), batch["labels"])


@HEADS.register("multiple_choice")
class MultipleChoiceHead(ClassificationHead):
    """One score per (example, choice); inputs arrive as [batch, choices, length]: [batch, choices]."""

    def __init__(self, hidden, num_labels, dropout, pooler=None):
        super().__init__(hidden, 1, dropout, pooler)

    def forward(self, sequence, batch):
        return super().forward(sequence, batch).view(batch["input_ids"].shape[:2])


@HEADS.register("token_classification")
class TokenClassificationHead(Head):
    """A label per token: [batch, length, num_labels]; labels of -100 are ignored."""

    def __init__(self, hidden, num_labels, dropout, pooler=None):
        super().__init__(hidden, num_labels, dropout, None)
        self.classifier = nn.Linear(hidden, num_labels)

    def forward(self, sequence, batch):
        return self.classifier(self.dropout(sequence))

    def loss(self, logits, batch):
        return F.cross_entropy(logits.float().flatten(0, 1), batch["labels"].flatten(), ignore_index=-100)


@HEADS.register("span")
class SpanHead(Head):
    """Start and end logits per token: [batch, length, 2]. Tokens with span_mask 0 can never be chosen."""

    def __init__(self, hidden, num_labels, dropout, pooler=None):
        super().__init__(hidden, 2, dropout, None)
        self.qa_outputs = nn.Linear(hidden, 2)

    def forward(self, sequence, batch):
        logits = self.qa_outputs(self.dropout(sequence)).float()
        if "span_mask" in batch:
            logits = logits.masked_fill(~batch["span_mask"].bool().unsqueeze(-1), torch.finfo(logits.dtype).min)
        return logits

    def loss(self, logits, batch):
        start, end = logits.unbind(-1)
        return (F.cross_entropy(start, batch["start_positions"]) + F.cross_entropy(end, batch["end_positions"])) / 2
