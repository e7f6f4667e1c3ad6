"""The SynthVL dataset registry: one declarative table, the source of truth.

name -> category, held-in / held-out, metric, output type (generate or rank), template
task type, generator, and a size factor (webcap is the large web set).
"""

from __future__ import annotations

from dataclasses import dataclass

from instructvl.data.synthvl import (
    captioning,
    classification,
    dialog,
    image_qa,
    knowledge,
    llava,
    question_gen,
    reading_qa,
    reasoning,
    text_captioning,
    video,
)
from instructvl.data.synthvl.qa import Generator
from instructvl.errors import InstructVLError

HELD_IN, HELD_OUT = "held-in", "held-out"


@dataclass(frozen=True)
class DatasetSpec:
    """One SynthVL dataset: what it is, how it is scored, and how it is made."""

    name: str
    category: str
    split: str  # HELD_IN or HELD_OUT
    metric: str  # a name in instructvl.eval.metrics.METRICS
    output: str  # "generate" or "rank"
    task: str  # template task type (a YAML file under data/templates/)
    generator: Generator
    size_factor: float = 1.0

    @property
    def held_out(self) -> bool:
        """True for zero-shot evaluation sets."""
        return self.split == HELD_OUT

    @property
    def data_splits(self) -> tuple[str, ...]:
        """The JSONL splits written: train and val for held-in sets, test and dev (the
        majority baseline's, never scored) for held-out ones."""
        return ("test", "dev") if self.held_out else ("train", "val")


_S = DatasetSpec
DATASETS: tuple[DatasetSpec, ...] = (
    # image captioning
    _S("coco-cap", "image captioning", HELD_IN, "cider", "generate", "caption", captioning.gen_coco_cap),
    _S("webcap", "image captioning", HELD_IN, "cider", "generate", "caption", captioning.gen_webcap, 3.0),
    _S("nocaps", "image captioning", HELD_OUT, "cider", "generate", "caption", captioning.gen_nocaps),
    _S("flickr", "image captioning", HELD_OUT, "cider", "generate", "caption", captioning.gen_flickr),
    # captioning with reading comprehension
    _S("textcaps", "captioning with reading", HELD_IN, "cider", "generate", "caption", text_captioning.gen_textcaps),
    # visual reasoning (held out)
    _S("gqa", "visual reasoning", HELD_OUT, "top1", "generate", "vqa", reasoning.gen_gqa),
    _S("vsr", "visual reasoning", HELD_OUT, "top1", "rank", "true_false", reasoning.gen_vsr),
    _S("iconqa", "visual reasoning", HELD_OUT, "top1", "rank", "mcq", reasoning.gen_iconqa),
    # image QA
    _S("vqa", "image QA", HELD_IN, "vqa_accuracy", "generate", "vqa", image_qa.gen_vqa),
    _S("vizwiz", "image QA", HELD_OUT, "vqa_accuracy", "generate", "vqa", image_qa.gen_vizwiz),
    # knowledge-grounded QA
    _S("okvqa", "knowledge-grounded QA", HELD_IN, "vqa_accuracy", "generate", "vqa", knowledge.gen_okvqa),
    _S("aokvqa", "knowledge-grounded QA", HELD_IN, "top1", "rank", "mcq", knowledge.gen_aokvqa),
    _S("scienceqa", "knowledge-grounded QA", HELD_OUT, "top1", "rank", "mcq", knowledge.gen_scienceqa),
    # QA with reading comprehension
    _S("ocrvqa", "QA with reading", HELD_IN, "top1", "generate", "vqa", reading_qa.gen_ocrvqa),
    _S("textvqa", "QA with reading", HELD_OUT, "top1", "generate", "vqa", reading_qa.gen_textvqa),
    # question generation
    _S("vqa-qg", "question generation", HELD_IN, "cider", "generate", "qg", question_gen.gen_vqa_qg),
    _S("okvqa-qg", "question generation", HELD_IN, "cider", "generate", "qg", question_gen.gen_okvqa_qg),
    _S("aokvqa-qg", "question generation", HELD_IN, "cider", "generate", "qg", question_gen.gen_aokvqa_qg),
    # video QA (held out)
    _S("msvd", "video QA", HELD_OUT, "top1", "generate", "video_qa", video.gen_msvd),
    _S("msrvtt", "video QA", HELD_OUT, "top1", "generate", "video_qa", video.gen_msrvtt),
    _S("ivqa", "video QA", HELD_OUT, "ivqa_accuracy", "generate", "video_qa", video.gen_ivqa),
    # visual dialog (held out)
    _S("visdial", "visual dialog", HELD_OUT, "mrr", "rank", "dialog", dialog.gen_visdial),
    # image classification (held out)
    _S("memes", "image classification", HELD_OUT, "auc", "rank", "classify", classification.gen_memes),
    # LLaVA-Instruct-like
    _S("llava-conv", "LLaVA-Instruct", HELD_IN, "cider", "generate", "conversation", llava.gen_llava_conv),
    _S("llava-detail", "LLaVA-Instruct", HELD_IN, "cider", "generate", "detail", llava.gen_llava_detail),
    _S("llava-reason", "LLaVA-Instruct", HELD_IN, "cider", "generate", "reasoning", llava.gen_llava_reason),
)
REGISTRY: dict[str, DatasetSpec] = {d.name: d for d in DATASETS}


def get_spec(name: str) -> DatasetSpec:
    """The spec of dataset `name`; an unknown name is an `InstructVLError` listing the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise InstructVLError(f"unknown SynthVL dataset {name!r}; known: {', '.join(REGISTRY)}") from None


def held_in_names() -> list[str]:
    """Names of the 13 held-in (training) datasets."""
    return [d.name for d in DATASETS if not d.held_out]


def held_out_names() -> list[str]:
    """Names of the 13 held-out (zero-shot evaluation) datasets."""
    return [d.name for d in DATASETS if d.held_out]
