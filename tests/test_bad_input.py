"""Bad input gets a clear error naming the file or key, never a deep traceback."""

import subprocess
import sys

import pytest

from instructvl.errors import InstructVLError
from instructvl.models.sources import resolve
from instructvl.models.vision import load_image


def test_missing_image(tmp_path):
    with pytest.raises(InstructVLError, match=f"image file not found: {tmp_path}/nope.png"):
        load_image(tmp_path / "nope.png")


def test_corrupt_image(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(InstructVLError, match="cannot read image .*bad.png"):
        load_image(bad)


def test_missing_gguf_and_checkpoint_paths(tmp_path):
    with pytest.raises(InstructVLError, match="file or directory not found: /nowhere/model.gguf"):
        resolve("/nowhere/model.gguf")
    with pytest.raises(InstructVLError, match="not installed"):
        resolve("pkg:no_such_package_xyz/file.gguf")


def test_saved_model_dir_without_config(tmp_path):
    from instructvl.models.load import load_model

    with pytest.raises(InstructVLError, match="not a saved instructvl model"):
        load_model(str(tmp_path))


def test_command_line_prints_a_clean_error(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", "from instructvl.cli import main; main()", "info", "no-such-preset"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "error: unknown preset or path 'no-such-preset'" in run.stderr
    assert "Traceback" not in run.stderr
