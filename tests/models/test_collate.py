"""Per-turn tokenisation, label masking, placeholders and the no-target report."""

import pytest

from instructvl.data.collate import IGNORE
from instructvl.data.schema import Sample, Turn
from instructvl.errors import InstructVLError
from tests.models.helpers import build, samples

CONVERSATION = [
    Turn("user", "what colour is the square?"),
    Turn("assistant", "red."),
    Turn("user", "how many objects are there?"),
    Turn("assistant", "two"),
]


@pytest.mark.parametrize("system", [None, "You are a helpful assistant."])
def test_per_turn_tokens_concatenate_to_full_rendering(tiny_parts, system):
    model = build(tiny_parts, "linear", llm__system_prompt=system)
    tok = model.llm.tokenizer
    enc = model.collator().encode(Sample("t", "d", [], CONVERSATION), prompt_only=False)
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": t.role, "content": t.content} for t in CONVERSATION
    ]
    full = tok(tok.apply_chat_template(msgs, tokenize=False), add_special_tokens=False).input_ids
    assert enc.ids == full


def test_labels_are_exactly_the_assistant_answers(tiny_parts):
    model = build(tiny_parts, "linear")
    tok = model.llm.tokenizer
    enc = model.collator().encode(Sample("t", "d", [], CONVERSATION), prompt_only=False)
    targets = tok.decode([t for t in enc.labels if t != IGNORE])
    assert targets == "red.<|im_end|>\ntwo<|im_end|>\n"


def test_fallback_prompt_format_without_chat_template(tiny_parts):
    model = build(tiny_parts, "linear")
    model.formatter.use_template = False
    tok = model.llm.tokenizer
    enc = model.collator().encode(Sample("t", "d", [], CONVERSATION), prompt_only=False)
    rendered = (
        "USER: what colour is the square?\nASSISTANT: red.<|im_end|>\n"
        "USER: how many objects are there?\nASSISTANT: two<|im_end|>\n"
    )
    assert enc.ids == tok(rendered, add_special_tokens=False).input_ids
    # the space after "ASSISTANT:" belongs to the answer's first token, as in the full rendering
    assert tok.decode([t for t in enc.labels if t != IGNORE]) == " red.<|im_end|>\n two<|im_end|>\n"


def test_placeholders_and_labels_in_a_batch(tiny_parts, images):
    model = build(tiny_parts)
    batch = model.collator().train_batch(samples(images))
    assert not (batch.labels[batch.image_mask] != IGNORE).any()
    assert (batch.labels[batch.attention_mask == 0] == IGNORE).all()
    # the marker in the second user turn of sample c puts its image there, not at the start
    row = batch.image_mask[2].nonzero().flatten()
    assert row.min() > 10


def test_sample_without_target_is_reported_not_trained(tiny_parts, images):
    model = build(tiny_parts)
    collator = model.collator()
    no_answer = Sample("bad", "d", [images[0]], [Turn("user", "what colour is the square?")])
    batch = collator.train_batch([no_answer, samples(images)[0]])
    assert batch.sample_ids == ["a"]
    assert collator.no_target_ids == ["bad"]
    assert collator.train_batch([no_answer]) is None
    assert collator.no_target_ids == ["bad", "bad"]


def test_truncation_into_image_tokens_is_reported(tiny_parts, images):
    model = build(tiny_parts, "linear")
    collator = model.collator(max_length=10)
    assert collator.train_batch(samples(images)[:1]) is None
    assert collator.no_target_ids == ["a"]


def test_seq2seq_labels_are_the_final_answer_with_eos(tiny_parts, images):
    model = build(tiny_parts, "qformer", "t5")
    tok = model.llm.tokenizer
    batch = model.collator().train_batch(samples(images)[:1])
    assert tok.decode([t for t in batch.labels[0].tolist() if t != IGNORE]) == "red</s>"
    assert "red" not in tok.decode(batch.input_ids[0][~batch.image_mask[0]])


def test_prompt_longer_than_context_is_a_clear_error(tiny_parts, images):
    model = build(tiny_parts, "linear")
    long = Sample("long", "d", [images[0]], [Turn("user", "what colour is the square? " * 200)])
    with pytest.raises(InstructVLError, match="sample long: the prompt is .* tokens .* context is 512"):
        model.collator().prompt_batch([long])


@pytest.mark.parametrize(
    "turns,images_n,match",
    [
        ([Turn("user", "<image> a <image> b <image>")], 2, "3 image markers for 2 images"),
        ([Turn("user", "q"), Turn("assistant", "<image>")], 1, "may not appear in an assistant turn"),
        ([Turn("user", "<image> q")], 0, "image marker.* but no images"),
    ],
)
def test_bad_marker_use_is_an_error(tiny_parts, images, turns, images_n, match):
    model = build(tiny_parts, "linear")
    with pytest.raises(InstructVLError, match=match):
        model.collator().train_batch([Sample("s", "d", images[:images_n], turns)])
