"""Training throughput, peak memory and trainable share of every method on one backbone.

    python scripts/benchmark.py                          # minilm, batch 32 x 128 tokens, CPU or GPU
    python scripts/benchmark.py --model tiny-bert --steps 5 --batch-size 8 --length 64

Each method runs in its own process so that its peak memory (CUDA allocated, else the process's max
RSS) is its own. Inputs are random token ids of a fixed shape: this measures the model, not the data.
Prints one Markdown table; numbers depend on the machine, so they are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(args) -> dict:
    import torch
    from types import SimpleNamespace

    from ptune.config import compose
    from ptune.model import build_model
    from ptune.training import autocast_dtype, make_optimizer, peak_memory_mib, pick_device

    cfg = compose([f"model={args.model}", f"method={args.method}", f"prompt_length={args.prompt_length}"])
    device = pick_device(args.device)
    task = SimpleNamespace(head="classification", num_labels=2, words_pretokenized=False)
    torch.manual_seed(0)
    model = build_model(cfg.model, cfg.method, task, args.length).to(device).train()
    optimizer = make_optimizer(model, 1e-4, 0.0)
    dtype = autocast_dtype("auto", device)
    vocab = model.backbone.config.vocab_size
    batch = {"input_ids": torch.randint(1000, vocab, (args.batch_size, args.length), device=device),
             "attention_mask": torch.ones(args.batch_size, args.length, dtype=torch.long, device=device),
             "labels": torch.randint(0, 2, (args.batch_size,), device=device)}

    def step():
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = model.loss(model(batch), batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    began = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    trainable, total = model.parameter_counts()
    memory, kind = peak_memory_mib(device)
    return {"method": args.method, "examples_per_second": args.batch_size * args.steps / seconds,
            "peak_memory_mib": memory, "memory_kind": kind, "trainable": trainable,
            "trainable_percent": 100 * trainable / total, "device": str(device)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--methods", default="finetune,prompt,prefix,ptv2")
    parser.add_argument("--method", help=argparse.SUPPRESS)  # one method, in a child process
    parser.add_argument("--prompt-length", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    if args.method:
        print(json.dumps(measure(args)))
        return 0
    shared = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k not in ("methods", "method")]
    results = []
    for method in args.methods.split(","):
        child = subprocess.run([sys.executable, __file__, f"--method={method}", *shared],
                               capture_output=True, text=True, check=True)
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(f"model {args.model}, batch {args.batch_size} x {args.length} tokens, psl {args.prompt_length}, "
          f"{args.steps} timed steps on {results[0]['device']}\n")
    print("| method | train examples/s | peak memory MiB | trainable params | trainable % |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['method']} | {r['examples_per_second']:.1f} | {r['peak_memory_mib']:.0f} ({r['memory_kind']}) "
              f"| {r['trainable']:,} | {r['trainable_percent']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
