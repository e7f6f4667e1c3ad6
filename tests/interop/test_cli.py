"""`instructvl import` and `instructvl export` round trip, and the saved import reloads."""

import json

import torch
from typer.testing import CliRunner

from instructvl.cli import _register, app
from instructvl.models.load import load_model

_register()
runner = CliRunner()


def test_import_then_export_round_trip(hf_checkpoints, tmp_path):
    from transformers import Blip2ForConditionalGeneration

    source = hf_checkpoints["blip2-opt"]
    result = runner.invoke(app, ["import", str(source), "--out", str(tmp_path / "iv")])
    assert result.exit_code == 0, result.output
    saved = load_model(str(tmp_path / "iv"))
    direct = load_model(str(source))  # a transformers folder is converted on the fly
    for (name, a), b in zip(direct.state_dict().items(), saved.state_dict().values()):
        assert torch.equal(a, b), name
    result = runner.invoke(
        app, ["export", "--model", str(tmp_path / "iv"), "--format", "blip2", "--out", str(tmp_path / "hf")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["format"] == "blip2"
    back = Blip2ForConditionalGeneration.from_pretrained(tmp_path / "hf")
    assert torch.equal(back.query_tokens, saved.head.query_tokens)


def test_export_refusal_is_a_clean_error(hf_checkpoints, tmp_path):
    result = runner.invoke(
        app,
        ["export", "--model", str(hf_checkpoints["llava"]), "--format", "instructblip", "--out", str(tmp_path / "x")],
    )
    assert result.exit_code != 0
    assert "head: a 'mlp' head has no equivalent in InstructBLIP" in str(result.exception)
