"""What a method is: which weights train and which prompts it feeds the backbone.

A method is one module in ptune/model/methods/ registered under its `impl` name, plus one yaml in
conf/method/ naming that impl and its schema. The method declares what it uses instead of being
recognised by name: `config_class` (its typed config; a PromptMethodConfig means it uses prompt_length),
`trains_backbone_parameter` (which backbone weights train; its own parameters and the head always do).
The shared PromptedModel asks it, every forward, for shallow input prompts and/or deep per-layer
key/value prefixes; injecting them is the model's job, not the method's.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from omegaconf import MISSING
from torch import nn

from ptune.registry import Registry


@dataclass
class MethodConfig:
    """What every method has; a method's own schema (its class's config_class) adds its keys."""
    name: str = MISSING
    impl: str = MISSING
    lr: float = MISSING
    head_dropout: float = MISSING


@dataclass
class PromptMethodConfig(MethodConfig):
    """A method that uses prompt_length: the key's presence is how rows and run ids know (ptune/store/run_id.py)."""
    prompt_length: int = MISSING


def prompt_length_of(method_cfg) -> int | None:
    """The method's prompt length, or None for a method that uses none (its schema has no such key)."""
    return method_cfg.prompt_length if "prompt_length" in method_cfg else None


METHODS: Registry[type["Method"]] = Registry("method implementation")


class Method(nn.Module):
    config_class: type = MethodConfig
    uses_positions = False  # True: its prompts take input positions (shallow prompts; see ptune/config/checks.py)

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
