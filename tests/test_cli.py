"""The command line on a tiny model: info, generate, chat."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from instructvl.cli import _register, app
from tests.tiny import model_config

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_yaml(tiny_parts, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(model_config(tiny_parts)))))
    return str(path)


def test_info(tiny_yaml):
    result = runner.invoke(app, ["info", tiny_yaml])
    assert result.exit_code == 0, result.output
    assert "instructblip-qformer" in result.output and "4 visual" in result.output
    assert "LlamaForCausalLM" in result.output and "trainable" in result.output


def test_generate_with_image(tiny_yaml, images):
    result = runner.invoke(
        app,
        ["generate", "--model", tiny_yaml, "--image", images[0], "--prompt", "what colour?", "--max-new-tokens", "3"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() != ""


def test_generate_missing_image_is_a_clear_error(tiny_yaml, tmp_path):
    result = runner.invoke(app, ["generate", "--model", tiny_yaml, "--image", str(tmp_path / "x.png"), "--prompt", "q"])
    assert "image file not found" in str(result.exception)


def test_chat_keeps_history_and_survives_errors(tiny_yaml, images, tmp_path):
    script = f"/image {images[0]}\nwhat colour is the square?\n/image {tmp_path}/missing.png\nhow many?\n/quit\n"
    result = runner.invoke(app, ["chat", "--model", tiny_yaml, "--max-new-tokens", "2"], input=script)
    assert result.exit_code == 0, result.output
    assert result.output.count("model>") == 2
    assert "image file not found" in result.output
