"""Figures from the result rows (`ptune table` draws them when matplotlib is installed: the `figures` extra).

    results/figures/prompt_length-<task>.png   dev score vs prompt length, one line per (model, method, setting)
    results/figures/trainable-<task>.png       dev score vs trainable % (log scale), one point per configuration
    results/figures/deltas-<table>.png         each comparison of stats.json: delta against the reference, 95% interval

A point is the mean over the seeds of one configuration (the same pooling as the tables' cells), with the
sample standard deviation as an error bar; the score is the task's primary metric at the best dev epoch. A
single-seed point gets the standard error of one evaluation instead, so that a sweep's one-seed points are not
read closer than they are: an accuracy's is binomial over the row's dev examples (~3 points on RTE's 277); an
entity F1's comes from the run's dev predictions with the sentences as the sampled units (~0.5 on CoNLL-03's
3250; `f1_with_standard_error`), given only where that file reproduces the row's F1. The figure's caption says
which bars are which. A prompt-length line's legend says how many seeds its points pool (n; per point where they
differ). A line of the prompt-length figure needs at least two prompt lengths, so figures appear only where a
sweep made them.
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path

from ptune.reports.labels import config_digest, method_rank, setting_label
from ptune.reports.spans import flat_span_counts, read_tags
from ptune.store.find import run_path
from ptune.store.row import Row
from ptune.tasks.tagging.metrics import f1_of_counts

BAR_KINDS = {"std": "bars: the seeds' standard deviation",
             "se": "one seed: ±1 standard error of one dev evaluation (binomial)",
             "se_f1": "one seed: ±1 standard error of one dev evaluation (over its sentences)"}


def configurations(rows: list[Row]) -> dict[str, list[dict]]:
    """Per task: one point per configuration (its seeds pooled): model, method, psl, setting, trainable %, scores."""
    pooled: dict[tuple, dict] = {}
    for row in rows:
        score = row.score()
        if score is None:
            continue
        key = (row.task, config_digest(row))
        point = pooled.setdefault(key, {
            "task": row.task, "model": row.model, "method": row.method, "psl": row.prompt_length,
            "setting": setting_label(row), "metric": row.primary_metric,
            "trainable": row.params.get("trainable_percent"), "dev_examples": row.data.get("dev_examples"),
            "scores": [], "run_ids": []})
        point["scores"].append(score)
        point["run_ids"].append(row.run_id)
    by_task: dict[str, list[dict]] = {}
    for point in pooled.values():
        point["mean"] = statistics.fmean(point["scores"])
        point["std"] = statistics.stdev(point["scores"]) if len(point["scores"]) > 1 else 0.0
        by_task.setdefault(point["task"], []).append(point)
    return by_task


def error_bar(point: dict) -> tuple[float, str | None]:
    """(half-height, what it is): the seeds' standard deviation; for one seed of an accuracy, the binomial standard
    error of one evaluation on its dev examples; for one seed of an F1, the standard error `add_f1_standard_errors`
    found; else none."""
    if len(point["scores"]) > 1:
        return point["std"], "std"
    if point["metric"] == "accuracy" and point.get("dev_examples"):
        share = min(max(point["mean"] / 100.0, 0.0), 1.0)
        return 100.0 * math.sqrt(share * (1.0 - share) / point["dev_examples"]), "se"
    if point.get("f1_standard_error") is not None:
        return point["f1_standard_error"], "se_f1"
    return 0.0, None


def add_f1_standard_errors(points: list[dict], results_dir: Path) -> None:
    """Give each single-seed F1 point the standard error over the sentences of its run's dev predictions (the best
    epoch's, <results_dir>/runs/<run id>/predictions/dev/dev.conll), where that file gives the row's own F1."""
    for point in points:
        if len(point["scores"]) != 1 or point["metric"] != "f1":
            continue
        path = run_path(results_dir, point["run_ids"][0]) / "predictions" / "dev" / "dev.conll"
        if path.is_file():
            counts = flat_span_counts(*read_tags(path), strict=True)  # numpy: far quicker than seqeval per sentence
            f1, standard_error = f1_of_counts([(int(right), int(found + gold)) for right, found, gold in counts])
            if abs(f1 - point["mean"]) < 1e-6:  # else the file is not what the row scored: no bar
                point["f1_standard_error"] = standard_error


def caption(points: list[dict]) -> str:
    """What the figure's error bars are, from the kinds error_bar gave its points."""
    kinds = {error_bar(point)[1] for point in points}
    return "; ".join(text for kind, text in BAR_KINDS.items() if kind in kinds)


def prompt_length_lines(points: list[dict]) -> dict[tuple, list[dict]]:
    """(model, method, setting) -> its points sorted by prompt length; only lines with two lengths or more."""
    lines: dict[tuple, list[dict]] = {}
    for point in points:
        if point["psl"] is not None:
            lines.setdefault((point["model"], point["method"], point["setting"]), []).append(point)
    return {key: sorted(found, key=lambda p: p["psl"]) for key, found in sorted(
        lines.items(), key=lambda item: (item[0][0], method_rank(item[0][1]), item[0][2]))
        if len({p["psl"] for p in found}) >= 2}


def seeds_label(line: list[dict]) -> str:
    """How many seeds the line's points pool: ' n=3' where every point pools the same number (' n=1': a
    single-seed sweep, no error bars), ' n=1,1,3' (per point, in the line's order) where they differ."""
    counts = [len(point["scores"]) for point in line]
    return f" n={counts[0]}" if len(set(counts)) == 1 else " n=" + ",".join(map(str, counts))


def trainable_series(points: list[dict]) -> dict[tuple, list[dict]]:
    """(model, method, setting) -> its points with a trainable %: cells made with other schedules or settings are
    separate series, never one legend entry."""
    series: dict[tuple, list[dict]] = {}
    for point in points:
        if point["trainable"]:
            series.setdefault((point["model"], point["method"], point["setting"]), []).append(point)
    return {key: sorted(found, key=lambda p: p["trainable"]) for key, found in
            sorted(series.items(), key=lambda item: (item[0][0], method_rank(item[0][1]), item[0][2]))}


def write_figures(rows: list[Row], out_dir: Path, results_dir: Path | None = None) -> list[Path]:
    """Draw every figure the rows allow; returns the files written (none without matplotlib). With results_dir
    (where the rows' run folders are), single-seed F1 points get a bar from their dev predictions."""
    try:  # deferred: matplotlib is optional (the figures extra) and heavy
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    out_dir = Path(out_dir)
    for task, points in sorted(configurations(rows).items()):
        if results_dir is not None:
            add_f1_standard_errors(points, results_dir)
        metric = points[0]["metric"]
        lines = prompt_length_lines(points)
        if lines:
            figure, axes = plt.subplots(figsize=(6, 4))
            for (model, method, setting), line in lines.items():
                axes.errorbar([p["psl"] for p in line], [p["mean"] for p in line],
                              yerr=[error_bar(p)[0] for p in line], marker="o", capsize=3,
                              label=f"{model} {method} ({setting}){seeds_label(line)}")
            axes.set_xscale("log", base=2)
            axes.set(title=f"{task}: dev {metric} vs prompt length", xlabel="prompt length", ylabel=f"dev {metric}")
            drawn = [point for line in lines.values() for point in line]
            written.append(save(figure, axes, out_dir / f"prompt_length-{task}.png", caption(drawn)))
        series = trainable_series(points)
        if sum(len(found) for found in series.values()) >= 2:
            figure, axes = plt.subplots(figsize=(6, 4))
            for number, ((model, method, setting), mine) in enumerate(series.items()):
                marker = "os^D"[number // 10 % 4]  # colours repeat after ten series; markers differ
                axes.errorbar([p["trainable"] for p in mine], [p["mean"] for p in mine],
                              yerr=[error_bar(p)[0] for p in mine], marker=marker, linestyle="none", capsize=3,
                              label=f"{model} {method} ({setting})")
            axes.set_xscale("log")
            axes.set(title=f"{task}: dev {metric} vs trainable parameters", xlabel="trainable %",
                     ylabel=f"dev {metric}")
            drawn = [point for mine in series.values() for point in mine]
            written.append(save(figure, axes, out_dir / f"trainable-{task}.png", caption(drawn)))
    return written


def write_delta_figures(stats: dict, out_dir: Path) -> list[Path]:
    """Per table: every comparison of `stats` (ptune/reports/stats.py) as its delta with its 95% interval, one line
    per (column, method, source), a dashed line at -margin; none without matplotlib."""
    try:  # deferred: matplotlib is optional (the figures extra) and heavy
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    settings = stats["bootstrap"]
    for table in sorted({c["table"] for c in stats["comparisons"]}):
        mine = [c for c in stats["comparisons"] if c["table"] == table][::-1]  # the tables' order, top to bottom
        figure, axes = plt.subplots(figsize=(7, 0.8 + 0.28 * len(mine)))
        for y, c in enumerate(mine):
            colour = {"better": "C2", "worse": "C3"}.get(c["verdict"], "0.4")
            axes.errorbar([c["delta"]], [y], xerr=[[c["delta"] - c["ci95"][0]], [c["ci95"][1] - c["delta"]]],
                          marker="o", color=colour, capsize=3)
        axes.set_yticks(range(len(mine)), [f"{c['column']}: {c['method']}"
                                           f"{'' if c['psl'] is None else ' ' + str(c['psl'])} · {c['label']}"
                                           for c in mine], fontsize=7)
        axes.axvline(0, color="0.2", linewidth=0.8)
        axes.axvline(-settings["margin"], color="0.5", linewidth=0.8, linestyle="--")
        axes.set(title=f"{table}: against {settings['reference']}", xlabel="delta (points), 95% interval")
        note = (f"paired two-level bootstrap, {settings['replicates']} replicates; green / red: better / worse at "
                f"{settings['alpha']:g} after Holm; dashed: -{settings['margin']:g} point(s)")
        axes.grid(alpha=0.3)
        axes.annotate(note, (0.0, -0.8 / (0.8 + 0.28 * len(mine))), xycoords="axes fraction", va="top", fontsize=7,
                      color="0.3")
        path = Path(out_dir) / f"deltas-{table}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
        plt.close(figure)
        written.append(path)
    return written


def save(figure, axes, path: Path, bars: str = "") -> Path:
    import matplotlib.pyplot as plt

    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes: it hides no point
    if bars:
        axes.annotate(bars, (0.0, -0.16), xycoords="axes fraction", va="top", fontsize=7, color="0.3")
    path.parent.mkdir(parents=True, exist_ok=True)
    # bbox_inches="tight" takes in the legend and the caption; no version stamp: same rows, same bytes
    figure.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return path
