"""Typed configs, named presets, YAML load/dump and `key=value` overrides."""

from instructvl.config.loader import apply_overrides, list_presets, load_model_config
from instructvl.config.schema import (
    FreezePolicy,
    HeadConfig,
    LanguageConfig,
    LoraSettings,
    ModelConfig,
    VisionConfig,
)

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
