"""PromptedModel: backbone + method (what trains, which prompts) + task head, for every method and backbone.

    model = build_model(cfg.model, cfg.method, task, cfg.task.max_length)  # backbone trains where the method says
    logits = model(batch)                              # batch: input_ids, attention_mask, ...
"""
from __future__ import annotations

import torch
from torch import nn

from ptune.model.backbones import load_backbone, load_tokenizer
from ptune.model.heads import HEADS
from ptune.model.injection import DeepPromptInjector
from ptune.model.methods import build_method
from ptune.model.methods.base import Method
from ptune.model.positions import check_positions, usable_positions

BACKBONE_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ROBERTA_POSITIONS = ("roberta", "xlm-roberta", "camembert")  # positions count from padding_idx + 1


class PromptedModel(nn.Module):
    def __init__(self, backbone: nn.Module, method: Method, head: nn.Module, position_offset: int = 0):
        super().__init__()
        self.backbone, self.method, self.head = backbone, method, head
        self.position_offset = position_offset  # method.shift_positions: tokens' positions start here
        for name, param in self.backbone.named_parameters():
            param.requires_grad_(method.trains_backbone_parameter(name))
        self.injector = DeepPromptInjector(backbone, method.prompt_layers) if method.prompt_layers else None
        self.checkpointing = False

    def forward(self, batch: dict) -> torch.Tensor:
        inputs = {k: batch[k].flatten(0, -2) for k in BACKBONE_INPUTS if k in batch}  # choices fold into batch
        batch_size = inputs["input_ids"].shape[0]
        if self.position_offset:
            inputs["position_ids"] = shifted_position_ids(self.backbone.config, inputs["input_ids"], self.position_offset)
        if self.injector is not None:
            self.injector.set(self.method.layer_prefixes(batch_size))
        try:
            prompts = self.method.input_prompts(batch_size)
            if prompts is None:
                sequence = self.backbone(**inputs).last_hidden_state
            else:
                sequence = self.backbone(**prepend_prompts(self.backbone, inputs, prompts)).last_hidden_state
                sequence = sequence[:, prompts.shape[1]:]  # heads see exactly the input positions
        finally:
            # A checkpointed backward re-runs the layers after this returns: keep the prefix until then.
            if self.injector is not None and not (self.training and self.checkpointing):
                self.injector.set(None)
        return self.head(sequence, batch)

    def enable_checkpointing(self) -> None:
        """Activation checkpointing, non-reentrant so that the prefix tensors get their gradients.

        transformers 5.x renamed gradient_checkpointing_* to activation_checkpointing_*; both are accepted.
        """
        kwargs = {"use_reentrant": False}
        if hasattr(self.backbone, "activation_checkpointing_enable"):
            self.backbone.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            self.backbone.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
        self.checkpointing = True

    def loss(self, logits: torch.Tensor, batch: dict) -> torch.Tensor:
        return self.head.loss(logits, batch)

    def trainable_state_dict(self, copy: bool = True) -> dict[str, torch.Tensor]:
        """Only the weights that train: what a checkpoint holds. copy=False: the live tensors, for a caller that
        writes them out at once (a saved state), so that fine-tuning holds no second copy of the model to save."""
        trainable = {name for name, p in self.named_parameters() if p.requires_grad}
        return {k: v.detach().clone() if copy else v.detach() for k, v in self.state_dict().items() if k in trainable}

    def parameter_counts(self) -> tuple[int, int]:
        """(trainable, total) parameter counts."""
        params = list(self.parameters())
        return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def prepend_prompts(backbone: nn.Module, inputs: dict, prompts: torch.Tensor) -> dict:
    embeds = backbone.get_input_embeddings()(inputs["input_ids"])
    batch_size, length = prompts.shape[:2]
    out = {"inputs_embeds": torch.cat([prompts.to(embeds.dtype), embeds], dim=1)}
    if "attention_mask" in inputs:
        mask = inputs["attention_mask"]
        out["attention_mask"] = torch.cat([mask.new_ones(batch_size, length), mask], dim=1)
    if "token_type_ids" in inputs:
        types = inputs["token_type_ids"]
        out["token_type_ids"] = torch.cat([types.new_zeros(batch_size, length), types], dim=1)
    return out


def shifted_position_ids(config, input_ids: torch.Tensor, offset: int) -> torch.Tensor:
    """The position ids the backbone gives `input_ids` when `offset` cached positions precede them (what the
    P-tuning v2 code's past_key_values of prompt length `offset` cause): BERT-style models count from `offset`;
    RoBERTa-style ones from padding_idx + 1 + offset over non-pad tokens, pads keeping padding_idx."""
    if config.model_type in ROBERTA_POSITIONS:
        not_pad = input_ids.ne(config.pad_token_id).long()
        return (torch.cumsum(not_pad, dim=1) + offset) * not_pad + config.pad_token_id
    positions = torch.arange(offset, offset + input_ids.shape[1], device=input_ids.device)
    return positions.unsqueeze(0).expand(input_ids.shape[0], -1)


def position_offset(method_cfg, method: Method, backbone: nn.Module) -> int:
    """method.shift_positions: deep prompts shift token positions by the prompt length, as past_key_values do.
    Shallow prompts need no flag (they occupy the first positions themselves); nor do relative-only backbones."""
    if not method_cfg.get("shift_positions") or not method.prompt_layers or usable_positions(backbone.config) is None:
        return 0
    return int(method.prompt_length)


def build_model(model_cfg, method_cfg, task, max_length: int, tokenizer=None) -> PromptedModel:
    backbone = load_backbone(model_cfg)
    check_positions(method_cfg, backbone.config, max_length, model_cfg.name)
    tokenizer = tokenizer or load_tokenizer(model_cfg, task.words_pretokenized)
    method = build_method(method_cfg, backbone, tokenizer)
    pooler = getattr(backbone, "pooler", None)
    head = HEADS.get(task.head)(backbone.config.hidden_size, task.num_labels, method_cfg.head_dropout, pooler)
    return PromptedModel(backbone, method, head, position_offset(method_cfg, method, backbone))
