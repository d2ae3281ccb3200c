"""The peers `make bench` measures ptune against: what a typical user writes with transformers and peft.

A peer builds a transformers sequence-classification model (`build(cfg) -> model`); `train_peer` then trains
it the way the transformers examples do (DataLoader with shuffled batches, DataCollatorWithPadding, AdamW,
linear schedule) on the same first-N examples ptune trains on, with the same tokenizer, max length, batch
size, learning rate (the method yaml's), epochs, gradient clipping and precision. The clock covers what
ptune's `train_seconds` covers: batching, forward, backward and optimizer step for every epoch.

PEERS maps a peer's name to its builder; PAIRS says which peer each ptune method is measured against.
`scripts/benchmark.py --peers-file FILE` runs FILE first, so that it may add entries to PEERS.
"""
from __future__ import annotations

import time

import torch

from ptune.model.device import peak_memory_mib, reset_peak_memory
from ptune.train.optim import seed_everything

PAIRS = {"finetune": "transformers", "ptv2": "peft-prefix", "prompt": "peft-prompt", "prefix": "peft-prefix-mlp"}
PEER_LABELS = {"transformers": "plain transformers loop", "peft-prefix": "peft prefix tuning (no projection)",
               "peft-prompt": "peft prompt tuning (random init)", "peft-prefix-mlp": "peft prefix tuning (projection)"}


def sequence_classifier(cfg, num_labels: int):
    """AutoModelForSequenceClassification on the backbone of `cfg.model` (random tiny ones as ptune builds them)."""
    from omegaconf import OmegaConf
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from ptune.model.backbones import resolve_pretrained

    if cfg.model.get("tiny"):
        tiny = OmegaConf.to_container(cfg.model.tiny)
        config = AutoConfig.for_model(tiny.pop("model_type"), num_labels=num_labels, **tiny)
        return AutoModelForSequenceClassification.from_config(config)
    return AutoModelForSequenceClassification.from_pretrained(resolve_pretrained(cfg.model.pretrained),
                                                              num_labels=num_labels)


def peft_model(cfg, num_labels: int, config):
    try:
        from peft import get_peft_model
    except ImportError as error:
        raise RuntimeError("peft is not installed: make bench installs it (pip install -e '.[bench]')") from error
    return get_peft_model(sequence_classifier(cfg, num_labels), config)


def transformers_finetune(cfg, num_labels):
    return sequence_classifier(cfg, num_labels)


def peft_prefix(cfg, num_labels, projection: bool = False):
    from peft import PrefixTuningConfig, TaskType

    extra = {"encoder_hidden_size": int(cfg.method.get("reparam_hidden") or 512)} if projection else {}
    return peft_model(cfg, num_labels, PrefixTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=cfg.prompt_length,
                                                          prefix_projection=projection, **extra))


def peft_prompt(cfg, num_labels):
    from peft import PromptTuningConfig, PromptTuningInit, TaskType

    return peft_model(cfg, num_labels, PromptTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=cfg.prompt_length,
                                                          prompt_tuning_init=PromptTuningInit.RANDOM))


PEERS = {"transformers": transformers_finetune, "peft-prefix": peft_prefix, "peft-prompt": peft_prompt,
         "peft-prefix-mlp": lambda cfg, num_labels: peft_prefix(cfg, num_labels, projection=True)}


def pair_features(cfg, tokenizer, split: str, limit: int | None) -> list[dict]:
    """The first `limit` examples of a split, read by ptune's task (same files, same labels), tokenized as a
    user would: tokenizer(first, second, truncation=True, max_length=...), no padding."""
    from ptune.tasks import build_task

    task = build_task(cfg.task, cfg.data_dir)
    if not hasattr(task, "text_pair"):
        raise ValueError(f"task {cfg.task.name!r}: the peers handle sentence-pair classification tasks only")
    examples = task.examples(split)[:limit]
    pairs = [task.text_pair(e) for e in examples]
    encoded = tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=cfg.task.max_length)
    return [{**{k: encoded[k][i] for k in encoded}, "labels": e["label"]} for i, e in enumerate(examples)]


def train_peer(name: str, cfg, device: torch.device, dtype: torch.dtype | None) -> dict:
    """Train peer `name` for cfg.trainer.epochs on the first cfg.trainer.max_train_examples; figures as ptune's row."""
    from torch.utils.data import DataLoader
    from transformers import DataCollatorWithPadding, get_linear_schedule_with_warmup

    from ptune.model.backbones import load_tokenizer

    if name not in PEERS:
        raise KeyError(f"unknown peer {name!r}; expected one of {sorted(PEERS)}")
    seed_everything(cfg.seed)
    reset_peak_memory(device)
    tokenizer = load_tokenizer(cfg.model)
    train = pair_features(cfg, tokenizer, "train", cfg.trainer.max_train_examples)
    dev = pair_features(cfg, tokenizer, "dev", cfg.trainer.max_eval_examples)
    model = PEERS[name](cfg, len(cfg.task.labels)).to(device)
    collator = DataCollatorWithPadding(tokenizer)
    loader = DataLoader(train, batch_size=cfg.trainer.batch_size, shuffle=True, collate_fn=collator,
                        generator=torch.Generator().manual_seed(cfg.seed))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.method.lr, weight_decay=cfg.trainer.weight_decay)
    schedule = get_linear_schedule_with_warmup(optimizer, 0, len(loader) * cfg.trainer.epochs)

    model.train()
    total_loss = torch.zeros((), device=device)
    synchronize(device)
    began = time.perf_counter()
    for _ in range(cfg.trainer.epochs):
        for batch in loader:
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                loss = model(**batch).loss
            loss.backward()
            if cfg.trainer.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(trainable, cfg.trainer.max_grad_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            total_loss += loss.detach()  # read once at the end: no host sync per step
    synchronize(device)
    seconds = time.perf_counter() - began

    accuracy = dev_accuracy(model, dev, collator, cfg.trainer.eval_batch_size, device, dtype)
    memory, memory_kind = peak_memory_mib(device)
    total = sum(p.numel() for p in model.parameters())
    count = sum(p.numel() for p in trainable)
    return {"train_seconds": seconds, "train_examples": len(train) * cfg.trainer.epochs,
            "steps": len(loader) * cfg.trainer.epochs, "peak_memory_mib": memory, "peak_memory_kind": memory_kind,
            "trainable_percent": 100.0 * count / total, "trainable": count,
            "train_loss": float(total_loss) / max(1, len(loader) * cfg.trainer.epochs), "dev_accuracy": accuracy}


@torch.no_grad()
def dev_accuracy(model, features, collator, batch_size, device, dtype) -> float | None:
    if not features or any(f["labels"] is None for f in features):
        return None
    model.eval()
    correct = 0
    for start in range(0, len(features), batch_size):
        batch = {k: v.to(device) for k, v in collator(features[start:start + batch_size]).items()}
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(**batch).logits
        correct += int((logits.argmax(-1) == batch["labels"]).sum())
    return correct / len(features)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
