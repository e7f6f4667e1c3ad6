"""The KL measure: the untouched LLM beside a run's, and the mean KL divergence of the
run's next-token distributions from the untouched LLM's at the answer positions of
text-only prompts (teacher-forced on the reference answer).

KL(run || untouched) = sum_v p_run(v) (log p_run(v) - log p_untouched(v)) per position
(the direction of RLHF's KL penalty: what the run says, weighed by how likely it says it);
a prompt's value is its mean over its answer positions."""

from __future__ import annotations

import torch

from instructvl.data.collate import IGNORE, Batch
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.models.language import LanguageModel

BATCH_SIZE = 8


def llm_changed(model) -> bool:
    """Whether the model's language model has weights that were trained (in full, in part or
    through LoRA) or loaded from a saved run, i.e. may differ from its source."""
    return any(k.startswith("llm.") for k in model.trained_keys)


def untouched_model(model):
    """`model` with its language model rebuilt from its source (seeded as it was built; no
    LoRA) and not marked trained; the vision tower, head and projector are shared (text-only
    prompts never reach them)."""
    from instructvl.models.vlm import VisionLanguageModel

    config = model.config.model_copy(update={"llm": model.config.llm.model_copy(update={"lora": None})})
    llm = LanguageModel.build(config.llm, config.seed).to(model.device)
    twin = VisionLanguageModel(config, model.vision, model.head, model.projector, llm, model.instruction_tokenizer)
    twin.trained_keys = {k for k in model.trained_keys if not k.startswith("llm.")}
    return twin.eval()


def answer_logprobs(model, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities [positions, vocab] at every position that predicts an answer token,
    and the batch row [positions] each belongs to."""
    labels = batch.labels.to(model.device)
    if model.llm.is_seq2seq:
        decoder_ids = model.llm.model.prepare_decoder_input_ids_from_labels(labels=labels)
        logits, targets = model.logits(batch, decoder_input_ids=decoder_ids), labels
    else:
        logits, targets = model.logits(batch)[:, :-1], labels[:, 1:]
    where = targets != IGNORE
    rows = torch.arange(where.shape[0], device=where.device)[:, None].expand_as(where)[where]
    return torch.log_softmax(logits[where].float(), -1), rows


@torch.inference_mode()
def next_token_kl(model, reference, samples: list[Sample], batch_size: int = BATCH_SIZE) -> list[dict]:
    """Per prompt: its id, prompt set, answer positions and mean KL(model || reference)
    over them. Both models must share a tokenizer (the reference is `untouched_model`)."""
    if any(s.images for s in samples):
        raise InstructVLError("the KL measure takes text-only prompts; remove the images first")
    collator = model.collator()
    out = []
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        batch = collator.train_batch(chunk)
        if batch is None:
            continue
        run, rows = answer_logprobs(model, batch)
        ref, _ = answer_logprobs(reference, batch)
        per_position = (run.exp() * (run - ref)).sum(-1)
        by_id = {s.id: s for s in chunk}
        for i, sample_id in enumerate(batch.sample_ids):
            values = per_position[rows == i]
            out.append(
                {
                    "id": sample_id,
                    "set": by_id[sample_id].dataset,
                    "positions": int(values.numel()),
                    "kl": float(values.mean()),
                }
            )
    if not out:
        raise InstructVLError("no prompt of the KL measure has an answer token to compare")
    return out
