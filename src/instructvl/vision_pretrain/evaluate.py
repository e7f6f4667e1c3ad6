"""Zero-shot evaluation: image-to-caption retrieval and attribute retrieval (no probe)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from instructvl.data.synthvl.scenes import HELD_IN_COLOURS, NOVEL_COLOURS, NOVEL_SHAPES, SHAPES
from instructvl.vision_pretrain.data import EvalSet

Embed = Callable[[torch.Tensor], torch.Tensor]  # uint8 images -> normalised [n, 384]
EmbedText = Callable[[list[str]], torch.Tensor]  # texts -> normalised [n, 384]


def retrieval(image_emb: torch.Tensor, captions: list[str], embed_text: EmbedText) -> dict:
    """Image -> caption retrieval among the set's distinct captions (each image's own
    caption is the one correct candidate): top-1, top-5 and their chance levels."""
    candidates = list(dict.fromkeys(captions))
    target = torch.tensor([candidates.index(c) for c in captions])
    sims = image_emb @ embed_text(candidates).T
    k = min(5, len(candidates))
    top = sims.topk(k, dim=1).indices
    n = len(candidates)
    return {
        "images": len(captions),
        "candidates": n,
        "top1": round((top[:, 0] == target).float().mean().item(), 4),
        "top5": round((top == target[:, None]).any(1).float().mean().item(), 4),
        "chance_top1": round(1 / n, 4),
        "chance_top5": round(k / n, 4),
    }


def attributes(image_emb: torch.Tensor, ev: EvalSet, embed_text: EmbedText) -> dict | None:
    """On single-shape images: the nearest of "a <colour> <shape>" for every colour and
    shape of the set's vocabulary; accuracy of the pair, of its colour, of its shape."""
    novel = ev.name.startswith("nocaps")
    colours = HELD_IN_COLOURS + (NOVEL_COLOURS if novel else ())
    kinds = SHAPES + (NOVEL_SHAPES if novel else ())
    keep = [i for i, s in enumerate(ev.scenes) if len(s.objects) == 1 and s.objects[0].kind in kinds]
    if not keep:
        return None
    pairs = [(c, k) for c in colours for k in kinds]
    sims = image_emb[keep] @ embed_text([f"a {c} {k}" for c, k in pairs]).T
    best = [pairs[j] for j in sims.argmax(1).tolist()]
    truth = [(ev.scenes[i].objects[0].colour, ev.scenes[i].objects[0].kind) for i in keep]
    acc = lambda f: round(sum(f(b, t) for b, t in zip(best, truth)) / len(keep), 4)  # noqa: E731
    return {
        "images": len(keep),
        "pair": acc(lambda b, t: b == t),
        "colour": acc(lambda b, t: b[0] == t[0]),
        "shape": acc(lambda b, t: b[1] == t[1]),
        "chance_pair": round(1 / len(pairs), 4),
        "chance_colour": round(1 / len(colours), 4),
        "chance_shape": round(1 / len(kinds), 4),
    }


def evaluate(sets: list[EvalSet], embed_images: Embed, embed_text: EmbedText) -> dict:
    """{set name: {"what", "retrieval", "attributes"}} for every evaluation set."""
    out = {}
    for ev in sets:
        emb = embed_images(ev.images)
        out[ev.name] = {
            "what": ev.what,
            "retrieval": retrieval(emb, ev.captions, embed_text),
            "attributes": attributes(emb, ev, embed_text),
        }
    return out
