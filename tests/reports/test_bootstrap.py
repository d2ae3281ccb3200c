"""The bootstrap's known answers: coverage of a known accuracy, the paired p against the exact sign (McNemar) test,
a two-run cell worked by hand, Holm by hand, probability of improvement by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ptune.reports.bootstrap import (
    draw_rng,
    holm,
    interval,
    probability_of_improvement,
    replicate_scores,
    seed_mix,
    two_sided_p,
)
from ptune.reports.units import Units, mean_stats


def accuracy_units(right, ids=None) -> Units:
    right = np.asarray(right, dtype=float)
    ids = ids or tuple(map(str, range(len(right))))
    return Units(ids, mean_stats(right), "mean", mean_stats(np.zeros(len(right))))


def test_the_interval_covers_a_known_accuracy_95_percent_of_the_time():
    """2,000 dev sets of 300 examples drawn from a model that is right 62% of the time; each evaluation's 95% interval
    (one seed: the example level of the bootstrap) covers 62 in 93-97% of them. The evaluations share one draw of
    resample counts (a draw never looks at the data), so the 2,000 intervals come from one matrix product."""
    truth, size, evaluations = 0.62, 300, 2000
    right = np.random.default_rng(7).random((evaluations, size)) < truth
    ids = tuple(map(str, range(size)))
    scores = replicate_scores([accuracy_units(r, ids) for r in right], 2000, seed=1)
    low, high = np.percentile(scores, [2.5, 97.5], axis=1)
    coverage = np.mean((low <= 100 * truth) & (100 * truth <= high))
    assert 0.93 <= coverage <= 0.97, coverage


def exact_sign_test(b: int, c: int) -> float:
    """McNemar's exact test: two-sided binomial p of the discordant pairs b (only the method right), c (only the
    reference right) at one half."""
    k, n = min(b, c), b + c
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def paired_p(b: int, c: int, both: int, size: int) -> float:
    """The bootstrap p of one run against another (one seed each) on `size` examples: b right only for the method,
    c only for the reference, `both` right for both."""
    method, reference = np.zeros(size), np.zeros(size)
    method[:b] = 1
    reference[b:b + c] = 1
    method[b + c:b + c + both] = reference[b + c:b + c + both] = 1
    scores = replicate_scores([accuracy_units(method), accuracy_units(reference)], 20_000, seed=3)
    rng = draw_rng(0, "x")
    return two_sided_p(seed_mix(scores[:1], rng) - seed_mix(scores[1:], rng))


@pytest.mark.parametrize("b, c", [(13, 2), (12, 3), (10, 4), (8, 8), (6, 2), (3, 12)])
def test_the_paired_p_agrees_with_the_exact_sign_test(b, c):
    """Same verdict at 5% as McNemar's exact test where that test is clear of 0.05; the percentile bootstrap is
    the less conservative of the two on few discordant pairs (its p lies between about a quarter of the exact one
    and the exact one; the further in the tail, the smaller the share)."""
    exact, boot = exact_sign_test(b, c), paired_p(b, c, both=20, size=60)
    assert (boot < 0.05) == (exact < 0.05)
    assert 0.25 * exact <= boot <= exact + 0.01, (boot, exact)


def test_a_two_seed_cell_worked_by_hand():
    """Seed 1 is right on example 1 only, seed 2 on both: cell mean 75. Per replicate the seeds are drawn (both
    seed 1, mixed, both seed 2: 1/4, 1/2, 1/4) and the two examples (counts (2,0), (1,1), (0,2): 1/4, 1/2, 1/4),
    seed 1 then scoring 100, 50, 0 and seed 2 always 100. So the cell's replicate is 100 with probability
    1/16 + 1/8 + 1/4 = 7/16, 75 with 1/4, 50 with 1/8 + 1/8 = 1/4, 0 with 1/16: mean 75, interval [0, 100]."""
    scores = replicate_scores([accuracy_units([1, 0]), accuracy_units([1, 1])], 40_000, seed=5)
    cell = seed_mix(scores, draw_rng(5, "cell"))
    shares = {value: np.mean(cell == value) for value in (100.0, 75.0, 50.0, 0.0)}
    expected = {100.0: 7 / 16, 75.0: 1 / 4, 50.0: 1 / 4, 0.0: 1 / 16}
    assert sum(shares.values()) == 1.0
    for value, share in expected.items():
        assert shares[value] == pytest.approx(share, abs=0.01), value
    assert interval(cell) == (0.0, 100.0)
    assert cell.mean() == pytest.approx(75.0, abs=0.5)


def test_the_draws_are_fixed_by_the_seed_and_the_units_and_shared_by_runs_on_the_same_units():
    first = replicate_scores([accuracy_units([1, 0, 1, 1, 0])], 500, seed=0)
    assert np.array_equal(first, replicate_scores([accuracy_units([1, 0, 1, 1, 0])], 500, seed=0))
    assert not np.array_equal(first, replicate_scores([accuracy_units([1, 0, 1, 1, 0])], 500, seed=1))
    together = replicate_scores([accuracy_units([1, 0, 1, 1, 0]), accuracy_units([1, 0, 1, 1, 0])], 500, seed=0)
    assert np.array_equal(together[0], together[1]) and np.array_equal(together[0], first[0])
    with pytest.raises(ValueError, match="same units"):
        replicate_scores([accuracy_units([1, 0]), accuracy_units([1, 0], ids=("a", "b"))], 10, seed=0)


def test_p_values_holm_and_probability_of_improvement_by_hand():
    assert two_sided_p(np.array([1.0, 2.0, 3.0, -1.0])) == pytest.approx(2 * 2 / 5)  # one at or below 0: (1+1)/(4+1)
    assert two_sided_p(np.zeros(9)) == 1.0  # identical predictions: no evidence either way
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])  # 3 x 0.01; 2 x 0.03; max(0.06, 1 x 0.04)
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    # 3 x 2 pairs: 70 > 60, 65; 62 > 60, < 65; 60 = 60, < 65 -> (2 + 1 + 0.5) / 6
    assert probability_of_improvement([70, 62, 60], [60, 65]) == pytest.approx(3.5 / 6)
