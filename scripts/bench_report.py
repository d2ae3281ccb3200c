"""Render `make bench` JSON (results/bench/*.json) as a Markdown table, and the README's speed section from it.

    python scripts/bench_report.py                     # README.md between <!-- bench:start --> and <!-- bench:end -->
    python scripts/bench_report.py --check             # exit 1 when the README is not what the JSON gives
    python scripts/bench_report.py --json results/bench/cpu-minilm-fp32-bf16-2026-11-28.json --print

The README shows the newest JSON of each device kind (by its `finished` time), CPU first.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ptune.reports.markdown import markdown_table

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
ROOT = Path(__file__).resolve().parents[1]
MEMORY_KINDS = {"cpu_peak_rss": "peak resident set of the measurement's process",
                "cpu_process_max_rss": "peak resident set of the measurement's process",
                "cuda_allocated": "peak CUDA memory allocated"}


def cell(text) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def bench_table(report: dict) -> str:
    """One line on the setting and the machine, then one row per (precision, method, implementation)."""
    s, m = report["settings"], report["machine"]
    where = f"{m['gpu']} (CUDA)" if m.get("gpu") else f"{m['cpu']}, {m['cores']} cores"
    if not m.get("gpu") and m.get("cpu_bf16_flags") is not None:
        where += f" (bf16 flags: {', '.join(m['cpu_bf16_flags']) or 'none'})"
    kinds = sorted({MEMORY_KINDS.get(e.get("peak_memory_kind"), str(e.get("peak_memory_kind")))
                    for e in report["results"] if e.get("peak_memory_kind")})
    commit = (m.get("git") or {}).get("commit") or "unknown"
    when = finished(report)[:10] + ("" if report.get("complete", True) else ", cut short before every measurement ran")
    lines = [f"{s['task'].upper()} on {s['model']}, first {s['max_train_examples']} training examples, 1 epoch, batch "
             f"{s['batch_size']}, max length {s['max_length']}, psl {s['prompt_length']}; median of {s['repeat']} "
             f"measurement(s), one process each. {where}; torch {m['torch']}, transformers {m['transformers']}, "
             f"peft {m['peft']}; ptune {commit[:10]}, {when}. Memory: {'; '.join(kinds) or 'n/a'}"
             f"{allocator_note(s)}.",
             ""]
    header = ["precision", "method", "implementation", "examples/s", "ms/step", "peak MiB", "trainable %",
              "ptune ÷ peer examples/s", "ptune ÷ peer memory"]
    table = []
    ratio = {(r["precision"], r["method"]): r for r in report.get("ratios", [])}
    for e in report["results"]:
        precision = e["precision"]
        if e.get("precision_used") and e["precision_used"] != precision:
            precision += f" (ran {e['precision_used']})"
        name = e.get("label", e["implementation"])
        if e["status"] != "completed":
            table.append([precision, e["method"], cell(name), f"failed: {cell(e['error'])[:160]}", *[""] * 5])
            continue
        r = ratio.get((e["precision"], e["method"])) if e["implementation"] == "ptune" else None
        ratios = [f"{r['speed_ratio']:.2f}", f"{r['memory_ratio']:.2f}"] if r else ["", ""]
        table.append([precision, e["method"], cell(name), f"{e['examples_per_second']:.1f}", f"{e['ms_per_step']:.0f}",
                      f"{e['peak_memory_mib']:.0f}", f"{e['trainable_percent']:.3g}", *ratios])
    return "\n".join([*lines, markdown_table(header, table)])


def allocator_note(settings: dict) -> str:
    threshold = settings.get("malloc_mmap_threshold")
    if not threshold:
        return ""
    return (f" (glibc mmap threshold fixed at {threshold // 1024} KiB in every process, so that the peak is memory "
            "held rather than heap slack)")


def finished(report: dict) -> str:
    """When the bench ended (a bench cut short has only its start)."""
    return report.get("finished") or report["started"]


def overrides(report: dict) -> tuple[str, ...]:
    """The ptune-only overrides a bench ran with: () for ptune as it ships, else the change it switched off."""
    return tuple(report["settings"].get("ptune_overrides") or ())


def newest_reports(folder: Path, changed: bool = False) -> list[tuple[Path, dict]]:
    """The newest report of each device kind (CPU first), by the time the bench finished: of ptune as it ships,
    or (changed=True) the newest of each (device kind, ptune overrides) with overrides."""
    newest: dict[tuple, tuple[Path, dict]] = {}
    for path in sorted(Path(folder).glob("*.json")):
        report = json.loads(path.read_text())
        if bool(overrides(report)) != changed:
            continue
        key = (report["machine"].get("gpu") or "cpu", overrides(report))
        if key not in newest or finished(report) > finished(newest[key][1]):
            newest[key] = (path, report)
    return sorted(newest.values(), key=lambda item: (item[1]["machine"].get("gpu") is not None, overrides(item[1])))


def changes_table(baselines: list[tuple[Path, dict]], changed: list[tuple[Path, dict]]) -> str:
    """Each change measured: ptune's examples/s ratio to the same peer with one setting changed, next to the
    ratio of the shipped defaults (the newest plain bench of that device). Ratios to a peer measured in the same
    bench cancel most of a shared machine's drift between the two benches."""
    shipped = {(r["machine"].get("gpu") or "cpu", x["precision"], x["method"]): x
               for _, r in baselines for x in r.get("ratios", [])}
    header = ["changed (ptune only)", "device", "precision", "method", "ptune ÷ peer, changed",
              "ptune ÷ peer, defaults", "defaults ÷ changed", "memory ÷ peer, changed / defaults"]
    lines = []
    for path, report in changed:
        kind = report["machine"].get("gpu") or "cpu"
        for ratio in report.get("ratios", []):
            base = shipped.get((kind, ratio["precision"], ratio["method"]))
            if base is None:
                continue
            lines.append([f"`{' '.join(overrides(report))}`", kind, ratio["precision"], ratio["method"],
                          f"{ratio['speed_ratio']:.2f}", f"{base['speed_ratio']:.2f}",
                          f"{base['speed_ratio'] / ratio['speed_ratio']:.2f}x",
                          f"{ratio['memory_ratio']:.2f} / {base['memory_ratio']:.2f}"])
    return markdown_table(header, lines) if lines else ""


def readme_section(reports: list[tuple[Path, dict]], root: Path = ROOT,
                   changed: list[tuple[Path, dict]] = ()) -> str:
    parts = [START, "<!-- generated by scripts/bench_report.py from results/bench/ (make bench); do not edit -->",
             "Speed and memory: `make bench` trains each method of ptune (through its own runner) and its peer (a "
             "plain transformers fine-tuning loop; peft prefix and prompt tuning) on the same examples with the same "
             "settings, one process per measurement, and writes the table below (examples/s counts training only: "
             "batching, forward, backward, optimizer step)."]
    if not reports:
        parts.append("\nNo benchmark has been recorded yet (results/bench/ is empty).")
    for path, report in reports:
        shown = path.resolve().relative_to(root.resolve()) if path.resolve().is_relative_to(root.resolve()) else path
        parts += ["", f"From `{shown}`:", "", bench_table(report)]
        if report.get("note"):
            parts += ["", report["note"]]
    if table := changes_table(reports, list(changed)):
        names = ", ".join(f"`{p.name}`" for p, _ in changed)
        parts += ["", f"Each change, measured: the same bench with one of ptune's settings changed from its default "
                  f"({names}; `make bench BENCH_ARGS='--ptune KEY=VALUE'`). \"defaults ÷ changed\" is ptune ÷ peer "
                  "with the defaults over ptune ÷ peer with the change: above 1, the default is the faster.", "",
                  table]
    return "\n".join(parts + [END])


def rewrite(readme_text: str, section: str, readme_name: str = "README.md", start: str = START, end: str = END) -> str:
    """The README with the text from the `start` line to the `end` line replaced by `section` (which has both)."""
    if readme_text.count(start) != 1 or readme_text.count(end) != 1 or readme_text.index(start) > readme_text.index(end):
        raise ValueError(f"{readme_name}: expected one {start} line followed by one {end} line around its section")
    head, rest = readme_text.split(start)
    return head + section + rest.split(end, 1)[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=str(ROOT / "results" / "bench"), help="folder of bench JSON")
    parser.add_argument("--json", nargs="*", help="these reports instead of the newest of each device kind")
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    parser.add_argument("--print", action="store_true", help="print the section, change nothing")
    parser.add_argument("--check", action="store_true", help="exit 1 if the README differs from the JSON")
    args = parser.parse_args(argv)
    reports = ([(Path(p), json.loads(Path(p).read_text())) for p in args.json] if args.json
               else newest_reports(Path(args.results)))
    changed = [] if args.json else newest_reports(Path(args.results), changed=True)
    section = readme_section(reports, Path(args.readme).resolve().parent, changed)
    if args.print:
        print(section)
        return 0
    return update_readme(Path(args.readme), section, args.check,
                         f"the speed section is not what {args.results} gives; run python scripts/bench_report.py",
                         f"speed section rewritten from {', '.join(str(p) for p, _ in reports) or 'no report'}")


def update_readme(readme: Path, section: str, check: bool, stale: str, done: str, start: str = START,
                  end: str = END) -> int:
    """Rewrite the README's section; with `check`, change nothing and return 1 (saying `stale`) if it differs."""
    current = readme.read_text()
    updated = rewrite(current, section, str(readme), start, end)
    if check:
        if updated != current:
            print(f"{readme}: {stale}", file=sys.stderr)
            return 1
        return 0
    readme.write_text(updated)
    print(f"{readme}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
