"""What a method is: which weights train and which prompts it feeds the backbone.

A method is one module in ptune/methods/ registered under its `impl` name, plus one yaml in
conf/method/ naming that impl. The shared PromptedModel asks it, every forward, for shallow input
prompts and/or deep per-layer key/value prefixes; injecting them is the model's job, not the method's.
"""
from __future__ import annotations

import torch
from torch import nn

from ptune.registry import Registry

METHODS: Registry[type["Method"]] = Registry("method implementation")


class Method(nn.Module):
    trains_backbone = False

    def __init__(self, cfg, backbone: nn.Module, tokenizer=None):
        super().__init__()
        self.cfg = cfg
        self.prompt_layers: list[int] = []  # encoder layers that get deep prefixes

    def input_prompts(self, batch_size: int) -> torch.Tensor | None:
        """[batch, prompt length, hidden] vectors prepended to the input embeddings, or None."""
        return None

    def layer_prefixes(self, batch_size: int) -> torch.Tensor | None:
        """[prompt layers, 2 (key, value), batch, heads, prompt length, head dim], or None."""
        return None


def check_prompt_length(cfg) -> int:
    length = cfg.prompt_length
    if length is None or int(length) < 1:
        raise ValueError(f"method {cfg.name!r} needs prompt_length >= 1, got {length!r} (set prompt_length=N)")
    return int(length)
