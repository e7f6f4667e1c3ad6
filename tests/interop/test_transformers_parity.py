"""Parity with transformers: a tiny random checkpoint of each family loaded into
instructvl gives the same prompt ids, pixels, logits (max abs difference < 1e-4) and
greedy tokens as the transformers class with its processor."""

import pytest
import torch

from instructvl.data.schema import Sample, Turn
from instructvl.models.interop import from_transformers
from instructvl.models.vision import load_image
from tests.interop.checkpoints import FAMILIES, hf_class

QUESTION = "what colour is the square?"
TOLERANCE = 1e-4


def hf_prompt(family: str) -> str:
    """The prompt as each family's documentation writes it for its processor."""
    return f"USER: <image>\n{QUESTION} ASSISTANT:" if family == "llava" else QUESTION


def hf_logits(hf, inputs, decoder_input_ids):
    with torch.no_grad():
        if decoder_input_ids is None:
            return hf(**inputs).logits
        return hf(**inputs, decoder_input_ids=decoder_input_ids).logits


def compare(ours, hf, processor, family: str, image: str) -> dict:
    """Checks inputs, logits and greedy tokens of `ours` against `hf`; returns the numbers."""
    batch = ours.collator().prompt_batch([Sample("s", "vqa", [image], [Turn("user", QUESTION)])])
    inputs = processor(images=[load_image(image)], text=hf_prompt(family), return_tensors="pt")
    assert batch.input_ids.tolist() == inputs["input_ids"].tolist()
    assert torch.allclose(batch.pixel_values, inputs["pixel_values"], atol=1e-6)
    if "qformer_input_ids" in inputs:
        assert batch.instruction_ids.tolist() == inputs["qformer_input_ids"].tolist()
    seq2seq = ours.llm.is_seq2seq
    decoder = torch.tensor([[ours.llm.model.config.decoder_start_token_id, 20, 30, 40]]) if seq2seq else None
    with torch.no_grad():
        got = ours.logits(batch, decoder)
    diff = float((got - hf_logits(hf, inputs, decoder)).abs().max())
    assert diff < TOLERANCE, diff
    ref = hf.generate(**inputs, max_new_tokens=8, do_sample=False, eos_token_id=-1)
    ref = ref[:, 1:] if seq2seq else ref[:, inputs["input_ids"].shape[1] :]
    assert ours.generate(batch, max_new_tokens=8, eos_token_id=-1) == ref.tolist()
    return {"max_abs_logit_diff": diff, "tokens": ref.tolist()[0]}


@pytest.mark.parametrize("family", FAMILIES)
def test_loaded_checkpoint_matches_transformers(hf_checkpoints, images, family):
    from transformers import AutoProcessor

    folder = hf_checkpoints[family]
    ours = from_transformers(folder)
    hf = hf_class(family).from_pretrained(folder).eval()
    result = compare(ours, hf, AutoProcessor.from_pretrained(folder), family, images[0])
    print(f"\n{family}: {result}")


@pytest.mark.parametrize("family", ["instructblip-llama", "llava"])
def test_imported_model_trains_on_the_answer_only(hf_checkpoints, images, family):
    """Processor-style tokenisation keeps per-turn targets: only the answer (and its EOS)
    is labelled, and the prompt part equals the prompt batch."""
    from instructvl.data.collate import IGNORE

    model = from_transformers(hf_checkpoints[family])
    collator = model.collator()
    sample = Sample("s", "vqa", [images[0]], [Turn("user", QUESTION), Turn("assistant", "red")])
    batch = collator.train_batch([sample])
    tok = model.llm.tokenizer
    targets = [t for t in batch.labels[0].tolist() if t != IGNORE]
    assert tok.decode(targets) == model.formatter.segments([Turn("user", "?"), Turn("assistant", "red")])[-1].text
    prompt = collator.prompt_batch([Sample("s", "vqa", [images[0]], [Turn("user", QUESTION)])]).input_ids[0].tolist()
    assert batch.input_ids[0].tolist()[: len(prompt)] == prompt
    assert torch.isfinite(model(batch).loss)
