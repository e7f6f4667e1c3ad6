"""Supervised targets read from a scene, the tower's auxiliary objective (as ImageNet
labels are for real towers): per cell of a 3 x 3 grid, the kind, colour and size of the
object drawn last whose centre lies in it (0: none); over the image, which kinds and
colours occur (multi-hot) and how many objects there are (0-6).

`SceneHeads` reads them from the tower's output: the cell targets from the patch tokens
average-pooled to 3 x 3, the image targets from the pooled (class) output."""

from __future__ import annotations

import torch
from torch import nn

from instructvl.data.synthvl.scenes import SIZE_WORDS, Scene, size_word
from instructvl.data.synthvl.web import COLOURS, KINDS
from instructvl.models.vision import pooled_grid

TARGET_KINDS = KINDS + ("sign", "text")
MAX_COUNT = 6
GRID = 3


def scene_targets(scene: Scene) -> list[list[int]]:
    """[cell kinds (9), cell colours (9), cell sizes (9), kinds present, colours present, [count]]."""
    kind, colour, size = [0] * GRID**2, [0] * GRID**2, [0] * GRID**2
    for o in scene.objects:
        cell = min(GRID - 1, o.y * GRID // scene.height) * GRID + min(GRID - 1, o.x * GRID // scene.width)
        kind[cell] = 1 + TARGET_KINDS.index(o.kind)
        colour[cell] = 1 + COLOURS.index(o.colour)
        size[cell] = 1 + SIZE_WORDS.index(size_word(o, scene))
    kinds = [int(any(o.kind == k for o in scene.objects)) for k in TARGET_KINDS]
    colours = [int(any(o.colour == c for o in scene.objects)) for c in COLOURS]
    return [kind, colour, size, kinds, colours, [min(len(scene.objects), MAX_COUNT)]]


def stack_targets(scenes: list[Scene]) -> list[torch.Tensor]:
    """`scene_targets` of many scenes as six long tensors, [n, ...] each."""
    columns = zip(*(scene_targets(s) for s in scenes))
    return [torch.tensor(c, dtype=torch.long) for c in columns]


class SceneHeads(nn.Module):
    """Linear heads for the scene targets on a tower of width `hidden`."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.cell_kind = nn.Linear(hidden, len(TARGET_KINDS) + 1)
        self.cell_colour = nn.Linear(hidden, len(COLOURS) + 1)
        self.cell_size = nn.Linear(hidden, len(SIZE_WORDS) + 1)
        self.kinds = nn.Linear(hidden, len(TARGET_KINDS))
        self.colours = nn.Linear(hidden, len(COLOURS))
        self.count = nn.Linear(hidden, MAX_COUNT + 1)

    def loss(self, patches: torch.Tensor, pooled: torch.Tensor, targets: list[torch.Tensor]) -> torch.Tensor:
        """Sum of the six losses (cross-entropy; binary for the multi-hot ones) for patch
        tokens [B, side * side, hidden] and pooled outputs [B, hidden]."""
        cells = pooled_grid(patches, GRID)  # [B, 9, hidden]
        ce, bce = nn.functional.cross_entropy, nn.functional.binary_cross_entropy_with_logits
        kind, colour, size, kinds, colours, count = targets
        return (
            ce(self.cell_kind(cells).flatten(0, 1), kind.flatten())
            + ce(self.cell_colour(cells).flatten(0, 1), colour.flatten())
            + ce(self.cell_size(cells).flatten(0, 1), size.flatten())
            + bce(self.kinds(pooled), kinds.float())
            + bce(self.colours(pooled), colours.float())
            + ce(self.count(pooled), count[:, 0])
        )
