"""A language model in this process as the judge, scoring by likelihood instead of reading
generated text: after the judging prompt (in the model's own chat format), each of the
100 first lines the protocol asks for, "1 1" .. "10 10", is scored as the whole reply
(summed log-probability of its tokens and the end-of-turn marker) by
`VisionLanguageModel.score_candidates`, the candidate ranking of rank tasks, with the
prompt encoded once per sample. The reply recorded (and cached) is these 100
log-probabilities; the scores read from it are the expected scores (`expected_scores`).
So every prompt gets two scores: a judgement of the local judge is never unread.

By default the language model of the default preset (SmolLM2-135M-Instruct, offline), so
judging runs without a network."""

from __future__ import annotations

import numpy as np
import torch

from instructvl.data.collate import Collator
from instructvl.data.schema import Sample, Turn
from instructvl.errors import InstructVLError
from instructvl.eval.judge.protocol import SCORE_LINES, Messages
from instructvl.eval.provenance import fingerprint
from instructvl.models.language import LanguageModel
from instructvl.models.vlm import VisionLanguageModel

DEFAULT_PRESET = "tiny-offline"
BATCH_SIZE = 8
CHUNK_SIZE = 25
"""Score lines per forward pass (each copies the prompt's KV cache: this bounds the memory)."""
METHOD = "likelihood"
"""How the local judge scores, in its cache key: by the likelihood of the score lines."""


def _no_images(paths: list[str]) -> torch.Tensor:
    raise InstructVLError(f"the local judge reads text only, not images {paths[:2]}")


def default_judge_llm() -> LanguageModel:
    """The default preset's language model, plain: no LoRA, nothing injected."""
    from instructvl.config.loader import load_model_config

    cfg = load_model_config(DEFAULT_PRESET).llm.model_copy(update={"lora": None, "inject_layer": 0})
    return LanguageModel.build(cfg)


def text_only_model(llm: LanguageModel) -> VisionLanguageModel:
    """`llm` alone in the vision-language model, for its candidate scoring: no vision tower,
    head or projector (text-only prompts never reach them; the default preset's settings
    for them are never read)."""
    from instructvl.config.loader import load_model_config

    config = load_model_config(DEFAULT_PRESET).model_copy(update={"llm": llm.cfg})
    return VisionLanguageModel(config, None, None, None, llm).eval()


def expected_scores(logprobs: dict[str, float]) -> tuple[float, float]:
    """(reference, model) scores from the log-probabilities of the score lines: each
    assistant's expected score under the judge's distribution over the 100 lines (softmax
    of their summed log-probabilities: a line's probability as the whole reply, renormalised
    over the lines).

    The expectation, not the most likely line, because (1) it reads the whole distribution:
    a small judge puts its mass on a few habitual lines, so its argmax barely moves between
    samples (ties everywhere, no resolution for the calibration AUC or a task's mean),
    while the expectation moves with every shift of probability between better and worse
    scores (G-Eval, Liu et al., 2023, weights the score tokens' probabilities for this
    reason: continuous scores instead of the ties of the most likely one); (2) it is the
    estimate of least squared error of the score the judge would give, and linear, so a
    task's mean of expected scores is the judge's expected mean score, which is what the
    relative score (a ratio of means) estimates. Measured on SmolLM2-135M: the most likely
    line is "10 10" for 171 of 192 samples."""
    values = np.array([logprobs[line] for line in SCORE_LINES], dtype=float)
    weights = np.exp(values - values.max())
    reference, model = (weights / weights.sum()) @ np.array(list(SCORE_LINES.values()), dtype=float)
    return float(reference), float(model)


class LocalJudge:
    """`llm` judging in process by the likelihood of the score lines (see the module
    docstring), `batch_size` prompts at a time."""

    method = (
        "scores by likelihood, not from generated text: each assistant's expected score under the judge's "
        "probabilities of the 100 first lines '1 1' .. '10 10' as its whole reply"
    )
    scores = staticmethod(expected_scores)
    """(reference, model) scores of a reply: the expected scores."""

    def __init__(self, llm: LanguageModel, batch_size: int = BATCH_SIZE) -> None:
        self.model = text_only_model(llm)
        self.collator = Collator(self.model.formatter, 0, _no_images, llm.max_length)
        self.batch_size = batch_size
        self.identity = f"local|{fingerprint(llm.cfg.model_dump(mode='json'))}|{METHOD}"

    @torch.inference_mode()
    def _batch(self, prompts: list[Messages]) -> list[dict[str, float]]:
        samples = [
            Sample(f"judge-{i}", "judge", turns=[Turn(m["role"], m["content"]) for m in messages])
            for i, messages in enumerate(prompts)
        ]
        lines = list(SCORE_LINES)
        scored = self.model.score_candidates(
            self.collator.prompt_batch(samples), [lines] * len(samples), chunk_size=CHUNK_SIZE
        )
        return [{line: logprob for line, (logprob, _) in zip(lines, row)} for row in scored]

    def complete_all(self, prompts: list[Messages]) -> list[dict[str, float]]:
        """Each prompt's reply: the summed log-probability of each score line as the whole reply."""
        out: list[dict[str, float]] = []
        for start in range(0, len(prompts), self.batch_size):
            out += self._batch(prompts[start : start + self.batch_size])
        return out
