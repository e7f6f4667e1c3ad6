"""Continuous batching for decoder-only LMs: the rows being generated share one KV cache
and advance one token per step (`VisionLanguageModel.start_decoding` / `decode_step`).
Between steps, rows whose job is done leave (their cache rows are dropped) and waiting
jobs join (their prompts are prefilled together and their cache, left-padded to the
batch's length, is stacked under it), so a short answer frees its place at once instead
of waiting for the longest answer of its batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from instructvl.serving.jobs import Job
from instructvl.serving.sampling import next_tokens


def _rebuilt(cache, change) -> DynamicCache:
    """A new cache whose keys and values are `change` of those of `cache`, layer by layer."""
    out = DynamicCache()
    for index, layer in enumerate(cache.layers):
        out.update(change(layer.keys), change(layer.values), index)
    return out


def _left_padded(tensor: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    """`tensor` with zeros before its positions along `dim` (counted from the end), up to `length`."""
    missing = length - tensor.shape[dim]
    if missing == 0:
        return tensor
    pad = [0, 0] * (-dim - 1) + [missing, 0]
    return F.pad(tensor, pad)


def steppable(vlm) -> bool:
    """Whether `vlm` can be batched continuously: a decoder-only LM whose KV cache is the
    plain growing kind (not a sliding window, linear attention or quantised cache), found
    by prefilling one short prompt."""
    if vlm.llm.is_seq2seq:
        return False
    from instructvl.data.schema import Sample, Turn

    cache, _ = vlm.start_decoding(vlm.collator().prompt_batch([Sample("probe", "serve", [], [Turn("user", "hi")])]))
    return all(type(layer) is DynamicLayer for layer in cache.layers)


class RunningBatch:
    """The jobs being generated, one row each, with their KV cache, attention mask [B, L]
    (cache positions that are real tokens) and next-token logits [B, vocab]."""

    def __init__(self, vlm) -> None:
        self.vlm = vlm
        self.jobs: list[Job] = []
        self.cache = None
        self.mask: torch.Tensor | None = None
        self.logits: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.jobs)

    def clear(self) -> list[Job]:
        """Empties the batch (after a fault); returns the jobs it held."""
        jobs = self.jobs
        self.jobs, self.cache, self.mask, self.logits = [], None, None, None
        return jobs

    def join(self, jobs: list[Job], prompts) -> None:
        """Adds `jobs`, whose prompts (one left-padded `prompt_batch`) are prefilled now."""
        cache, logits = self.vlm.start_decoding(prompts)
        mask = prompts.attention_mask.to(logits.device)
        if not self.jobs:
            self.jobs, self.cache, self.mask, self.logits = list(jobs), cache, mask, logits
            return
        length = max(self.mask.shape[1], mask.shape[1])
        old, new = self.cache, cache
        merged = DynamicCache()
        for index, (a, b) in enumerate(zip(old.layers, new.layers)):
            keys = torch.cat([_left_padded(a.keys, length, -2), _left_padded(b.keys, length, -2)])
            values = torch.cat([_left_padded(a.values, length, -2), _left_padded(b.values, length, -2)])
            merged.update(keys, values, index)
        self.cache = merged
        self.mask = torch.cat([_left_padded(self.mask, length, -1), _left_padded(mask, length, -1)])
        self.logits = torch.cat([self.logits, logits])
        self.jobs += jobs

    def step(self, eos_ids: set[int], now: float) -> list[Job]:
        """Gives every job its next token, drops the jobs that are now done, and computes the
        next logits of the rest. Returns the jobs that left."""
        tokens = next_tokens(self.logits, [(job.sampling, job.generator) for job in self.jobs])
        done = [job.take(token, eos_ids, now) for job, token in zip(self.jobs, tokens.tolist())]
        left = [job for job, gone in zip(self.jobs, done) if gone]
        if left:
            keep = torch.tensor([i for i, gone in enumerate(done) if not gone], dtype=torch.long)
            self.jobs = [job for job, gone in zip(self.jobs, done) if not gone]
            if not self.jobs:
                self.clear()
                return left
            rows = keep.to(self.mask.device)
            self.cache = _rebuilt(self.cache, lambda t: t[rows])
            self.mask, tokens = self.mask[rows], tokens[keep]
            self._trim()
        positions = self.mask.sum(-1)
        self.mask = torch.cat([self.mask, self.mask.new_ones(len(self.jobs), 1)], 1)
        self.logits = self.vlm.decode_step(self.cache, tokens.to(self.mask.device), self.mask, positions)
        return left

    def _trim(self) -> None:
        """Drops the leading cache positions that no remaining row uses (left padding)."""
        used = self.mask.any(0).nonzero()
        start = int(used[0]) if len(used) else 0
        if start:
            self.cache = _rebuilt(self.cache, lambda t: t[:, :, start:])
            self.mask = self.mask[:, start:]
