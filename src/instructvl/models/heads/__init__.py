"""Vision heads (patch features [+ instruction] -> head features) and projectors to the
language model's width. `build_head` picks them from a `HeadConfig`."""

from __future__ import annotations

from torch import nn

from instructvl.config.schema import HeadConfig
from instructvl.models.heads.patch import PatchHead
from instructvl.models.heads.projector import Projector
from instructvl.models.heads.qformer import QFormerHead


def build_head(
    cfg: HeadConfig, vision_width: int, vision_tokens: int, llm_width: int, seed: int
) -> tuple[nn.Module, Projector]:
    """The head and projector for `cfg`: Q-Former + linear, or patch tokens + linear / mlp."""
    if cfg.uses_qformer:
        head: nn.Module = QFormerHead.build(cfg, vision_width, seed)
    else:
        head = PatchHead(cfg.pool, vision_width, vision_tokens)
    kind = "mlp" if cfg.type == "mlp" else "linear"
    projector = Projector(kind, head.out_dim, llm_width, cfg.mlp_hidden, cfg.output_norm, seed + 1)
    return head, projector


__all__ = ["build_head", "PatchHead", "Projector", "QFormerHead"]
