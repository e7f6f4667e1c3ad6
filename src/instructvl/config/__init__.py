"""Typed configs, named presets, YAML load/dump and `key=value` overrides."""

from instructvl.config.schema import (
    FreezePolicy,
    HeadConfig,
    LanguageConfig,
    LoraSettings,
    ModelConfig,
    VisionConfig,
)
from instructvl.config.loader import load_model_config, apply_overrides, list_presets

__all__ = [
    "FreezePolicy",
    "HeadConfig",
    "LanguageConfig",
    "LoraSettings",
    "ModelConfig",
    "VisionConfig",
    "load_model_config",
    "apply_overrides",
    "list_presets",
]
