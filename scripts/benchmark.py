"""ptune's methods against their peers (plain transformers, peft), same data and settings, one table + JSON.

    make bench                                             # = python scripts/benchmark.py --data-dir ../shared/data
    python scripts/benchmark.py --precision bf16 --repeat 3 --max-train-examples 1024
    python scripts/benchmark.py --methods ptv2 --ptune trainer.group_by_length=true   # ptune-only overrides

Each measurement is its own process (scripts/bench_measure.py), so that its peak memory is its own: ptune
through its real runner (`ptune.train.runner.execute` with trainer=bench) or a peer from scripts/bench_peers.py, both
one epoch over the first N training examples of the task (RTE by default), batch 32, max length 128, the
method's learning rate. A figure is the median of --repeat measurements; ptune and its peer alternate. The
table (printed last) gives examples/s, ms per step, peak memory, trainable % and ptune's ratio to its peer;
the JSON (machine, versions, commit, every measurement) goes to results/bench/, which
scripts/bench_report.py renders into the README. A measurement that fails is reported as failed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_machine import device_kind, machine_info  # noqa: E402
from bench_measure import child, run_one  # noqa: E402
from bench_report import bench_table  # noqa: E402

PRECISIONS = ("fp32", "bf16")
FIGURES = ("examples_per_second", "train_seconds", "ms_per_step", "peak_memory_mib", "trainable_percent",
           "dev_accuracy")


def shared_overrides(args) -> list[str]:
    """The config both ptune and its peer read their settings from (peers ignore --ptune's extras)."""
    data = [f"data_dir={Path(args.data_dir).resolve()}"] if args.data_dir else []
    return [f"task={args.task}", f"model={args.model}", "trainer=bench", *data, f"seed={args.seed}",
            f"prompt_length={args.prompt_length}", f"task.max_length={args.max_length}",
            f"trainer.batch_size={args.batch_size}",
            f"trainer.max_train_examples={args.max_train_examples}", f"device={args.device}"]


def plan(args) -> list[dict]:
    from bench_peers import PAIRS

    pairs = PAIRS | dict(item.split("=", 1) for item in args.pairs)
    specs = []
    for repeat in range(args.repeat):
        for precision in args.precision:
            for method in args.methods:
                both = ["ptune", pairs[method]] if method in pairs else ["ptune"]
                for implementation in both if repeat % 2 == 0 else both[::-1]:
                    specs.append({"method": method, "implementation": implementation, "precision": precision,
                                  "repeat": repeat, "overrides": [f"method={method}", *shared_overrides(args)],
                                  "ptune": args.ptune, "peers_file": args.peers_file, "warmup": args.warmup})
    return specs


# --- the whole bench -------------------------------------------------------------------------------------
def summarise(specs: list[dict], results: list[dict]) -> list[dict]:
    """One entry per (precision, method, implementation): medians over its completed measurements."""
    from bench_peers import PEER_LABELS

    groups: dict[tuple, list] = {}
    for spec, result in zip(specs, results):
        groups.setdefault((spec["precision"], spec["method"], spec["implementation"]), []).append(result)
    entries = []
    for (precision, method, implementation), runs in groups.items():
        done = [r for r in runs if r["status"] == "completed"]
        entry = {"precision": precision, "method": method, "implementation": implementation,
                 "label": PEER_LABELS.get(implementation, implementation),
                 "status": "completed" if done else "failed", "n": len(done), "measurements": runs}
        if done:
            entry |= {k: statistics.median(r[k] for r in done if r.get(k) is not None)
                      for k in FIGURES if any(r.get(k) is not None for r in done)}
            entry |= {k: done[0][k] for k in ("precision_used", "peak_memory_kind", "device")}
        else:
            entry["error"] = runs[-1]["error"]
        entries.append(entry)
    return entries


def ratios(entries: list[dict]) -> list[dict]:
    """ptune / peer, per (precision, method): examples/s (above 1 = ptune faster), peak memory (below 1 = less)."""
    found = {(e["precision"], e["method"], e["implementation"] == "ptune"): e for e in entries}
    out = []
    for (precision, method, is_ptune), mine in found.items():
        peers = [e for (p, m, own), e in found.items() if (p, m, own) == (precision, method, False)]
        if not is_ptune or not peers or mine["status"] != "completed" or peers[0]["status"] != "completed":
            continue
        peer = peers[0]
        out.append({"precision": precision, "method": method, "peer": peer["implementation"],
                    "speed_ratio": mine["examples_per_second"] / peer["examples_per_second"],
                    "memory_ratio": mine["peak_memory_mib"] / peer["peak_memory_mib"]})
    return out


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    listing = lambda text: [item for item in text.split(",") if item]  # noqa: E731
    parser.add_argument("--task", default="rte", help="a sentence-pair task of conf/task/ (default rte)")
    parser.add_argument("--model", default="minilm", help="a backbone of conf/model/ (default minilm)")
    parser.add_argument("--data-dir", default=os.environ.get("PTUNE_DATA_DIR", "../shared/data"))
    parser.add_argument("--methods", type=listing, default=["finetune", "ptv2", "prompt", "prefix"])
    parser.add_argument("--precision", type=listing, default=["fp32", "bf16"], help="fp32, bf16 or both: fp32,bf16")
    parser.add_argument("--max-train-examples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128, help="tokens per input, truncated (default 128)")
    parser.add_argument("--prompt-length", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per figure, the median shown (default 1)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="skip the untimed device warm-up every measurement gets")
    parser.add_argument("--ptune", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra overrides for ptune only: a setting changed from its default (e.g. "
                             "trainer.group_by_length=false) is measured against the same peers, and the README "
                             "lists it under 'each change'")
    parser.add_argument("--tag", help="a word in the JSON's name (default: from --ptune, e.g. group_by_length-false)")
    parser.add_argument("--pairs", type=listing, default=[], metavar="METHOD=PEER", help="measure METHOD against PEER")
    parser.add_argument("--peers-file", help="a Python file run before the peers are looked up (may add to PEERS)")
    parser.add_argument("--out-dir", default="results/bench", help="where the JSON goes")
    parser.add_argument("--note", default="", help="a remark kept in the JSON and shown in the README")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one measurement may take")
    parser.add_argument("--mmap-threshold", type=int, default=131072,
                        help="bytes: glibc's fixed mmap threshold in every measurement process, so that a CPU peak "
                             "is memory held, not heap slack (default 128 KiB; 0: the allocator's own behaviour)")
    parser.add_argument("--budget", type=float, help="start no measurement after this many seconds (a GPU lease)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # = scripts/bench_measure.py SPEC
    args = parser.parse_args(argv)
    if bad := [p for p in args.precision if p not in PRECISIONS]:
        parser.error(f"--precision {','.join(bad)}: expected {' or '.join(PRECISIONS)} (or both, comma-separated)")
    if args.peers_file:
        args.peers_file = str(Path(args.peers_file).resolve())
    if args.tag is None:
        args.tag = "_".join(f"{key.rsplit('.', 1)[-1]}-{value}" for key, _, value in (o.partition("=") for o in args.ptune))
    args.tag = re.sub(r"[^A-Za-z0-9_.-]", "", args.tag)
    return args


def main(argv=None) -> int:
    args = parse(argv)
    if args.child:
        return child(args.child)
    began, specs, results = time.monotonic(), plan(args), []
    report = {"schema": 1, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "finished": None,
              "command": ["python", "scripts/benchmark.py", *(sys.argv[1:] if argv is None else argv)],
              "note": args.note,
              "settings": {"task": args.task, "model": args.model, "data_dir": args.data_dir, "trainer": "bench",
                           "epochs": 1, "max_train_examples": args.max_train_examples, "batch_size": args.batch_size,
                           "max_length": args.max_length, "prompt_length": args.prompt_length, "seed": args.seed,
                           "repeat": args.repeat, "precisions": args.precision, "ptune_overrides": args.ptune,
                           "malloc_mmap_threshold": args.mmap_threshold},
              "machine": machine_info(args.device)}
    tag = f"{args.tag}-" if args.tag else ""
    path = Path(args.out_dir) / f"{device_kind(report['machine'])}-{args.model}-{'-'.join(args.precision)}-{tag}" \
                                f"{time.strftime('%Y-%m-%d')}.json"
    for number, spec in enumerate(specs, start=1):
        if args.budget and time.monotonic() - began > args.budget:
            print(f"time budget of {args.budget:.0f} s spent: {len(specs) - len(results)} measurement(s) left out",
                  file=sys.stderr)
            break
        result = run_one(spec, args.timeout, args.mmap_threshold)
        results.append(result)
        figure = (f"{result['examples_per_second']:.1f} examples/s, {result['peak_memory_mib']:.0f} MiB"
                  if result["status"] == "completed" else f"failed: {result['error']}")
        print(f"[{number}/{len(specs)}] {spec['precision']} {spec['method']} {spec['implementation']}: {figure}",
              file=sys.stderr, flush=True)
        entries = summarise(specs[:len(results)], results)
        report |= {"results": entries, "ratios": ratios(entries), "complete": len(results) == len(specs)}
        write_report(path, report)  # after every measurement, so that a bench cut short still leaves its figures
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_report(path, report)
    print(f"\nJSON: {path}\n")
    print(bench_table(report))
    return 0


def write_report(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(scratch, path)


if __name__ == "__main__":
    sys.exit(main())
