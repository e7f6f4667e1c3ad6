"""Builders shared by the model tests."""

from __future__ import annotations

from instructvl.config.loader import validate
from instructvl.config.schema import ModelConfig
from instructvl.data.schema import Sample, Turn
from instructvl.models.vlm import VisionLanguageModel
from tests.tiny import model_config


def build(parts, head="instructblip-qformer", llm="llama", **extra) -> VisionLanguageModel:
    return VisionLanguageModel.build(validate(ModelConfig, model_config(parts, head, llm, **extra), "(test)"))


def samples(images) -> list[Sample]:
    """Three samples: one image, two images (video-like), and a two-turn conversation."""
    return [
        Sample("a", "d", [images[0]], [Turn("user", "what colour is the square?"), Turn("assistant", "red")]),
        Sample(
            "b",
            "d",
            [images[1], images[2]],
            [Turn("user", "describe the image."), Turn("assistant", "a small red square and a circle")],
        ),
        Sample(
            "c",
            "d",
            [images[2]],
            [
                Turn("user", "how many objects are there?"),
                Turn("assistant", "two"),
                Turn("user", "<image> what colour is the circle?"),
                Turn("assistant", "blue"),
            ],
        ),
    ]


def prompts(images) -> list[Sample]:
    """Prompt-only samples of different lengths (to exercise left padding)."""
    return [
        Sample("p0", "d", [images[0]], [Turn("user", "what colour is the square?")]),
        Sample(
            "p1", "d", [images[1]], [Turn("user", "describe the image. how many objects are there? answer yes or no")]
        ),
        Sample("p2", "d", [images[2], images[0]], [Turn("user", "picture")]),
    ]
