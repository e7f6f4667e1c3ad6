"""Q-Former heads from transformers: BLIP-2's (`Blip2QFormerModel`, queries only) and
InstructBLIP's instruction-aware one (`InstructBlipQFormerModel`: the instruction tokens
share self-attention with the queries; only the query outputs go on).

Either can be initialised from a BERT-style checkpoint as BLIP-2 was from BERT-base."""

from __future__ import annotations

import torch
from torch import nn

from instructvl.config.schema import HeadConfig
from instructvl.errors import InstructVLError
from instructvl.models import sources
from instructvl.models.random_init import seeded

_BERT_ARCH_KEYS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "max_position_embeddings",
    "layer_norm_eps",
    "initializer_range",
    "pad_token_id",
)


def _bert_key_to_qformer(key: str, instruction_aware: bool) -> list[str]:
    """Where one BERT weight goes in the Q-Former (possibly two places: the query FFN
    is a copy of the text FFN). Returns [] for weights the Q-Former has no use for."""
    if key.startswith(("pooler.", "embeddings.token_type_embeddings", "embeddings.position_ids")):
        return []
    if key.startswith("embeddings.LayerNorm."):
        suffix = key.split(".")[-1]
        return [f"embeddings.layernorm.{suffix}" if instruction_aware else f"layernorm.{suffix}"]
    if key.startswith("embeddings."):
        return [key] if instruction_aware else []
    key = key.replace(".attention.self.", ".attention.attention.")
    if ".intermediate." in key:
        return [key, key.replace(".intermediate.", ".intermediate_query.")]
    if ".output." in key and ".attention." not in key:
        return [key, key.replace(".output.", ".output_query.")]
    return [key]


def _load_bert(source: str):
    from transformers import AutoModel

    path = sources.resolve(source)
    return sources.load_pretrained(AutoModel.from_pretrained, path, "Q-Former initialisation (BERT)")


class QFormerHead(nn.Module):
    """Image features [n, P, Dv] (+ instruction ids [n, L]) -> query outputs [n, num_queries, H]."""

    def __init__(self, cfg: HeadConfig, qformer: nn.Module, query_tokens: nn.Parameter) -> None:
        super().__init__()
        self.uses_instruction = cfg.uses_instruction
        self.qformer = qformer
        self.query_tokens = query_tokens
        self.out_dim = qformer.config.hidden_size
        self.num_tokens = query_tokens.shape[1]

    @classmethod
    def build(cls, cfg: HeadConfig, vision_width: int, seed: int) -> QFormerHead:
        """Builds the Q-Former; with `qformer_init`, copies BERT weights into it."""
        import transformers

        bert = _load_bert(cfg.qformer_init) if cfg.qformer_init else None
        arch = {k: getattr(bert.config, k) for k in _BERT_ARCH_KEYS} if bert is not None else {}
        arch.update(cfg.qformer_arch)
        arch.update(encoder_hidden_size=vision_width, cross_attention_frequency=cfg.cross_attention_frequency)
        if cfg.uses_instruction:
            config = transformers.InstructBlipQFormerConfig(**arch)
            model_cls = transformers.InstructBlipQFormerModel
        else:
            config = transformers.Blip2QFormerConfig(**arch)
            model_cls = transformers.Blip2QFormerModel

        def build() -> tuple[nn.Module, nn.Parameter]:
            qformer = model_cls(config)
            queries = nn.Parameter(torch.randn(1, cfg.num_queries, config.hidden_size) * config.initializer_range)
            return qformer, queries

        qformer, queries = seeded(seed, build)
        if bert is not None:
            cls._copy_bert(qformer, bert, cfg.uses_instruction)
        return cls(cfg, qformer, queries)

    @staticmethod
    def _copy_bert(qformer: nn.Module, bert: nn.Module, instruction_aware: bool) -> None:
        target = qformer.state_dict()
        mapped = {}
        for key, value in bert.state_dict().items():
            for dest in _bert_key_to_qformer(key, instruction_aware):
                if dest not in target:
                    continue
                if target[dest].shape != value.shape:
                    raise InstructVLError(
                        f"Q-Former init: {key} has shape {tuple(value.shape)}, expected {tuple(target[dest].shape)}"
                    )
                mapped[dest] = value
        if not mapped:
            raise InstructVLError("Q-Former init: no BERT weight matched the Q-Former (is the checkpoint BERT-style?)")
        qformer.load_state_dict(mapped, strict=False)

    def forward(self, feats: torch.Tensor, instruction_ids=None, instruction_mask=None) -> torch.Tensor:
        n = feats.shape[0]
        queries = self.query_tokens.expand(n, -1, -1)
        image_mask = torch.ones(feats.shape[:2], dtype=torch.long, device=feats.device)
        if not self.uses_instruction:
            out = self.qformer(query_embeds=queries, encoder_hidden_states=feats, encoder_attention_mask=image_mask)
            return out.last_hidden_state
        if instruction_ids is None:
            raise InstructVLError("the instruction-aware Q-Former needs instruction ids (the collator makes them)")
        query_mask = torch.ones(queries.shape[:2], dtype=torch.long, device=feats.device)
        out = self.qformer(
            input_ids=instruction_ids,
            attention_mask=torch.cat([query_mask, instruction_mask], dim=1),
            query_embeds=queries,
            encoder_hidden_states=feats,
            encoder_attention_mask=image_mask,
        )
        return out.last_hidden_state[:, : self.num_tokens]
