"""The scene-description oracle: what perfect perception gives the language model.

Each prepared prompt loses its images and gets, at the start of its first user turn
(where the collator puts the image when no marker says otherwise), one line
"Image description: <the SynthVL scene in words>" ("Video description: ..." for a
clip). The rest of the prompt is the text-only baseline's, token for token, so the
oracle and the text-only runs differ only by that line. Only SynthVL tasks have
scenes: a real benchmark, or a sample without `metadata["scene"]`, is refused.
"""

from __future__ import annotations

import dataclasses

from instructvl.data.schema import Sample, Turn
from instructvl.data.synthvl.scene_text import describe_scene
from instructvl.errors import InstructVLError
from instructvl.eval.infer import strip_images
from instructvl.eval.spec import SynthVLSource, TaskSpec

ORACLES = ("scene",)


def check_oracle(oracle: str, specs: list[TaskSpec]) -> None:
    """Refuses an unknown oracle, and any task whose samples have no SynthVL scene."""
    if oracle not in ORACLES:
        raise InstructVLError(f"unknown oracle {oracle!r}; oracles: {', '.join(ORACLES)}")
    real = [s.name for s in specs if not isinstance(s.source, SynthVLSource)]
    if real:
        raise InstructVLError(
            f"the scene oracle needs SynthVL scenes; task(s) {', '.join(real)} read a real benchmark, which has none"
        )


def oracle_prompt(spec: TaskSpec, sample: Sample) -> Sample:
    """`sample` without its images, its scene described in front of its first user turn."""
    scene = sample.metadata.get("scene")
    if scene is None:
        raise InstructVLError(f"task {spec.name}: sample {sample.id} has no metadata['scene'] for the scene oracle")
    label = "Video description" if len(sample.images) > 1 else "Image description"
    text = strip_images(sample)
    turns = list(text.turns)
    first = next(i for i, t in enumerate(turns) if t.role == "user")
    turns[first] = Turn("user", f"{label}: {describe_scene(scene)}\n{turns[first].content}".strip())
    return dataclasses.replace(text, turns=turns)


def oracle_prompts(spec: TaskSpec, samples: list[Sample]) -> list[Sample]:
    """Every prepared sample of `spec` as its scene-oracle prompt (all checked first)."""
    return [oracle_prompt(spec, s) for s in samples]
