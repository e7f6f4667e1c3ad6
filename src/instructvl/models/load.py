"""One entry for every command: a saved model directory, a preset name or a YAML file."""

from __future__ import annotations

from pathlib import Path

from instructvl.config.loader import MODEL_CONFIG_FILE, load_model_config
from instructvl.models.vlm import VisionLanguageModel


def load_model(name_or_path: str, overrides: list[str] | None = None) -> VisionLanguageModel:
    """A saved model (directory with config.json and weights) is reloaded exactly; a preset
    or YAML config is built fresh (pretrained parts loaded, the rest initialised); a
    transformers InstructBLIP / BLIP-2 / LLaVA checkpoint folder is converted on the fly."""
    from instructvl.models.interop.hf import from_transformers, is_transformers_checkpoint

    path = Path(name_or_path)
    if is_transformers_checkpoint(path):
        return from_transformers(path)
    if path.is_dir() and (path / MODEL_CONFIG_FILE).is_file():
        return VisionLanguageModel.from_pretrained(path, overrides)
    return VisionLanguageModel.build(load_model_config(name_or_path, overrides))
