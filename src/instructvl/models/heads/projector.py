"""Projection of head features into the language model's width: linear or 2-layer GELU
MLP (LLaVA-1.5), with optional RMS rescaling to a learnable gain."""

from __future__ import annotations

import torch
from torch import nn

from instructvl.models.random_init import seeded


class Projector(nn.Module):
    """[n, T, in_dim] -> [n, T, out_dim]. With `output_norm="rms"` every output token is
    scaled to RMS 1 and multiplied by the scalar parameter `gain`, so visual tokens can be
    matched to the scale of the hidden states where they enter the language model."""

    def __init__(self, kind: str, in_dim: int, out_dim: int, hidden: int | None, output_norm: str, seed: int) -> None:
        super().__init__()

        def build() -> nn.Module:
            if kind == "linear":
                return nn.Linear(in_dim, out_dim)
            width = hidden or out_dim
            return nn.Sequential(nn.Linear(in_dim, width), nn.GELU(), nn.Linear(width, out_dim))

        self.net = seeded(seed, build)
        self.output_norm = output_norm
        self.gain = nn.Parameter(torch.ones(())) if output_norm == "rms" else None

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        out = self.net(feats)
        if self.gain is None:
            return out
        rms = out.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()
        return out / rms * self.gain
