"""Shallow prompts (Lester et al. prompt tuning; P-tuning v1): trainable vectors before the input embeddings.

Only the input layer is prompted; the backbone is frozen; the task head trains.
- `init`: random (normal, scaled like the word embeddings; N(0, init_std) when `init_std` is set, as BERT
  initialises new weights and the P-tuning v2 code's prompt table), vocab (rows sampled from the vocabulary),
  or text (the embeddings of `init_text`, repeated to the prompt length).
- `encoder`: none (the vectors train directly), lstm or mlp (the P-tuning v1 prompt encoder).
"""
from __future__ import annotations

import torch
from torch import nn

from ptune.errors import ConfigError
from ptune.model.methods import METHODS
from ptune.model.methods.base import Method


@METHODS.register("shallow_prompt")
class ShallowPrompt(Method):
    def __init__(self, cfg, backbone: nn.Module, tokenizer=None):
        super().__init__(cfg, backbone, tokenizer)
        self.prompt_length = cfg.prompt_length
        word_embeddings = backbone.get_input_embeddings().weight.detach()
        self.prompts = nn.Parameter(initial_prompts(cfg, word_embeddings, self.prompt_length, tokenizer))
        self.encoder = prompt_encoder(cfg.encoder, word_embeddings.shape[1])

    def input_prompts(self, batch_size: int) -> torch.Tensor:
        prompts = self.prompts if self.encoder is None else self.encoder(self.prompts.unsqueeze(0)).squeeze(0)
        return prompts.unsqueeze(0).expand(batch_size, -1, -1)


def initial_prompts(cfg, word_embeddings: torch.Tensor, length: int, tokenizer) -> torch.Tensor:
    init = cfg.init
    if init == "random":
        std = word_embeddings.std() if cfg.init_std is None else cfg.init_std
        return torch.randn(length, word_embeddings.shape[1]) * std
    if init == "vocab":
        return word_embeddings[torch.randint(0, word_embeddings.shape[0], (length,))].clone()
    if init == "text":
        if tokenizer is None or not cfg.init_text:
            raise ConfigError("method.init=text needs method.init_text='some words' (and a tokenizer)")
        ids = tokenizer(cfg.init_text, add_special_tokens=False)["input_ids"]
        ids = (ids * (length // len(ids) + 1))[:length]
        return word_embeddings[torch.tensor(ids)].clone()
    raise ConfigError.bad_value("method.init", init, "random, vocab or text")


class _LSTMEncoder(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(hidden, hidden // 2, num_layers=2, bidirectional=True, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

    def forward(self, prompts: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.lstm(prompts)[0])


def prompt_encoder(kind: str, hidden: int) -> nn.Module | None:
    if kind in (None, "none"):
        return None
    if kind == "lstm":
        return _LSTMEncoder(hidden)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
    raise ConfigError.bad_value("method.encoder", kind, "none, lstm or mlp")
