"""Bootstrap intervals on toy predictions with known answers: coverage at the stated
rate, paired narrower than unpaired, AUC recomputed exactly, seeds widen the interval."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from instructvl.eval.uncertainty import (
    POWER_Z,
    TaskValues,
    cell_replicates,
    interval,
    paired_difference,
    run_interval,
    sample_draws,
    seed_draws,
    statistic,
)


def _values(name: str, values, ids=None, labels=None) -> TaskValues:
    ids = tuple(ids or (f"s{i}" for i in range(len(values))))
    return TaskValues(name, ids, np.asarray(values, dtype=float), None if labels is None else np.asarray(labels))


def test_the_interval_covers_the_true_accuracy_at_about_the_stated_rate():
    rng = np.random.default_rng(1)
    truth, n, trials = 0.6, 100, 300
    covered = 0
    for trial in range(trials):
        values = _values("top1", rng.random(n) < truth)
        lo, hi = run_interval(f"task-{trial}", values)["ci"]
        covered += lo <= truth <= hi
    assert 0.91 <= covered / trials <= 0.98


def test_a_paired_difference_is_narrower_than_an_unpaired_one_on_shared_samples():
    rng = np.random.default_rng(2)
    a = rng.random(200) < 0.6
    b = a.copy()
    flip = rng.random(200) < 0.1
    b[flip] = ~b[flip]  # B agrees with A on most samples
    run_a, run_b = _values("top1", a), _values("top1", b)
    paired = paired_difference({"t": [run_a]}, {"t": [run_b]}, ("a", "b"))["tasks"]["t"]
    unpaired = cell_replicates("t", "a", [run_a], run_a.ids, 1) - cell_replicates("t-other", "b", [run_b], run_b.ids, 1)
    lo, hi = interval(unpaired)
    assert paired["diff"] == pytest.approx(a.mean() - b.mean())
    assert paired["ci"][1] - paired["ci"][0] < 0.5 * (hi - lo)
    assert paired["mde"] == pytest.approx(POWER_Z * paired["se"]) and paired["n"] == 200


def test_auc_is_recomputed_from_the_resampled_pairs():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 60)
    scores = np.round(labels * 0.3 + rng.random(60), 1)  # ties included
    assert float(statistic("auc", scores, labels)) == pytest.approx(roc_auc_score(labels, scores))
    lo, hi = run_interval("memes", _values("auc", scores, labels=labels))["ci"]
    assert lo < roc_auc_score(labels, scores) < hi
    assert np.isnan(statistic("auc", np.array([0.1, 0.2]), np.array([1, 1])))


def test_draws_are_fixed_per_task_so_runs_are_paired():
    assert np.array_equal(sample_draws("vqa", 10, 1, resamples=5), sample_draws("vqa", 10, 1, resamples=5))
    assert not np.array_equal(sample_draws("vqa", 10, 1, resamples=5), sample_draws("gqa", 10, 1, resamples=5))
    assert not seed_draws("vqa", "one", 1, 2, resamples=5).any()


def test_several_seeds_widen_the_interval_by_their_spread():
    rng = np.random.default_rng(4)
    base = rng.random(100)
    seeds = [_values("cider", base + shift) for shift in (0.0, 0.2, 0.4)]
    one = interval(cell_replicates("cap", "c", seeds[:1], seeds[0].ids, 1))
    three = interval(cell_replicates("cap", "c", seeds, seeds[0].ids, 3))
    assert three[1] - three[0] > 1.5 * (one[1] - one[0])
    assert three[0] < base.mean() + 0.2 < three[1]


def test_a_paired_average_covers_the_tasks_both_runs_have():
    a = {"x": [_values("top1", [1, 1, 0, 1])], "y": [_values("top1", [1, 0, 0, 0])]}
    b = {"x": [_values("top1", [0, 1, 0, 1])], "z": [_values("top1", [1, 1, 1, 1])]}
    result = paired_difference(a, b, ("a", "b"))
    assert set(result["tasks"]) == {"x"} and result["average"]["diff"] == pytest.approx(0.25)
    shifted = {"x": [_values("top1", [1, 1], ids=["s9", "s1"])]}
    assert paired_difference(a, shifted, ("a", "b"))["tasks"]["x"]["n"] == 1  # only s1 is shared
