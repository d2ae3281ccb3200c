"""The methods' typed configs (Hydra structured-config schemas), by `impl` name, free of torch: the config layer
registers and checks them before the runner imports torch, so that a config error answers at once.

A method whose yaml has keys of its own adds its dataclass here, registered under its impl; a method with only the
common keys registers MethodConfig. `uses_positions` (a class attribute, not a key): its prompts take input
positions (shallow prompts), which ptune/config/checks.py weighs against the backbone's position table.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Optional

from omegaconf import MISSING

from ptune.registry import Registry

METHOD_SCHEMAS: Registry[type] = Registry("method implementation")


@dataclass
class MethodConfig:
    """What every method has; a method's own schema adds its keys."""
    uses_positions: ClassVar[bool] = False
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


METHOD_SCHEMAS.register("finetune")(MethodConfig)
METHOD_SCHEMAS.register("bitfit")(MethodConfig)


@METHOD_SCHEMAS.register("deep_prompt")
@dataclass
class DeepPromptConfig(PromptMethodConfig):
    reparameterize: bool = MISSING   # the prefix-tuning MLP between a small embedding and the prefixes
    reparam_hidden: int = MISSING    # its hidden width
    prefix_dropout: float = MISSING
    layers: Any = MISSING            # null (all), a list of layer indices, or "top:K" / "bottom:K"
    init_std: Optional[float] = MISSING  # null: torch's default init; a number: N(0, init_std), BERT-style
    shift_positions: bool = MISSING  # token positions start at prompt_length (the P-tuning v2 code's side effect)


class PromptInit(str, Enum):
    random = "random"
    vocab = "vocab"
    text = "text"


class PromptEncoder(str, Enum):
    none = "none"
    lstm = "lstm"
    mlp = "mlp"


@METHOD_SCHEMAS.register("shallow_prompt")
@dataclass
class ShallowPromptConfig(PromptMethodConfig):
    uses_positions: ClassVar[bool] = True
    init: PromptInit = MISSING
    init_text: Optional[str] = MISSING   # used by init=text
    init_std: Optional[float] = MISSING  # init=random: null = scaled like the word embeddings; a number: N(0, std)
    encoder: PromptEncoder = MISSING
