"""run_analysis: the registry, and each analysis end to end on a tiny model."""

import json

import pytest
from typer.testing import CliRunner

from instructvl.analysis import ANALYSES, run_analysis
from instructvl.analysis.interventions import DEFAULT_QUESTIONS
from instructvl.cli import _register, app
from instructvl.errors import InstructVLError


def test_unknown_analysis_lists_the_valid_ones(model, tmp_path):
    with pytest.raises(InstructVLError, match="unknown analysis 'probe'; choose one of probes, interventions"):
        run_analysis("probe", model, tmp_path, tmp_path, seed=0, scale=1.0)
    assert set(ANALYSES) == {"probes", "interventions"}


def test_scale_must_be_positive(model, scene_suite, tmp_path):
    with pytest.raises(InstructVLError, match="scale must be positive"):
        run_analysis("probes", model, scene_suite, tmp_path, seed=0, scale=0)


def test_too_many_images_asked_is_a_clear_error(model, scene_suite, tmp_path):
    with pytest.raises(InstructVLError, match="needs 3000 images"):
        run_analysis("probes", model, scene_suite, tmp_path, seed=0, scale=10)


def test_probes_end_to_end(model_k2, scene_suite, tmp_path):
    result = run_analysis("probes", model_k2, scene_suite, tmp_path, seed=0, scale=0.12)
    assert result["n_train"] + result["n_test"] == 36
    saved = json.loads((tmp_path / "probes.json").read_text())
    assert saved["inject_layer"] == 2 and saved["num_layers"] == 4
    for curves in saved["accuracy"].values():
        for attribute, curve in curves.items():
            assert len(curve) == 5
            # below the injection layer every feature is the same: the majority class
            assert curve[0] == curve[1] == pytest.approx(saved["majority"][attribute])
    assert (tmp_path / "probes.png").stat().st_size > 0 and "| feature |" in (tmp_path / "probes.md").read_text()


def test_interventions_end_to_end(model, scene_suite, tmp_path):
    result = run_analysis("interventions", model, scene_suite, tmp_path, seed=0, scale=0.25, window=2)
    assert result["n_questions"] == round(DEFAULT_QUESTIONS * 0.25)
    assert [w["layers"] for w in result["windows"]] == [[0, 1], [2, 3]]
    assert set(result["reference"]) == {"unmodified", "no image", "all layers cut"}
    for w in result["windows"]:
        assert w["drop"] == pytest.approx(result["reference"]["unmodified"]["accuracy"] - w["accuracy"])
    assert json.loads((tmp_path / "interventions.json").read_text())["window"] == 2
    assert (tmp_path / "interventions.png").stat().st_size > 0


def test_cli_help_and_name_check():
    _register()
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", "--help"])
    assert result.exit_code == 0 and "interventions" in result.output and "--window" in result.output
    result = runner.invoke(app, ["analyze", "nope"])
    assert "unknown analysis 'nope'" in str(result.exception)
    result = runner.invoke(app, ["analyze", "probes", "--window", "3"])
    assert "--window applies to `analyze interventions` only" in str(result.exception)


def test_small_scales_keep_a_floor_of_samples(model, scene_suite, tmp_path):
    """round(24 x 0.01) is 0 questions: a study at a small scale must still run."""
    result = run_analysis("interventions", model, scene_suite, tmp_path, seed=0, scale=0.01, window=4)
    assert result["n_questions"] == 3
