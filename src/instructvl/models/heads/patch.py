"""The no-head case (LLaVA): patch features go straight to the projector, optionally
average-pooled over pool x pool windows of the patch grid."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from instructvl.errors import InstructVLError


class PatchHead(nn.Module):
    """Patch features [n, T, D] -> [n, T / pool^2, D]; no parameters, never uses the instruction."""

    uses_instruction = False

    def __init__(self, pool: int, width: int, num_patch_tokens: int) -> None:
        super().__init__()
        self.pool = pool
        self.out_dim = width
        grid = math.isqrt(num_patch_tokens)
        if pool > 1 and (grid * grid != num_patch_tokens or grid % pool):
            raise InstructVLError(
                f"head.pool={pool} needs a square patch grid divisible by it, got {num_patch_tokens} tokens "
                "(set vision.drop_cls: true to drop the class token)"
            )
        self.grid = grid
        self.num_tokens = num_patch_tokens // (pool * pool)

    def forward(self, feats: torch.Tensor, instruction_ids=None, instruction_mask=None) -> torch.Tensor:
        if self.pool == 1:
            return feats
        n, _, d = feats.shape
        grid = feats.transpose(1, 2).reshape(n, d, self.grid, self.grid)
        return F.avg_pool2d(grid, self.pool).flatten(2).transpose(1, 2)
