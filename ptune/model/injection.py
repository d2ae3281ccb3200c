"""The one prompt-injection mechanism for deep prompts: per-layer key/value prefixes in every self-attention.

Prefixes are handed to each self-attention module right before it runs, never through the model's own
cache argument, so the backbone sees an input of unchanged length: position ids do not shift (unless
`method.shift_positions` asks PromptedModel to shift them explicitly, as the P-tuning v2 code's cache does), the
model builds no Cache, and gradient checkpointing (which drops a model-level cache) re-runs the same
hook when it recomputes a layer. PromptedModel sets the prefix at the start of every forward and
clears it afterwards, so no prefix outlives its step; under activation checkpointing it is kept until
the next forward, because the backward recomputes layers after the forward has returned.

Two attention adapters cover the encoders:
- attention modules that take `past_key_values` and call `.update(key, value, layer_idx)` (BERT,
  RoBERTa and the other transformers 5.x encoders): a pre-hook passes a stateless `_PrefixKeyValues`
  as that argument and widens the attention mask by the prefix length;
- DeBERTa-v2/v3 disentangled attention, which has no cache path: its forward is replaced by one that
  scores the prefix keys by content only (prefixes have no position) beside the relative-position
  scores of the real tokens.
"""
from __future__ import annotations

import inspect
import math
import types

import torch
from torch import nn


class _PrefixKeyValues:
    """Stands in for a Cache: `update` returns [prefix; current] and stores nothing."""

    def __init__(self, key: torch.Tensor, value: torch.Tensor):
        self.key, self.value = key, value

    def update(self, key: torch.Tensor, value: torch.Tensor, *args, **kwargs):
        return (torch.cat([self.key.to(key.dtype), key], dim=-2),
                torch.cat([self.value.to(value.dtype), value], dim=-2))


def widen_attention_mask(mask: torch.Tensor | None, prefix_length: int) -> torch.Tensor | None:
    """Let every query attend to `prefix_length` extra key columns put in front."""
    if mask is None:
        return None
    if mask.dim() != 4:
        raise RuntimeError(
            f"deep prompts need a 4D attention mask, got shape {tuple(mask.shape)}; "
            "flash attention is not supported with prefixes (use attn_implementation sdpa or eager)")
    shape = (*mask.shape[:-1], prefix_length)
    attend = torch.ones(shape, dtype=torch.bool, device=mask.device) if mask.dtype == torch.bool \
        else torch.zeros(shape, dtype=mask.dtype, device=mask.device)  # additive float mask: 0 = attend
    return torch.cat([attend, mask], dim=-1)


class DeepPromptInjector:
    """Installs prefix adapters on a backbone's self-attention modules (one per encoder layer)."""

    def __init__(self, backbone: nn.Module, prompt_layers: list[int]):
        self.attentions = find_self_attentions(backbone)
        self.slot = {layer: slot for slot, layer in enumerate(prompt_layers)}
        self.prefix: torch.Tensor | None = None
        for layer, module in enumerate(self.attentions):
            if layer in self.slot:
                install_adapter(module, self, layer)

    def set(self, prefix: torch.Tensor | None) -> None:
        """prefix: [prompt layers, 2, batch, heads, prompt length, head dim] or None."""
        self.prefix = prefix

    def key_values(self, layer: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        if self.prefix is None or layer not in self.slot:
            return None
        key_value = self.prefix[self.slot[layer]]
        return key_value[0], key_value[1]


def find_self_attentions(backbone: nn.Module) -> list[nn.Module]:
    attentions = [m for m in backbone.modules() if type(m).__name__.endswith("SelfAttention")]
    layers = backbone.config.num_hidden_layers
    if len(attentions) != layers:
        raise RuntimeError(
            f"{type(backbone).__name__}: found {len(attentions)} self-attention modules for {layers} layers; "
            "deep prompts do not know this backbone's attention")
    return attentions


def install_adapter(module: nn.Module, injector: DeepPromptInjector, layer: int) -> None:
    if type(module).__name__ == "DisentangledSelfAttention":
        module.forward = types.MethodType(_disentangled_forward(module.forward, injector, layer), module)
    elif "past_key_values" in inspect.signature(module.forward).parameters:
        module.register_forward_pre_hook(_key_value_hook(injector, layer), with_kwargs=True)
    else:
        raise RuntimeError(f"{type(module).__name__} takes no key/value prefixes: deep prompts cannot use it")


def _key_value_hook(injector: DeepPromptInjector, layer: int):
    def hook(module, args, kwargs):
        key_values = injector.key_values(layer)
        if key_values is None:
            return None
        if kwargs.get("past_key_values") is not None:
            raise RuntimeError("deep prompts cannot be combined with a model cache (use_cache / past_key_values)")
        if len(args) > 1 or "attention_mask" not in kwargs and len(args) != 1:
            raise RuntimeError(f"{type(module).__name__}: expected attention_mask as a keyword argument")
        kwargs["past_key_values"] = _PrefixKeyValues(*key_values)
        kwargs["attention_mask"] = widen_attention_mask(kwargs.get("attention_mask"), key_values[0].shape[-2])
        return args, kwargs

    return hook


def _disentangled_forward(original_forward, injector: DeepPromptInjector, layer: int):
    """DeBERTa-v2 attention with content-only scores for the prefix keys (mirrors the module's own maths)."""

    def forward(self, hidden_states, attention_mask, output_attentions=False, query_states=None,
                relative_pos=None, rel_embeddings=None):
        key_values = injector.key_values(layer)
        if key_values is None:
            return original_forward(hidden_states, attention_mask, output_attentions, query_states,
                                    relative_pos, rel_embeddings)
        heads = self.num_attention_heads
        query = self.transpose_for_scores(self.query_proj(hidden_states if query_states is None else query_states), heads)
        key = self.transpose_for_scores(self.key_proj(hidden_states), heads)
        value = self.transpose_for_scores(self.value_proj(hidden_states), heads)
        prefix_key, prefix_value = (kv.to(query.dtype).flatten(0, 1) for kv in key_values)  # [batch*heads, P, d]

        scale_factor = 1 + ("c2p" in self.pos_att_type) + ("p2c" in self.pos_att_type)
        scale = math.sqrt(query.size(-1) * scale_factor)
        token_scores = torch.bmm(query, key.transpose(-1, -2)) / scale
        if self.relative_attention:
            token_scores = token_scores + self.disentangled_attention_bias(
                query, key, relative_pos, self.pos_dropout(rel_embeddings), scale_factor)
        prefix_scores = torch.bmm(query, prefix_key.transpose(-1, -2)) / scale
        scores = torch.cat([prefix_scores, token_scores], dim=-1)
        scores = scores.view(-1, heads, scores.size(-2), scores.size(-1))
        mask = widen_attention_mask(attention_mask.bool(), prefix_key.size(-2))
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        probs = self.dropout(torch.softmax(scores, dim=-1))
        context = torch.bmm(probs.flatten(0, 1), torch.cat([prefix_value, value], dim=-2))
        context = context.view(-1, heads, context.size(-2), context.size(-1)).permute(0, 2, 1, 3).contiguous()
        context = context.view(*context.shape[:-2], -1)
        return (context, probs if output_attentions else None)

    return forward
