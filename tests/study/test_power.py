"""The dry-run's planned power per claim (study.power): the formula on known values, the
samples that reach d, and the claims table in the plan."""

import math

import pytest

from instructvl.eval.uncertainty import POWER_Z
from instructvl.study.power import planned_mde, samples_for_effect, samples_text


def test_planned_mde_is_2_8_standard_errors_of_the_paired_design():
    # 4 tasks x 100 samples, sd 0.4: sample variance 0.16 / 16 * 4 / 100 = 4e-4; seeds 2 x 0.02^2 / 4 = 2e-4
    assert planned_mde([100] * 4, seeds=4, sample_sd=0.4, seed_sd=0.02) == pytest.approx(POWER_Z * math.sqrt(6e-4))


def test_more_seeds_do_not_shrink_the_sample_part():
    without_seed_noise = [planned_mde([50] * 13, seeds=k, sample_sd=0.4, seed_sd=0.0) for k in (1, 3, 10)]
    assert without_seed_noise[0] == pytest.approx(without_seed_noise[2])
    with_seed_noise = [planned_mde([50] * 13, seeds=k, sample_sd=0.4, seed_sd=0.03) for k in (1, 3, 10)]
    assert with_seed_noise[0] > with_seed_noise[1] > with_seed_noise[2] > without_seed_noise[0]


def test_samples_for_effect_inverts_the_mde():
    n = samples_for_effect(tasks=13, seeds=5, min_effect=0.03, sample_sd=0.4, seed_sd=0.01)
    assert planned_mde([n] * 13, 5, 0.4, 0.01) <= 0.03 < planned_mde([n - 1] * 13, 5, 0.4, 0.01)


def test_seed_noise_beyond_d_cannot_be_reached_by_samples():
    # 2.8 * sqrt(2 * 0.03^2 / 2) = 8.4 points > d = 3 points
    assert samples_for_effect(tasks=13, seeds=2, min_effect=0.03, sample_sd=0.4, seed_sd=0.03) is None


def test_samples_text():
    assert samples_text([100] * 13) == "13 x 100"
    assert samples_text([64, 100, 128]) == "3 x 64-128"
    assert samples_text([None, None]) == "2 x all"
    assert samples_text([8, None]) == "2 x 8 (+ uncapped)"


def test_dry_run_shows_each_claims_planned_power(tmp_path):
    from instructvl.study.expand import plan_study
    from instructvl.study.plan import plan_text

    text = plan_text(plan_study("instructblip-ablations", out=str(tmp_path / "s")))
    # 13 held-out tasks x 8 samples, 3 seeds, default sd 0.4 / 0.02
    mde = 100 * planned_mde([8] * 13, 3, 0.4, 0.02)
    row = f"| instruction-aware features help held-out | groups.held-out | 13 x 8 | 3 | 2.0 | {mde:.1f} | no | - | - |"
    assert row in text
    assert "per-sample sd of the paired difference of 0.4 and a seed sd of 0.02" in text
