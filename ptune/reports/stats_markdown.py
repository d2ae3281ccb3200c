"""The markdown of the tables' statistics (results/tables/stats.json, ptune/reports/stats.py): each cell's interval
after its mean ± std (n), and under each table its comparisons against the reference method."""
from __future__ import annotations

from ptune.reports.markdown import markdown_table
from ptune.reports.table_specs import TableSpec


def interval_texts(stats: dict) -> dict[tuple, str]:
    """(model, label, column, method, psl) -> " [low, high]" (the cell's 95% interval), "†" where it does not clear
    the trivial baseline."""
    texts = {}
    for cell in stats["cells"]:
        if cell["ci95"]:
            mark = "" if cell["above_baseline"] in (True, None) else " †"
            texts[(cell["model"], cell["label"], cell["column"], cell["method"], cell["psl"])] = (
                f" [{cell['ci95'][0]:.1f}, {cell['ci95'][1]:.1f}]{mark}")
    return texts


def comparison_section(spec: TableSpec, stats: dict) -> list[str]:
    """The intervals' note and the table's comparisons against the reference method."""
    settings = stats["bootstrap"]
    note = (f"In brackets: the cell's 95% interval, a two-level bootstrap ({settings['replicates']} replicates, seed "
            f"{settings['seed']}: the seeds drawn with replacement, then the scored examples, from the runs' saved "
            "predictions); † the interval does not clear the task's trivial baseline (the majority class; no entity; "
            "the empty answer), i.e. the cell is not told apart from chance. results/tables/stats.json holds every "
            "number.")
    mine = [c for c in stats["comparisons"] if c["table"] == spec.name]
    if not mine:
        return ["", note]
    lines = [[c["model"], c["label"], c["column"], c["method"], "" if c["psl"] is None else c["psl"],
              f"{c['delta']:+.1f} [{c['ci95'][0]:+.1f}, {c['ci95'][1]:+.1f}]", f"{c['p']:.3g}", f"{c['p_holm']:.3g}",
              c["verdict"], c["within_margin"]] for c in mine]
    return ["", note, "", f"Against {settings['reference']}: delta = the method's mean minus {settings['reference']}'s "
            "on the same column, its 95% interval from the same bootstrap with the examples shared by both sides "
            f"(paired), the two-sided bootstrap p and Holm's p over this table's {len(mine)} comparisons; verdict at "
            f"{settings['alpha']:g} on Holm's p; \"within {settings['margin']:g}\": is the method at most "
            f"{settings['margin']:g} point(s) under {settings['reference']} (yes: the interval's low end is above "
            f"-{settings['margin']:g}; no: its high end is below; else undecided).", "",
            markdown_table(["model", "source", "column", "method", "psl", "delta [95%]", "p", "Holm p", "verdict",
                            f"within {settings['margin']:g}"], lines)]
