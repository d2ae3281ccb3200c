"""How much a saved run's [CLS] representation varies across the examples of a split.

    python scripts/cls_spread.py RUN [RUN ...] [--split dev] [--examples 128] [--data-dir ../shared/data]
                                 [--results-dir results/search] [--output-dir outputs] [--weights best|last]
    (offline, as here: HF_HUB_OFFLINE=1 python scripts/cls_spread.py ...)

A classification head reads the last layer's [CLS] vector (through the pooler). When deep prefixes take over the
attention, that vector stops depending on the input, and every example gets the same prediction: the dev score
sits at the majority class and the train loss at the label entropy. Per run this prints the standard deviation of
the [CLS] vector across the first N examples (mean over its dimensions), its mean absolute value, and the spread
of the logits; a working run has a spread of the same order as the vector itself. For deep prompts (ptv2,
prefix) it also prints the root mean square of the prefix keys and values the method feeds every layer, beside
those the frozen backbone computes for the examples' own tokens (BERT-style `attention.self.key` / `value`
layers), and per prompted layer the share of the [CLS] query's attention that goes to the prefix (both null on a
backbone whose layers are named otherwise). RUN is a run folder, id or unique id prefix, as for `ptune eval`; the
checkpoint is the one `ptune eval` would load.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def spread(folder: Path, args) -> dict:
    import torch

    from ptune.config.compose import compose
    from ptune.store import find
    from ptune.train import checkpoint
    from ptune.train.batching import collate
    from ptune.train.rescore import load_run_model, run_config

    row = find.read_row(folder)
    cfg = run_config(row, compose([f"data_dir={args.data_dir}", f"paths.output_dir={args.output_dir}"]))
    path = checkpoint.checkpoint_path(cfg.paths.output_dir, row.run_id, args.weights)
    _, tokenizer, model, (_, features) = load_run_model(cfg, row.run_id, args.split, path)
    model.eval()
    batch = collate(features[:args.examples], tokenizer.pad_token_id)
    seen = []
    pool = model.head.pool
    model.head.pool = lambda sequence: seen.append(sequence[:, 0]) or pool(sequence)
    real = batch["attention_mask"].bool()
    # per layer, the projections of the examples' own tokens (the last positions: a shallow prompt is prepended)
    projections = {"query": [], "key": [], "value": []}
    hooks = [module.register_forward_hook(
        lambda _, __, out, kind=kind: projections[kind].append(out[:, -real.shape[1]:].float()))
        for kind in projections for name, module in model.backbone.named_modules()
        if name.endswith(f"attention.self.{kind}")]
    with torch.no_grad():
        logits = model(batch).float()
        prefixes = deep_prompts(model.method)
    for hook in hooks:
        hook.remove()
    prefix_keys, prefix_values = (None, None) if prefixes is None else (prefixes[:, 0], prefixes[:, 1])
    cls = seen[0].float()
    return {"run_id": row.run_id, "method": cfg.method.name, "lr": cfg.method.lr, "examples": len(cls),
            "cls_std_across_examples": round(cls.std(0).mean().item(), 4),
            "cls_mean_abs": round(cls.abs().mean().item(), 4),
            "logit_std_across_examples": round(logits.std(0).mean().item(), 4),
            **{f"prefix_{kind}_rms": None if part is None else round(rms(part), 4)
               for kind, part in (("key", prefix_keys), ("value", prefix_values))},
            **{f"token_{kind}_rms": round(rms(torch.cat([out[real] for out in projections[kind]])), 4)
               if projections[kind] else None for kind in ("key", "value")},
            "cls_attention_on_prefix": cls_attention_on_prefix(model.method, prefix_keys, projections, real)}


def cls_attention_on_prefix(method, prefix_keys, projections, real) -> list[float] | None:
    """Per prompted layer, the share of the [CLS] query's attention that goes to the prefix positions, averaged
    over heads and examples (scaled dot-product scores, padding masked)."""
    import torch

    if prefix_keys is None or not projections["query"]:
        return None
    shares = []
    for index, layer in enumerate(method.prompt_layers):
        query, keys = projections["query"][layer][:, 0], projections["key"][layer]  # [B, hidden], [B, S, hidden]
        prefix = prefix_keys[index]  # [heads, P, d]
        heads, _, dim = prefix.shape
        query = query.view(len(query), heads, dim)
        keys = keys.view(*keys.shape[:2], heads, dim)
        on_tokens = torch.einsum("bhd,bshd->bhs", query, keys).masked_fill(~real[:, None, :], float("-inf"))
        on_prefix = torch.einsum("bhd,hpd->bhp", query, prefix)
        weights = torch.cat([on_prefix, on_tokens], dim=-1).div(dim ** 0.5).softmax(-1)
        shares.append(round(weights[..., :prefix.shape[1]].sum(-1).mean().item(), 4))
    return shares


def deep_prompts(method):
    """The prefixes a deep-prompt method feeds its layers, [layers, (key, value), heads, P, d] (None for other
    methods)."""
    if not hasattr(method, "layer_prefixes"):
        return None
    method.eval()
    return method.layer_prefixes(1)[:, :, 0].float()  # [layers, (key, value), batch, heads, P, d], batch 1


def rms(values) -> float:
    return values.pow(2).mean().sqrt().item()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--examples", type=int, default=128)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--results-dir", default="results/search")
    parser.add_argument("--output-dir", default="outputs")
    parser.add_argument("--weights", choices=["best", "last"], default="best")
    args = parser.parse_args()
    from ptune.store.find import run_folder

    for run in args.runs:
        print(json.dumps(spread(run_folder(run, Path(args.results_dir)), args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
