"""What a method is: which weights train and which prompts it feeds the backbone.

A method is one module in ptune/model/methods/ registered under its `impl` name (with its schema in schemas.py when it
has keys of its own), plus one yaml in conf/method/ naming that impl and its schema. The method declares what it uses
instead of being recognised by name: its schema (ptune/model/methods/schemas.py; a PromptMethodConfig means it uses
prompt_length), `trains_backbone_parameter` (which backbone weights train; its own parameters and the head always do).
The shared PromptedModel asks it, every forward, for shallow input prompts and/or deep per-layer
key/value prefixes; injecting them is the model's job, not the method's.
"""
from __future__ import annotations

import torch
from torch import nn


class Method(nn.Module):
    def __init__(self, cfg, backbone: nn.Module, tokenizer=None):
        super().__init__()
        self.cfg = cfg
        self.prompt_layers: list[int] = []  # encoder layers that get deep prefixes

    def trains_backbone_parameter(self, name: str) -> bool:
        """Whether the backbone parameter `name` trains (finetune: all; BitFit: the biases; default: none)."""
        return False

    def fold_for_inference(self) -> tuple[dict, dict] | None:
        """Optionally an equivalent, smaller inference form: (this method's state dict, the method config
        keys to change so that the model built from the config takes it), or None (the default)."""
        return None

    def input_prompts(self, batch_size: int) -> torch.Tensor | None:
        """[batch, prompt length, hidden] vectors prepended to the input embeddings, or None."""
        return None

    def layer_prefixes(self, batch_size: int) -> torch.Tensor | None:
        """[prompt layers, 2 (key, value), batch, heads, prompt length, head dim], or None."""
        return None
