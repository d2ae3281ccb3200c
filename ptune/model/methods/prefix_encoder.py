"""PrefixEncoder: the key/value prefixes of every prompted layer, direct or reparameterized.

Direct (P-tuning v2 default): one embedding of size prompt_length x (2 x layers x hidden).
Reparameterized (Li & Liang prefix tuning): Embedding(prompt_length, hidden) -> Linear(hidden, 512)
-> Tanh -> Linear(512, 2 x layers x hidden); only the output is used at inference.
Init: `init_std` None keeps torch's defaults (the table N(0, 1), Linear uniform); a number initialises as BERT
initialises new weights (the P-tuning v2 code gets this from `from_pretrained`): the table and every Linear
weight N(0, init_std), Linear biases zero.
"""
from __future__ import annotations

import torch
from torch import nn


class PrefixEncoder(nn.Module):
    def __init__(self, prompt_length: int, num_layers: int, hidden: int,
                 reparameterize: bool = False, reparam_hidden: int = 512, init_std: float | None = None):
        super().__init__()
        out_size = 2 * num_layers * hidden
        self.register_buffer("positions", torch.arange(prompt_length), persistent=False)
        if reparameterize:
            self.embedding = nn.Embedding(prompt_length, hidden)
            self.mlp = nn.Sequential(nn.Linear(hidden, reparam_hidden), nn.Tanh(), nn.Linear(reparam_hidden, out_size))
        else:
            self.embedding = nn.Embedding(prompt_length, out_size)
            self.mlp = None
        if init_std is not None:
            bert_style_init(self, float(init_std))

    def forward(self) -> torch.Tensor:
        """[prompt length, 2 x layers x hidden]"""
        prefix = self.embedding(self.positions)
        return prefix if self.mlp is None else self.mlp(prefix)


def bert_style_init(module: nn.Module, std: float) -> None:
    """Embeddings and Linear weights N(0, std), Linear biases zero (BertPreTrainedModel._init_weights)."""
    for sub in module.modules():
        if isinstance(sub, (nn.Embedding, nn.Linear)):
            nn.init.normal_(sub.weight, mean=0.0, std=std)
        if isinstance(sub, nn.Linear) and sub.bias is not None:
            nn.init.zeros_(sub.bias)
