"""Mean / std over seeds, the "no difference" rule, task types."""

import numpy as np
import pytest

from instructvl.eval.spec import all_specs
from instructvl.study.report import fmt, fmt_diff
from instructvl.study.stats import difference, summarize, summarize_curve
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


def test_a_difference_within_the_spread_is_no_difference():
    ref = summarize([0.50, 0.60, 0.55])  # std 0.05
    assert difference(summarize([0.58, 0.60, 0.59]), ref)["verdict"] == "no difference"  # +0.04 < 0.05
    higher = difference(summarize([0.70, 0.72, 0.71]), ref)
    assert (
        higher["verdict"] == "higher"
        and higher["diff"] == pytest.approx(0.16)
        and higher["spread"] == pytest.approx(0.05)
    )
    assert difference(summarize([0.30, 0.30, 0.30]), ref)["verdict"] == "lower"
    # the larger of the two spreads counts
    assert difference(summarize([0.3, 0.9, 0.6]), ref)["verdict"] == "no difference"
    assert difference(summarize([0.9]), summarize([0.5]))["verdict"] == "spread unknown"
    assert difference(summarize([0.5]), summarize([0.5]))["verdict"] == "no difference"
    assert fmt(ref) == "55.0 ± 5.0" and fmt(summarize([0.25])) == "25.0" and fmt(None) == "-"
    assert (
        fmt_diff(higher) == "+16.0"
        and fmt_diff(difference(summarize([0.58, 0.60, 0.59]), ref)) == "no difference (+4.0)"
    )


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


def test_a_claim_agrees_or_disagrees_only_beyond_the_spread():
    from instructvl.study.aggregate import check_claim
    from instructvl.study.grid import Claim

    cells = {
        "a": {"groups": {"held-out": summarize([0.70, 0.72, 0.71])}},
        "b": {"groups": {"held-out": summarize([0.50, 0.60, 0.55])}},
        "c": {"groups": {"held-out": summarize([0.58, 0.60, 0.59])}},
        "lone": {"groups": {"held-out": summarize([0.9])}},
    }

    def verdict(higher, lower, measure="groups.held-out", expect="higher"):
        return check_claim(
            Claim(claim="x", source="y", cell=higher, versus=lower, measure=measure, expect=expect), cells
        )

    agrees = verdict("a", "b")
    assert agrees["verdict"] == "agrees" and agrees["difference"]["diff"] == pytest.approx(0.16)
    assert verdict("b", "a")["verdict"] == "disagrees"
    assert verdict("c", "b")["verdict"] == "no difference"  # +0.04 < the spread 0.05
    assert verdict("lone", "b")["verdict"] == "spread unknown (one seed)"
    assert verdict("a", "missing")["verdict"] == "not measured"
    assert verdict("a", "b", "groups.held-in")["verdict"] == "not measured"
    assert verdict("c", "b", expect="same")["verdict"] == "agrees"
    assert verdict("a", "b", expect="same")["verdict"] == "disagrees (higher)"
