"""How many positions a backbone has, and whether a method's prompt fits them (build_model and the config
checks both ask)."""
from __future__ import annotations

from ptune.errors import ConfigError
from ptune.model.methods.schemas import METHOD_SCHEMAS, prompt_length_of


def usable_positions(backbone_config) -> int | None:
    """How many input positions the backbone's absolute position embeddings allow (None: no limit)."""
    if not getattr(backbone_config, "position_biased_input", True):
        return None  # DeBERTa-v3: relative positions only
    roberta_like = backbone_config.model_type in ("roberta", "xlm-roberta", "camembert")
    offset = backbone_config.pad_token_id + 1 if roberta_like else 0
    return backbone_config.max_position_embeddings - offset


def check_positions(method_cfg, backbone_config, max_length: int, model_name: str) -> None:
    """Shallow prompts take input positions: max_length + prompt_length must fit the position table.
    Deep prefixes take none; they may not outnumber the positions the backbone was trained with."""

    psl = prompt_length_of(method_cfg)
    if psl is None:
        return
    limit = usable_positions(backbone_config)
    if not METHOD_SCHEMAS.get(method_cfg.impl).uses_positions:
        ceiling = backbone_config.max_position_embeddings
        if psl > ceiling:
            raise ConfigError(
                f"prompt_length={psl}: more prefix keys per layer than the {ceiling} positions model {model_name!r} "
                f"was trained to attend over (method {method_cfg.name}); the longest published P-tuning v2 prompt "
                f"is 224. Lower prompt_length")
        if method_cfg.get("shift_positions") and limit is not None and max_length + psl > limit:
            raise ConfigError(
                f"method.shift_positions: task.max_length {max_length} + prompt_length {psl} = {max_length + psl} "
                f"exceeds the {limit} positions of model {model_name!r}; lower task.max_length or prompt_length, "
                "or set method.shift_positions=false")
        return
    if limit is not None and max_length + psl > limit:
        raise ConfigError(
            f"prompt_length={psl}: task.max_length {max_length} + prompt_length {psl} = {max_length + psl} exceeds "
            f"the {limit} positions of model {model_name!r} (method {method_cfg.name} puts its prompt before the "
            f"input); lower prompt_length or task.max_length")
