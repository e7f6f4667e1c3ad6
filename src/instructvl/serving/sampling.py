"""How each request's next token is picked: greedy (temperature 0, the default) or
sampled with its temperature, top_p and seed. Rows of one batch may each sample their
own way; a seeded request draws from its own generator, so its answer does not depend
on the requests it happens to share a batch with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import torch

from instructvl.serving.protocol import ChatRequest


@dataclass(frozen=True)
class Sampling:
    """A request's sampling. Greedy ignores top_p and seed (they are normalised away, so
    all greedy requests compare equal)."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None

    @classmethod
    def of(cls, request: ChatRequest) -> Sampling:
        """The request's sampling (temperature omitted or 0: greedy)."""
        temperature = request.temperature or 0.0
        if temperature == 0:
            return cls()
        return cls(temperature, 1.0 if request.top_p is None else request.top_p, request.seed)

    @property
    def greedy(self) -> bool:
        """Whether the most likely token is always taken."""
        return self.temperature == 0

    def generator(self) -> torch.Generator | None:
        """The request's own random generator (its seed, else a fresh one); None for greedy."""
        if self.greedy:
            return None
        return torch.Generator().manual_seed(self.seed if self.seed is not None else secrets.randbits(63))

    def options(self, max_new_tokens: int) -> dict:
        """Keyword arguments for `VisionLanguageModel.generate`, which samples a whole batch
        one way (the seq2seq path; its seed is the global one)."""
        from instructvl.models.vlm import generation_options

        seed = self.seed if self.seed is not None else secrets.randbelow(2**31)
        options = generation_options(max_new_tokens, 1, self.temperature, seed)
        if not self.greedy and self.top_p < 1:
            options["top_p"] = self.top_p
        return options


def next_tokens(logits: torch.Tensor, rows: list[tuple[Sampling, torch.Generator | None]]) -> torch.Tensor:
    """The next token of each row [B] from its logits [B, vocab]: the most likely one, or
    drawn from the temperature-scaled distribution cut to the smallest set of tokens whose
    probability reaches top_p (the one that crosses it included)."""
    tokens = logits.argmax(-1).cpu()
    for row, (sampling, generator) in enumerate(rows):
        if sampling.greedy:
            continue
        probs = torch.softmax(logits[row].float().cpu() / sampling.temperature, -1)
        if sampling.top_p < 1:
            ranked, order = probs.sort(descending=True)
            keep = ranked.cumsum(0) - ranked < sampling.top_p
            probs = torch.zeros_like(probs).scatter(0, order[keep], ranked[keep])
        tokens[row] = torch.multinomial(probs, 1, generator=generator)[0]
    return tokens
