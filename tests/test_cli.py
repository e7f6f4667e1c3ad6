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


def _text(output: str) -> str:
    """CLI output without rich's box borders and line wrapping."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize("prompt", ["", "   "])
def test_generate_refuses_a_blank_prompt(tiny_yaml, prompt):
    result = runner.invoke(app, ["generate", "--model", tiny_yaml, "--prompt", prompt])
    assert result.exit_code == 2
    assert "'--prompt' / '-p': must not be empty or whitespace only" in _text(result.output)


@pytest.mark.parametrize(
    ("command", "option", "value", "least"),
    [
        ("generate", "--max-new-tokens", "0", 1),
        ("generate", "--num-beams", "0", 1),
        ("generate", "--temperature", "-0.5", 0),
        ("generate", "--seed", "-1", 0),
        ("chat", "--max-new-tokens", "0", 1),
        ("chat", "--temperature", "-1", 0),
    ],
)
def test_numeric_options_refuse_out_of_range_values(tiny_yaml, command, option, value, least):
    args = [command, "--model", tiny_yaml, option, value] + (["--prompt", "q"] if command == "generate" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': Input should be greater than or equal to {least}" in _text(result.output)


def _commands(group, path=()):
    """Every command path of the click group behind the app."""
    for name, command in group.commands.items():
        yield from _commands(command, (*path, name)) if hasattr(command, "commands") else [(*path, name)]


def test_flags_show_no_value_type_in_help():
    import typer

    paths = list(_commands(typer.main.get_command(app)))
    assert ("data", "check") in paths and ("train",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path
    train_help = runner.invoke(app, ["train", "--help"]).output
    assert "--no-resume" in train_help and "<str>" in train_help  # value options keep their type
    strict = runner.invoke(app, ["data", "check", ".", "--strict", "true"])
    assert strict.exit_code == 2 and "unexpected extra argument(s) (true)" in _text(strict.output)  # no value


def test_help_documents_chat_commands_and_when_training_validates():
    chat = _text(runner.invoke(app, ["chat", "--help"]).output)
    assert "/image PATH" in chat and "/reset" in chat and "/quit" in chat
    train = _text(runner.invoke(app, ["train", "--help"]).output)
    assert "before the first step, every eval_every steps and after the last one" in train
    assert "batches of eval_batch_size" in train and "progress bar" in train
