"""The bootstrap arithmetic behind ptune/reports/stats.py: resampled scores, intervals, p-values, Holm, P(improvement).

    scores = replicate_scores([units_a, units_b], 10_000, seed=0)   # runs x B, one example draw shared by the runs
    cell = seed_mix(scores, draw_rng(0, cell_key))                   # B: seeds drawn with replacement per replicate
    interval(cell_a - cell_b), two_sided_p(cell_a - cell_b), holm([p1, p2, ...])

Replicate b draws U units with replacement (a B x U matrix of counts, multinomial), so a run's resampled score is its
metric of counts[b] @ stats (ptune/reports/units.py): every task's own metric, vectorised. Runs with the same units
share the draw, which pairs every comparison on the same examples; a draw depends only on the seed and the unit ids,
so a cell's numbers never depend on what else the tables hold.
"""
from __future__ import annotations

import zlib

import numpy as np

from ptune.reports.units import Units, kind_metric

CHUNK = 1000  # replicates drawn at once: bounds the B x U counts in memory


def draw_rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def replicate_scores(group: list[Units], replicates: int, seed: int) -> np.ndarray:
    """runs x B resampled scores (percent) of runs scored on the same units (equal `ids`)."""
    ids = group[0].ids
    if any(units.ids != ids for units in group):
        raise ValueError("replicate_scores: the runs of one draw must be scored on the same units")
    rng, size = draw_rng(seed, "\n".join(ids)), len(ids)
    stacked = np.concatenate([units.stats for units in group], axis=1)
    bounds = np.cumsum([0] + [units.stats.shape[1] for units in group])
    out = np.empty((len(group), replicates))
    for start in range(0, replicates, CHUNK):
        n = min(CHUNK, replicates - start)
        draws = rng.integers(0, size, size=(n, size)) + size * np.arange(n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=n * size).reshape(n, size)
        summed = counts @ stacked
        for index, units in enumerate(group):
            out[index, start:start + n] = kind_metric(units.kind, summed[:, bounds[index]:bounds[index + 1]])
    return out


def seed_mix(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """B replicates of a cell's mean over its seeds (`scores`: seeds x B): per replicate, the seeds drawn with
    replacement, each scored on that replicate's examples (the two-level bootstrap)."""
    seeds, replicates = scores.shape
    drawn = rng.integers(0, seeds, size=(replicates, seeds))
    return scores[drawn, np.arange(replicates)[:, None]].mean(axis=1)


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def two_sided_p(deltas: np.ndarray) -> float:
    """Twice the smaller share of replicates on either side of zero, (k + 1) / (B + 1) so that it is never 0; below
    0.05 exactly when 0 lies outside the 95% percentile interval (up to the +1)."""
    replicates = len(deltas)
    tail = min(np.count_nonzero(deltas <= 0), np.count_nonzero(deltas >= 0))
    return min(1.0, 2 * (tail + 1) / (replicates + 1))


def holm(ps: list[float]) -> list[float]:
    """Holm's step-down adjustment: the i-th smallest p times (m - i), made monotone, capped at 1."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    adjusted, running = [0.0] * len(ps), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[index]))
        adjusted[index] = running
    return adjusted


def probability_of_improvement(scores: list[float], reference: list[float]) -> float:
    """P(X > Y) + P(X = Y) / 2 over every pair of a run of one side and a run of the other (rliable's per task)."""
    x, y = np.asarray(scores)[:, None], np.asarray(reference)[None, :]
    return float(((x > y) + 0.5 * (x == y)).mean())
