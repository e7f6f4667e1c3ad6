"""What one prepared sample gives the judge: the image in words, the question and the
reference answer."""

from __future__ import annotations

from instructvl.data.schema import IMAGE_MARKER, Sample
from instructvl.data.synthvl.scene_text import describe_scene
from instructvl.errors import InstructVLError
from instructvl.eval.spec import TaskSpec
from instructvl.eval.targets import gold_text
from instructvl.study.task_types import task_type


def image_description(spec: TaskSpec, sample: Sample) -> str | None:
    """The image in words: the SynthVL scene as the oracle renders it, else the sample's
    captions (`metadata["captions"]` / `["caption"]`, or a captioning task's references);
    None when the sample has neither."""
    meta = sample.metadata
    if meta.get("scene") is not None:
        return describe_scene(meta["scene"])
    captions = meta.get("captions") or meta.get("caption")
    if isinstance(captions, str):
        return captions
    if captions:
        return "\n".join(captions)
    if task_type(spec.resolved()) == "captioning" and sample.references:
        return "\n".join(sample.references)
    return None


def question(sample: Sample) -> str:
    """What the model was asked: its last user turn, without image markers."""
    user = [t.content for t in sample.turns if t.role == "user"]
    return user[-1].replace(IMAGE_MARKER, "").strip() if user else ""


def judge_inputs(spec: TaskSpec, sample: Sample) -> tuple[str, str, str]:
    """(description, question, reference answer) of one sample; an error naming the task
    and sample when it lacks a description or a reference."""
    description = image_description(spec, sample)
    if description is None:
        raise InstructVLError(
            f"task {spec.name}: sample {sample.id} has no image description for the judge "
            "(a SynthVL scene, or captions in metadata['captions'])"
        )
    reference = gold_text(spec, sample)
    if reference is None:
        raise InstructVLError(f"task {spec.name}: sample {sample.id} has no reference answer for the judge")
    return description, question(sample), reference
