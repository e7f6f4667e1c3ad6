"""What a results folder records about its model: a text-only run keys on the language
model alone, so retrained connectors share one text-only baseline."""

import subprocess
from pathlib import Path

import torch

from instructvl.eval.provenance import model_record
from instructvl.provenance import describe, environment


def test_text_only_record_ignores_everything_but_an_untouched_language_model(model, tmp_path):
    first = model.save_pretrained(tmp_path / "first")
    head = next(model.head.parameters())
    saved = head.detach().clone()
    with torch.no_grad():
        head.add_(1.0)
    try:
        second = model.save_pretrained(tmp_path / "second")
    finally:
        with torch.no_grad():
            head.copy_(saved)
    with_image = [model_record(model, str(d))["config_hash"] for d in (first, second)]
    text_only = [model_record(model, str(d), no_image=True) for d in (first, second)]
    assert with_image[0] != with_image[1]
    assert text_only[0]["config_hash"] == text_only[1]["config_hash"]
    assert set(text_only[0]["config"]) == {"llm"} and text_only[0]["text_only"] is True


def test_text_only_record_of_a_trained_language_model_keeps_its_weights(model, tmp_path):
    key = next(name for name, _ in model.named_parameters() if name.startswith("llm."))
    model.trained_keys.add(key)
    try:
        saved = model.save_pretrained(tmp_path / "tuned")
        record = model_record(model, str(saved), no_image=True)
    finally:
        model.trained_keys.discard(key)
    untouched = model_record(model, str(saved), no_image=True)
    assert "weights" in record and "text_only" not in record
    assert record["config_hash"] != untouched["config_hash"]


def test_the_environment_names_the_running_commit_and_describes_itself():
    repo = Path(__file__).resolve().parents[2]
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=repo).stdout.strip()
    env = environment()
    assert env["git"]["commit"] == head and isinstance(env["git"]["dirty"], bool)
    line = describe(env)
    assert line.startswith(f"commit {head[:10]}") and f"torch {torch.__version__}" in line
    assert describe({"packages": {"torch": "2.0"}, "git": None}) == "commit unknown; torch 2.0"
    assert describe(None) == "environment not recorded"
