"""score_candidates against step-by-step log-probabilities; batched generation against
unbatched; for causal and seq2seq LMs, visual tokens at the input and at layer k."""

import pytest
import torch

from instructvl.data.schema import Sample, Turn
from tests.models.helpers import build, prompts

CANDIDATES = [["red", "blue", "a small red square"], ["yes", "no"], ["two", "three", "unanswerable", "zero"]]
VARIANTS = [("llama", 0), ("llama", 2), ("t5", 0), ("t5", 1)]


def _stepwise_logprob(model, sample: Sample, answer: str) -> float:
    """Sum of log p(token | prefix) computed one token at a time by full forward passes
    with no cache: the reference that score_candidates must equal."""
    collator = model.collator()
    prompt = collator.prompt_batch([sample])
    answer_ids = model.formatter.answer_ids(answer)
    visual = model.visual_sequence(prompt)
    total = 0.0
    with torch.no_grad(), model._injection(prompt, visual):
        if model.llm.is_seq2seq:
            inputs = model._text_inputs(prompt, visual)
            start = model.llm.model.config.decoder_start_token_id
            for t, token in enumerate(answer_ids):
                dec = torch.tensor([[start, *answer_ids[:t]]])
                logits = model.llm.model(**inputs, attention_mask=prompt.attention_mask, decoder_input_ids=dec).logits
                total += float(torch.log_softmax(logits[0, -1], -1)[token])
            return total
    for t, token in enumerate(answer_ids):
        ids = torch.cat([prompt.input_ids, torch.tensor([answer_ids[:t]], dtype=torch.long)], 1)
        mask = torch.ones_like(ids)
        image_mask = torch.cat([prompt.image_mask, torch.zeros(1, t, dtype=torch.bool)], 1)
        ext = type(prompt)(
            ids,
            mask,
            image_mask,
            prompt.sample_ids,
            pixel_values=prompt.pixel_values,
            instruction_ids=prompt.instruction_ids,
            instruction_mask=prompt.instruction_mask,
        )
        vis = model.visual_sequence(ext)
        with torch.no_grad(), model._injection(ext, vis):
            logits = model.llm.model(**model._text_inputs(ext, vis), attention_mask=mask).logits
        total += float(torch.log_softmax(logits[0, -1], -1)[token])
    return total


@pytest.mark.parametrize("llm,k", VARIANTS)
def test_score_candidates_equals_stepwise_logprobs(tiny_parts, images, llm, k):
    model = build(tiny_parts, "instructblip-qformer", llm, llm__inject_layer=k)
    batch_prompts = prompts(images)
    scores = model.score_candidates(model.collator().prompt_batch(batch_prompts), CANDIDATES, chunk_size=2)
    for sample, cands, got in zip(batch_prompts, CANDIDATES, scores):
        for cand, (logprob, count) in zip(cands, got):
            assert count == len(model.formatter.answer_ids(cand))
            assert logprob == pytest.approx(_stepwise_logprob(model, sample, cand), abs=1e-4)


def test_chunk_size_does_not_change_scores(tiny_parts, images):
    model = build(tiny_parts, "mlp")
    batch = model.collator().prompt_batch(prompts(images))
    a = model.score_candidates(batch, CANDIDATES, chunk_size=1)
    b = model.score_candidates(batch, CANDIDATES, chunk_size=64)
    for x, y in zip(a, b):
        assert [c for _, c in x] == [c for _, c in y]
        assert [s for s, _ in x] == pytest.approx([s for s, _ in y], abs=1e-5)


@pytest.mark.parametrize("llm,k", VARIANTS)
@pytest.mark.parametrize("beams", [1, 3])
def test_batched_generation_equals_unbatched(tiny_parts, images, llm, k, beams):
    model = build(tiny_parts, "qformer", llm, llm__inject_layer=k)
    collator = model.collator()
    samples = prompts(images)
    together = model.generate(collator.prompt_batch(samples), max_new_tokens=6, num_beams=beams, eos_token_id=-1)
    alone = [
        model.generate(collator.prompt_batch([s]), max_new_tokens=6, num_beams=beams, eos_token_id=-1)[0]
        for s in samples
    ]
    assert together == alone
    assert all(len(row) == 6 for row in together)


def test_greedy_generation_follows_the_argmax_of_scores(tiny_parts, images):
    """The first generated token is the most likely single first token."""
    model = build(tiny_parts, "mlp")
    batch = model.collator().prompt_batch(prompts(images)[:1])
    token = model.generate(batch, max_new_tokens=1, eos_token_id=-1)[0][0]
    visual = model.visual_sequence(batch)
    with torch.no_grad():
        logits = model.llm.model(**model._text_inputs(batch, visual), attention_mask=batch.attention_mask).logits
    assert token == int(logits[0, -1].argmax())


def test_generation_is_greedy_whatever_the_checkpoint_generation_config_says(tiny_parts, images):
    model = build(tiny_parts, "mlp")
    batch = model.collator().prompt_batch(prompts(images))
    greedy = model.generate(batch, max_new_tokens=5, eos_token_id=-1)
    model.llm.model.generation_config.update(do_sample=True, num_beams=3, top_k=50)  # as some hub checkpoints ship
    torch.manual_seed(0)
    assert model.generate(batch, max_new_tokens=5, eos_token_id=-1) == greedy


def test_sampling_is_seeded(tiny_parts, images):
    model = build(tiny_parts, "linear")
    batch = model.collator().prompt_batch(prompts(images))
    torch.manual_seed(3)
    a = model.generate(batch, max_new_tokens=5, do_sample=True, top_k=50, eos_token_id=-1)
    torch.manual_seed(3)
    b = model.generate(batch, max_new_tokens=5, do_sample=True, top_k=50, eos_token_id=-1)
    assert a == b


def test_text_only_prompts_work_without_images(tiny_parts):
    model = build(tiny_parts, "qformer")
    batch = model.collator().prompt_batch([Sample("t", "d", [], [Turn("user", "what colour is the square?")])])
    assert batch.pixel_values is None
    assert len(model.generate(batch, max_new_tokens=3, eos_token_id=-1)[0]) == 3
    assert len(model.score_candidates(batch, [["red", "blue"]])[0]) == 2
