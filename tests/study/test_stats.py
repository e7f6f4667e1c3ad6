"""Mean / std over seeds, verdicts from intervals, claims decided on constructed cases, task types."""

import numpy as np
import pytest

from instructvl.eval.spec import all_specs
from instructvl.eval.uncertainty import TaskValues
from instructvl.study.report import fmt, fmt_diff
from instructvl.study.stats import measured_verdict, summarize, summarize_curve
from instructvl.study.task_types import task_type


def test_summary_equals_numpy_sample_statistics():
    values = [0.31, 0.47, 0.12, 0.5]
    s = summarize(values)
    assert s["mean"] == pytest.approx(np.mean(values)) and s["std"] == pytest.approx(np.std(values, ddof=1))
    assert s["n"] == 4 and s["values"] == values
    assert summarize([0.4, None, 0.6])["mean"] == pytest.approx(0.5) and summarize([0.4, None, 0.6])["n"] == 2
    assert summarize([0.7])["std"] is None and summarize([None]) is None
    curves = [[1.0, 2.0, 4.0], [3.0, 2.0, 0.0], [2.0, 5.0, 2.0]]
    c = summarize_curve(curves)
    assert c["mean"] == pytest.approx(np.mean(curves, axis=0).tolist())
    assert c["std"] == pytest.approx(np.std(curves, axis=0, ddof=1).tolist()) and c["n"] == 3


def test_a_verdict_reads_the_interval_against_zero_and_the_smallest_effect():
    assert measured_verdict([0.001, 0.05]) == "higher" and measured_verdict([-0.05, -0.001]) == "lower"
    assert measured_verdict([-0.015, 0.019]) == "same"  # inside +-2 points
    assert measured_verdict([-0.015, 0.025]) == "inconclusive"
    assert measured_verdict([-0.03, 0.03], min_effect=0.05) == "same" and measured_verdict(None) is None
    ref = {"mean": 0.55, "std": 0.05, "ci": [0.5, 0.6]}
    assert fmt(ref) == "55.0 ± 5.0 [50.0, 60.0]" and fmt(summarize([0.25])) == "25.0" and fmt(None) == "-"
    assert fmt_diff({"diff": 0.16, "ci": [0.1, 0.2], "verdict": "higher"}) == "+16.0 [+10.0, +20.0] higher"
    assert fmt_diff({"diff": 12.0}, 1, 0) == "+12"


def test_task_types_of_the_packaged_tasks():
    types = {name: task_type(spec.resolved()) for name, spec in all_specs().items()}
    synthvl = lambda kind: {n for n, t in types.items() if t == kind and not n.startswith("real")}  # noqa: E731
    assert synthvl("captioning") == {"coco-cap", "webcap", "textcaps", "nocaps", "flickr"}
    assert {n for n, t in types.items() if t == "binary classification"} == {
        "vsr",
        "memes",
        "real-vsr",
        "real-hatefulmemes",
    }
    assert synthvl("multiple choice") == {"aokvqa", "iconqa", "scienceqa"}
    assert synthvl("conversation") == {"visdial", "llava-conv", "llava-detail", "llava-reason"}
    assert types["gqa"] == types["msvd"] == types["textvqa"] == "open QA" and types["vqa-qg"] == "question generation"


def _runs(rng, accuracy: float, seeds: int = 3, n: int = 200, shared=None) -> list[TaskValues]:
    """`seeds` runs of one top-1 task on the same n samples; with `shared`, each run agrees
    with it except on a fraction `accuracy` of samples (a near-copy)."""
    ids = tuple(f"s{i}" for i in range(n))
    runs = []
    for _ in range(seeds):
        if shared is None:
            values = (rng.random(n) < accuracy).astype(float)
        else:
            values = shared.copy()
            flip = rng.random(n) < accuracy
            values[flip] = 1 - values[flip]
        runs.append(TaskValues("top1", ids, values))
    return runs


def test_claims_are_decided_by_the_paired_interval():
    from instructvl.study.aggregate import CellPairs, check_claim
    from instructvl.study.grid import Claim

    rng = np.random.default_rng(0)
    base = (rng.random(200) < 0.5).astype(float)
    better = np.where(rng.random(200) < 0.3, 1.0, base)  # base plus ~15 points
    task_values = {
        "strong": {"t": _runs(rng, 0.0, shared=better)},
        "base": {"t": _runs(rng, 0.0, shared=base)},
        "twin": {"t": _runs(rng, 0.0, shared=base.copy())},  # the same answers: difference exactly 0
        "noisy": {"t": _runs(rng, 0.5, n=12)},  # 12 samples: cannot tell
        "lone": {"t": _runs(rng, 0.0, seeds=1, shared=better)},
    }
    info = {"t": {"group": "held-out", "type": "open QA"}}

    def claim(cell, versus, expect="higher", measure="groups.held-out", min_effect=0.02):
        c = Claim(
            claim="x", source="y", cell=cell, versus=versus, measure=measure, expect=expect, min_effect=min_effect
        )
        return check_claim(c, CellPairs(task_values), info)

    agrees = claim("strong", "base")
    assert agrees["verdict"] == "agrees" and agrees["difference"]["diff"] == pytest.approx(better.mean() - base.mean())
    assert agrees["difference"]["ci"][0] > 0 and agrees["samples_to_decide"] is None
    assert claim("base", "strong")["verdict"] == "disagrees"
    assert claim("twin", "base")["verdict"] == "no difference"
    assert claim("twin", "base", expect="same")["verdict"] == "agrees"
    assert claim("strong", "base", expect="same")["verdict"] == "disagrees (higher)"
    noisy = claim("noisy", "base", measure="tasks.t")
    assert noisy["verdict"] == "inconclusive" and noisy["difference"]["n"] == 12
    assert noisy["difference"]["mde"] > 0.02 and noisy["samples_to_decide"] > 12
    assert claim("lone", "base", measure="task_types.open QA")["verdict"] == "agrees"  # one seed: samples only
    assert claim("strong", "missing")["verdict"] == "not measured"
    assert claim("strong", "base", measure="groups.held-in")["verdict"] == "not measured"
