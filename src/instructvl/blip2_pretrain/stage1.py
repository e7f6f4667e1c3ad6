"""BLIP-2 stage 1: the Q-Former learns to read the frozen tower with three losses.

- ITC (image-text contrastive): the query outputs (image pass) and the text [CLS] output
  (text-only pass) are projected to `embed_dim` and L2-normalised; an image-text
  similarity is the max over the queries, divided by a learnable temperature; InfoNCE
  both ways, identical captions in a batch counted as positives.
- ITM (image-text matching): a joint pass where queries and text share self-attention
  (both ways); a linear head on the query outputs, averaged over queries, says match /
  no match. Each image gets a hard negative caption and each caption a hard negative
  image, drawn with the softmax of the ITC similarities (captions equal to its own never).
- ITG (image-grounded text generation): a joint pass where the queries see only the
  queries and the text tokens see all queries and the text before them (`itg_allowed`);
  the first token is a decoder marker instead of [CLS]; an LM head tied to the word
  embeddings predicts each next token.

The Q-Former is transformers' `InstructBlipQFormerModel` (inside a `QFormerHead`, so its
parameter names are the model's `head.*`); all three passes go through it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from instructvl.errors import InstructVLError
from instructvl.models.heads.qformer import QFormerHead
from instructvl.models.random_init import seeded
from instructvl.vision_pretrain.loss import caption_classes, grouped_infonce

DEC_TOKEN = "[unused0]"
"""The decoder marker replacing [CLS] for ITG (LAVIS adds a new `[DEC]` token; an unused
BERT token keeps the vocabulary, so the word embeddings load anywhere)."""


def itg_allowed(text_mask: torch.Tensor, num_queries: int) -> torch.Tensor:
    """Bool [B, Q + L, Q + L], True where a row may attend to a column: queries see all
    queries and no text; text token i sees all queries and the real text tokens j <= i."""
    b, length = text_mask.shape
    total = num_queries + length
    allowed = torch.zeros(b, total, total, dtype=torch.bool, device=text_mask.device)
    allowed[:, :, :num_queries] = True
    causal = torch.tril(torch.ones(length, length, dtype=torch.bool, device=text_mask.device))
    allowed[:, num_queries:, num_queries:] = causal & text_mask.bool()[:, None, :]
    return allowed


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A bool [B, L, L] mask as transformers' prepared 4-D attention mask: [B, 1, L, L],
    0 where allowed and the dtype's minimum elsewhere (eager and SDPA alike)."""
    return torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)[:, None]


class LMHead(nn.Module):
    """BERT's LM prediction head: dense + GELU + LayerNorm, then the word embeddings (tied)
    plus a bias."""

    def __init__(self, embeddings: nn.Embedding, eps: float) -> None:
        super().__init__()
        width = embeddings.embedding_dim
        self.dense = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width, eps=eps)
        self.embeddings = embeddings
        self.bias = nn.Parameter(torch.zeros(embeddings.num_embeddings))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(self.norm(F.gelu(self.dense(hidden))), self.embeddings.weight, self.bias)


class Blip2Stage1(nn.Module):
    """The Q-Former head (instruction-aware: it has the text path) with BLIP-2's stage-1
    heads: `vision_proj`, `text_proj`, `temp` (ITC), `itm_head` (ITM), `lm_head` (ITG).

    `losses(feats, ids, mask, caption_ids)` takes frozen tower features [B, P, D], the
    Q-Former tokenizer's caption ids and mask [B, L] ([CLS] first) and an id per caption
    (equal captions, equal ids); it returns the three losses."""

    def __init__(self, head: QFormerHead, embed_dim: int, dec_token_id: int, seed: int) -> None:
        super().__init__()
        if not head.uses_instruction:
            raise InstructVLError("BLIP-2 stage 1 needs the Q-Former's text path (an instruction-aware head)")
        self.head = head
        self.dec_token_id = dec_token_id
        cfg = head.qformer.config
        width = cfg.hidden_size

        def build() -> dict[str, nn.Module]:
            return {
                "vision_proj": nn.Linear(width, embed_dim),
                "text_proj": nn.Linear(width, embed_dim),
                "itm_head": nn.Linear(width, 2),
                "lm_head": LMHead(head.qformer.embeddings.word_embeddings, cfg.layer_norm_eps),
            }

        for name, module in seeded(seed, build).items():
            setattr(self, name, module)
        self.temp = nn.Parameter(torch.tensor(0.07))
        self.negatives = torch.Generator().manual_seed(seed)

    # -- the three passes ------------------------------------------------------------

    def _queries(self, n: int) -> torch.Tensor:
        return self.head.query_tokens.expand(n, -1, -1)

    def image_pass(self, feats: torch.Tensor) -> torch.Tensor:
        """Query outputs [B, Q, H] (the queries see the image, no text)."""
        return self.joint_pass(None, None, feats)

    def text_pass(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Text outputs [B, L, H] (no queries, no image)."""
        return self.head.qformer(input_ids=ids, attention_mask=mask).last_hidden_state

    def joint_pass(self, ids: torch.Tensor | None, attention_mask, feats: torch.Tensor) -> torch.Tensor:
        """Outputs [B, Q + L, H] of queries (seeing the image) and text together;
        `attention_mask` is [B, Q + L] (bidirectional) or a prepared [B, 1, Q + L, Q + L].
        With no `ids` (and no mask), the queries alone: [B, Q, H]."""
        image_mask = torch.ones(feats.shape[:2], dtype=torch.long, device=feats.device)
        out = self.head.qformer(
            input_ids=ids,
            attention_mask=attention_mask,
            query_embeds=self._queries(len(feats)),
            encoder_hidden_states=feats,
            encoder_attention_mask=image_mask,
        )
        return out.last_hidden_state

    # -- the losses ------------------------------------------------------------------

    def similarities(self, queries: torch.Tensor, text_cls: torch.Tensor) -> torch.Tensor:
        """ITC logits [B images, T texts]: max over queries of the cosine similarity, / temp."""
        image_emb = F.normalize(self.vision_proj(queries), dim=-1)
        text_emb = F.normalize(self.text_proj(text_cls), dim=-1)
        temp = self.temp.clamp(0.001, 0.5)
        return torch.einsum("bqe,te->bqt", image_emb, text_emb).amax(1) / temp

    def _hard_negatives(self, sim: torch.Tensor, same: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(a negative image per caption, a negative caption per image), drawn with the
        softmax of the similarities, never one with the same caption (unless a whole
        batch shares it)."""
        floor = torch.finfo(sim.dtype).min
        image_for_text = torch.softmax(sim.T.masked_fill(same, floor), 1)
        text_for_image = torch.softmax(sim.masked_fill(same, floor), 1)
        pick = lambda w: torch.multinomial(w, 1, generator=self.negatives).squeeze(1)  # noqa: E731
        return pick(image_for_text), pick(text_for_image)

    def losses(
        self, feats: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, caption_ids: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """{"itc", "itm", "itg"}: the three stage-1 losses of a batch."""
        n, q = len(ids), self.head.num_tokens
        queries = self.image_pass(feats)
        sim = self.similarities(queries, self.text_pass(ids, mask)[:, 0])
        first, inverse = caption_classes(caption_ids)
        itc = grouped_infonce(sim[:, first], inverse)

        with torch.no_grad():
            same = caption_ids[:, None] == caption_ids[None, :]
            neg_image, neg_text = self._hard_negatives(sim.detach(), same)
        joint_ids = torch.cat([ids, ids, ids[neg_text]])
        joint_mask = torch.cat([mask, mask, mask[neg_text]])
        joint_feats = torch.cat([feats, feats[neg_image], feats])
        query_mask = torch.ones(3 * n, q, dtype=mask.dtype, device=mask.device)
        joint = self.joint_pass(joint_ids, torch.cat([query_mask, joint_mask], 1), joint_feats)
        match = self.itm_head(joint[:, :q]).mean(1)
        labels = torch.cat([torch.ones(n), torch.zeros(2 * n)]).long().to(match.device)
        itm = F.cross_entropy(match, labels)

        dec_ids = ids.clone()
        dec_ids[:, 0] = self.dec_token_id
        causal = additive_mask(itg_allowed(mask, q), queries.dtype).to(ids.device)
        text_out = self.joint_pass(dec_ids, causal, feats)[:, q:]
        targets, valid = ids[:, 1:], mask[:, 1:].bool()
        itg = F.cross_entropy(self.lm_head(text_out[:, :-1][valid]), targets[valid])
        return {"itc": itc, "itm": itm, "itg": itg}
