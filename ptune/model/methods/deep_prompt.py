"""Deep prompts: trainable key/value prefixes at every (or a chosen subset of) encoder layer.

`method=ptv2` (P-tuning v2): prefixes trained directly, prefix dropout, optional reparameterization,
optional `layers` subset for the depth ablation. `method=prefix` (Li & Liang): the same with the
reparameterization MLP switched on. The backbone is frozen; the task head trains.
"""
from __future__ import annotations

import torch
from torch import nn

from ptune.errors import ConfigError
from ptune.model.backbones import count_layers_heads
from ptune.model.methods import METHODS
from ptune.model.methods.base import Method
from ptune.model.methods.prefix_encoder import PrefixEncoder


@METHODS.register("deep_prompt")
class DeepPrompt(Method):
    def __init__(self, cfg, backbone: nn.Module, tokenizer=None):
        super().__init__(cfg, backbone, tokenizer)
        self.prompt_length = cfg.prompt_length
        num_layers, self.heads, self.head_dim = count_layers_heads(backbone)
        self.prompt_layers = select_layers(cfg.layers, num_layers)
        self.encoder = PrefixEncoder(self.prompt_length, len(self.prompt_layers), self.heads * self.head_dim,
                                     cfg.reparameterize, cfg.reparam_hidden, cfg.init_std)
        self.dropout = nn.Dropout(cfg.prefix_dropout)

    def fold_for_inference(self) -> tuple[dict, dict] | None:
        """The reparameterization MLP computes a fixed table once trained: store that table instead."""
        if self.encoder.mlp is None:
            return None
        with torch.no_grad():
            table = self.encoder().detach().clone()
        return {"encoder.embedding.weight": table}, {"reparameterize": False}

    def layer_prefixes(self, batch_size: int) -> torch.Tensor:
        prefix = self.encoder().unsqueeze(0).expand(batch_size, -1, -1)  # [batch, P, layers * 2 * hidden]
        if self.training and self.dropout.p > 0:
            prefix = self.dropout(prefix)  # after expanding: one mask per example, as the P-tuning v2 code
        prefix = prefix.view(batch_size, self.prompt_length, len(self.prompt_layers), 2, self.heads, self.head_dim)
        return prefix.permute(2, 3, 0, 4, 1, 5)  # [layers, 2, batch, heads, P, d]


def select_layers(layers, num_layers: int) -> list[int]:
    """null = all; a list of indices; or "top:K" / "bottom:K" for the depth ablation."""
    if layers is None:
        return list(range(num_layers))
    if isinstance(layers, str):
        where, _, count = layers.partition(":")
        if where not in ("top", "bottom") or not count.isdigit() or not 0 < int(count) <= num_layers:
            raise ConfigError(f"method.layers={layers!r}: expected null, a list of layer indices, "
                             f"'top:K' or 'bottom:K' with 1 <= K <= {num_layers}")
        k = int(count)
        return list(range(num_layers - k, num_layers)) if where == "top" else list(range(k))
    chosen = sorted({int(i) for i in layers})
    if not chosen or chosen[0] < 0 or chosen[-1] >= num_layers:
        raise ConfigError(f"method.layers={list(layers)}: indices must lie in 0..{num_layers - 1}")
    return chosen
