"""The benchmark harness (scripts/benchmark.py, bench_peers.py, bench_report.py) on tiny-bert and a few RTE lines
written here. Timings are the machine's and never asserted; shapes, counts, failures and the README are."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import bench_report  # noqa: E402
import benchmark  # noqa: E402
from bench_peers import PAIRS, train_peer  # noqa: E402

from ptune.config.compose import compose  # noqa: E402
from ptune.model.prompted import build_model  # noqa: E402
from ptune.tasks import build_task  # noqa: E402

RAISING_PEER = '''
import bench_peers

def raising(cfg, num_labels):
    raise RuntimeError("injected failure")

bench_peers.PEERS["raising"] = raising
'''


def write_rte(folder: Path, train: int = 8, dev: int = 4) -> Path:
    rte = folder / "super_glue" / "RTE"
    rte.mkdir(parents=True)
    for name, count in (("train.jsonl", train), ("val.jsonl", dev)):
        lines = [{"premise": f"The {i} cats sat on the mat near the door.", "hypothesis": f"Cats sat {i}.",
                  "label": ["entailment", "not_entailment"][i % 2], "idx": i} for i in range(count)]
        (rte / name).write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def test_bench_runs_ptune_and_reports_a_failing_peer_as_failed(tmp_path, ptune):
    data = write_rte(tmp_path / "data")
    peers = tmp_path / "raising_peer.py"
    peers.write_text(RAISING_PEER)
    out = tmp_path / "bench"
    done = subprocess.run([sys.executable, str(SCRIPTS / "benchmark.py"), "--model", "tiny-bert", "--methods", "ptv2",
                           "--pairs", "ptv2=raising", "--peers-file", str(peers), "--precision", "fp32", "--repeat", "1",
                           "--max-train-examples", "8", "--batch-size", "4", "--data-dir", str(data),
                           "--out-dir", str(out), "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = out.glob("*.json")
    assert path.name == f"cpu-tiny-bert-fp32-{time.strftime('%Y-%m-%d')}.json"
    report = json.loads(path.read_text())
    assert {"cpu", "cores", "torch", "transformers", "peft", "git"} <= set(report["machine"])
    assert report["settings"]["malloc_mmap_threshold"] == 131072
    by_impl = {e["implementation"]: e for e in report["results"]}
    assert set(by_impl) == {"ptune", "raising"}
    ptune, peer = by_impl["ptune"], by_impl["raising"]
    assert ptune["status"] == "completed" and ptune["n"] == 1 and ptune["precision_used"] == "fp32"
    assert ptune["examples_per_second"] > 0 and ptune["peak_memory_mib"] > 0
    [measurement] = ptune["measurements"]
    assert (measurement["train_examples"], measurement["steps"]) == (8, 2)
    assert ptune["ms_per_step"] == pytest.approx(1000 * measurement["train_seconds"] / 2)
    assert peer["status"] == "failed" and peer["error"] == "RuntimeError: injected failure"
    assert report["ratios"] == []  # no ratio against a failed peer
    table = done.stdout.strip().splitlines()
    assert table[-4].startswith("| precision | method | implementation | examples/s |")
    assert table[-1].startswith("| fp32 | ptv2 | raising | failed: RuntimeError: injected failure |")
    assert table[-1].count("|") == table[-4].count("|")


@pytest.mark.parametrize("method", sorted(PAIRS))
def test_each_peer_trains_the_same_examples_and_parameters_as_ptune(method, tmp_path):
    """Same first-N examples, steps and trainable parameter count as ptune's model for that method."""
    if PAIRS[method].startswith("peft"):
        pytest.importorskip("peft")
    data = write_rte(tmp_path / "data", train=6, dev=3)
    cfg = compose([f"method={method}", "model=tiny-bert", "trainer=bench", f"data_dir={data}", "prompt_length=4",
                   "trainer.batch_size=4", "trainer.max_train_examples=5"])
    result = train_peer(PAIRS[method], cfg, torch.device("cpu"), None)
    assert (result["train_examples"], result["steps"]) == (5, 2)
    assert 0.0 <= result["dev_accuracy"] <= 1.0 and result["train_seconds"] > 0
    ours = build_model(cfg.model, cfg.method, build_task(cfg.task, data), cfg.task.max_length)
    assert result["trainable"] == ours.parameter_counts()[0]


def fake(method, implementation, precision, speed, memory, status="completed"):
    result = {"status": status, "examples_per_second": speed, "train_seconds": 64 / speed, "ms_per_step": 2000 / speed,
              "peak_memory_mib": memory, "trainable_percent": 1.0, "dev_accuracy": 0.5, "precision_used": precision,
              "peak_memory_kind": "cpu_peak_rss", "device": "cpu"} if status == "completed" else {
        "status": status, "error": "ValueError: no"}
    return {"method": method, "implementation": implementation, "precision": precision}, result


def test_figures_are_medians_and_ratios_are_ptune_over_peer():
    pairs = [fake("ptv2", "ptune", "fp32", s, m) for s, m in ((10, 900), (30, 1100), (20, 1000))]
    pairs += [fake("ptv2", "peft-prefix", "fp32", s, 1250) for s in (8, 8)] + [fake("ptv2", "peft-prefix", "fp32", 0, 0,
                                                                                    "failed")]
    pairs += [fake("prompt", "ptune", "fp32", 5, 500), fake("prompt", "peft-prompt", "fp32", 0, 0, "failed")]
    entries = benchmark.summarise(*zip(*pairs))
    ptv2 = {e["implementation"]: e for e in entries if e["method"] == "ptv2"}
    assert (ptv2["ptune"]["examples_per_second"], ptv2["ptune"]["peak_memory_mib"], ptv2["ptune"]["n"]) == (20, 1000, 3)
    assert (ptv2["peft-prefix"]["examples_per_second"], ptv2["peft-prefix"]["n"]) == (8, 2)
    [ratio] = benchmark.ratios(entries)  # prompt's peer failed: no ratio
    assert ratio == {"precision": "fp32", "method": "ptv2", "peer": "peft-prefix", "speed_ratio": 2.5,
                     "memory_ratio": 0.8}


def report_with(entries, finished="2026-11-28T10:00:00+0000", gpu=None):
    return {"finished": finished, "note": "provisional", "settings": {
        "task": "rte", "model": "minilm", "max_train_examples": 512, "batch_size": 32, "max_length": 128,
        "prompt_length": 16, "repeat": 2}, "machine": {"cpu": "Some CPU", "cores": 2, "cpu_bf16_flags": [], "gpu": gpu,
                                                       "torch": "2", "transformers": "5", "peft": "0.21",
                                                       "git": {"commit": "abc"}},
        "results": entries, "ratios": benchmark.ratios(entries)}


def test_readme_section_is_rewritten_between_the_markers_only(tmp_path):
    entries = benchmark.summarise(*zip(fake("ptv2", "ptune", "fp32", 20, 1000), fake("ptv2", "peft-prefix", "fp32", 8, 1250)))
    results = tmp_path / "bench"
    results.mkdir()
    (results / "old.json").write_text(json.dumps(report_with(entries, finished="2026-01-01T00:00:00+0000")))
    newer = entries[:1] + [{**entries[1], "examples_per_second": 10.0}]
    (results / "new.json").write_text(json.dumps(report_with(newer)))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\nbefore\n<!-- bench:start -->\nstale text\n<!-- bench:end -->\nafter\n")
    args = ["--results", str(results), "--readme", str(readme)]
    assert bench_report.main(["--check", *args]) == 1
    assert bench_report.main(args) == 0
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n<!-- bench:start -->\n") and text.endswith("<!-- bench:end -->\nafter\n")
    assert "stale text" not in text and "From `bench/new.json`" in text and "old.json" not in text
    assert "| fp32 | ptv2 | ptune | 20.0 | 100 | 1000 | 1 | 2.00 | 0.80 |" in text  # 20/10 examples/s, 1000/1250 MiB
    assert "\nprovisional\n" in text
    assert bench_report.main(["--check", *args]) == 0  # round trip: rendering again changes nothing
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="README.md: expected one <!-- bench:start -->"):
        bench_report.main(args)


def test_committed_readme_matches_the_committed_bench_json():
    assert bench_report.main(["--check"]) == 0, "run: python scripts/bench_report.py"


def test_a_change_switched_off_is_listed_against_the_shipped_defaults(tmp_path):
    """A bench run with --ptune KEY=VALUE is a measurement of that change: it never replaces the main table, and the
    README's 'each change' table divides the two ptune ÷ peer ratios (4.0 with the defaults, 2.0 with it off)."""
    shipped = benchmark.summarise(*zip(fake("ptv2", "ptune", "bf16", 40, 900), fake("ptv2", "peft-prefix", "bf16", 10, 1000)))
    off = benchmark.summarise(*zip(fake("ptv2", "ptune", "bf16", 24, 950), fake("ptv2", "peft-prefix", "bf16", 12, 1000)))
    results = tmp_path / "bench"
    results.mkdir()
    (results / "main.json").write_text(json.dumps(report_with(shipped)))
    changed = report_with(off, finished="2026-11-29T10:00:00+0000")  # newer, but not a bench of ptune as it ships
    changed["settings"]["ptune_overrides"] = ["trainer.group_by_length=false"]
    (results / "grouping-off.json").write_text(json.dumps(changed))
    readme = tmp_path / "README.md"
    readme.write_text("<!-- bench:start -->\n<!-- bench:end -->\n")
    assert bench_report.main(["--results", str(results), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "From `bench/main.json`" in text and "From `bench/grouping-off.json`" not in text
    assert "| `trainer.group_by_length=false` | cpu | bf16 | ptv2 | 2.00 | 4.00 | 2.00x | 0.95 / 0.90 |" in text
    assert "above 1, the default is the faster" in text


def test_the_json_name_says_which_change_was_switched_off():
    args = benchmark.parse(["--ptune", "trainer.group_by_length=false", "trainer.cast_frozen=false"])
    assert args.tag == "group_by_length-false_cast_frozen-false"
    assert benchmark.parse([]).tag == ""
