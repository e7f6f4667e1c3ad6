"""Supervised targets read from a scene, the tower's auxiliary objective (as ImageNet
labels and segmentation masks are for real towers).

Dense ones, per patch of the tower's grid: the kind and the colour of the object that
covers most of the patch (0: none, or less than an eighth of it covered), from the
scene's segmentation (`render.label_map`). Per image: the kind of its largest object
(0: none), which kinds and colours occur (multi-hot) and how many objects there are
(0-6). Dense targets teach shape far faster than image-level ones: measured on the tiny
tower, single-object scenes, 200 steps, a shape probe reached 0.41 with them and 0.21
with 3 x 3 cell targets.

`SceneHeads` reads them from the tower's output: the dense targets from each patch
token, the image targets from the pooled (class) output. A dense loss is the mean over
the patches an object covers plus the mean over the empty ones: averaged over all
patches, the few object patches of a scene are swamped by background (measured, 1000
steps of 64: shape 0.69 plain, 0.83 balanced). `LOSS_WEIGHTS` then favour what is
slowest to learn: shape (both kind targets) and count."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from instructvl.data.synthvl.render import label_map
from instructvl.data.synthvl.scenes import Scene
from instructvl.data.synthvl.web import COLOURS, KINDS

TARGET_KINDS = KINDS + ("sign", "text")
MAX_COUNT = 6
MIN_COVER = 1 / 8  # of a patch's pixels, for the patch to take an object's label
LOSS_WEIGHTS = {"patch_kind": 2.0, "patch_colour": 1.0, "largest": 2.0, "kinds": 1.0, "colours": 1.0, "count": 2.0}
"""Per scene target. Measured on the tiny tower, 1000 steps of 64, balanced dense losses,
probes as `instructvl analyze tower` (shape / count): all at 1, 0.83 / 0.85; both kind
targets at 2, 0.89 / 0.83; these, 0.88 / 0.87; kinds at 3 and count at 2, 0.88 / 0.84."""


def patch_labels(scene: Scene, label_of, grid: int) -> list[int]:
    """Row by row over a `grid` x `grid` split of the scene: the `label_of` value that
    covers most pixels of each patch, if it covers at least `MIN_COVER` of it, else 0."""
    labels = label_map(scene, label_of).astype(np.int64)
    h, w = labels.shape
    cells = (np.arange(h)[:, None] * grid // h) * grid + np.arange(w)[None, :] * grid // w
    width = int(labels.max()) + 1
    counts = np.bincount((cells * width + labels).ravel(), minlength=grid * grid * width).reshape(grid * grid, width)
    area = np.bincount(cells.ravel(), minlength=grid * grid)
    counts[:, 0] = 0
    best = counts.argmax(1)
    return np.where(counts.max(1) >= MIN_COVER * area, best, 0).tolist()


def scene_targets(scene: Scene, grid: int) -> list[list[int]]:
    """[patch kinds (grid^2), patch colours (grid^2), [largest kind], kinds present,
    colours present, [count]] of a scene, kinds and colours counted from 1."""
    kinds = patch_labels(scene, lambda o: 1 + TARGET_KINDS.index(o.kind), grid)
    colours = patch_labels(scene, lambda o: 1 + COLOURS.index(o.colour), grid)
    largest = [1 + TARGET_KINDS.index(max(scene.objects, key=lambda o: o.size).kind)] if scene.objects else [0]
    present = [int(any(o.kind == k for o in scene.objects)) for k in TARGET_KINDS]
    tinted = [int(any(o.colour == c for o in scene.objects)) for c in COLOURS]
    return [kinds, colours, largest, present, tinted, [min(len(scene.objects), MAX_COUNT)]]


def stack_targets(scenes: list[Scene], grid: int) -> list[torch.Tensor]:
    """`scene_targets` of many scenes as six long tensors, [n, ...] each."""
    columns = zip(*(scene_targets(s, grid) for s in scenes))
    return [torch.tensor(c, dtype=torch.long) for c in columns]


class SceneHeads(nn.Module):
    """Linear heads for the scene targets on a tower of width `hidden`."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.patch_kind = nn.Linear(hidden, len(TARGET_KINDS) + 1)
        self.patch_colour = nn.Linear(hidden, len(COLOURS) + 1)
        self.largest = nn.Linear(hidden, len(TARGET_KINDS) + 1)
        self.kinds = nn.Linear(hidden, len(TARGET_KINDS))
        self.colours = nn.Linear(hidden, len(COLOURS))
        self.count = nn.Linear(hidden, MAX_COUNT + 1)

    def loss(self, patches: torch.Tensor, pooled: torch.Tensor, targets: list[torch.Tensor]) -> torch.Tensor:
        """The `LOSS_WEIGHTS`-weighted sum of the six losses (balanced cross-entropy for
        the dense targets, cross-entropy for the largest kind and the count, binary for the
        multi-hot ones) for patch tokens [B, grid * grid, hidden] and pooled outputs [B, hidden]."""
        ce, bce = nn.functional.cross_entropy, nn.functional.binary_cross_entropy_with_logits
        kind, colour, largest, kinds, colours, count = targets
        losses = {
            "patch_kind": balanced_dense_loss(self.patch_kind(patches), kind),
            "patch_colour": balanced_dense_loss(self.patch_colour(patches), colour),
            "largest": ce(self.largest(pooled), largest[:, 0]),
            "kinds": bce(self.kinds(pooled), kinds.float()),
            "colours": bce(self.colours(pooled), colours.float()),
            "count": ce(self.count(pooled), count[:, 0]),
        }
        return sum(LOSS_WEIGHTS[name] * value for name, value in losses.items())


def balanced_dense_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of per-patch `logits` [B, P, C] against `labels` [B, P] (0: no
    object): the mean over object patches plus the mean over empty ones (a part with no
    patch adds 0)."""
    per_patch = nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none")
    covered = (labels.flatten() > 0).float()
    empty = 1 - covered
    return (per_patch * covered).sum() / covered.sum().clamp(min=1) + (per_patch * empty).sum() / empty.sum().clamp(
        min=1
    )
