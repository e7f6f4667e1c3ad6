"""ITC retrieval on corpus stills held back from training (the stage-2 caption loss on
them is `stage2.held_out_loss`)."""

from __future__ import annotations

import torch


@torch.no_grad()
def retrieval(stage1, feats: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, texts: list[str]) -> dict:
    """Image->text and text->image top-1 / top-5 by the ITC similarity among the
    evaluation stills (a hit: a retrieved caption equal to the true one, or an image of
    it), with chance levels."""
    was = stage1.training
    stage1.eval()
    queries = torch.cat([stage1.image_pass(feats[i : i + 64]) for i in range(0, len(feats), 64)])
    cls = torch.cat([stage1.text_pass(ids[i : i + 64], mask[i : i + 64])[:, 0] for i in range(0, len(ids), 64)])
    sim = stage1.similarities(queries, cls)
    stage1.train(was)
    codes = {t: k for k, t in enumerate(dict.fromkeys(texts))}
    label = torch.tensor([codes[t] for t in texts])
    same = label[:, None] == label[None, :]
    n = len(texts)

    def top(scores: torch.Tensor, k: int) -> float:
        best = scores.topk(min(k, n), dim=1).indices
        return round(same.gather(1, best).any(1).float().mean().item(), 4)

    return {
        "images": n,
        "image_to_text_top1": top(sim, 1),
        "image_to_text_top5": top(sim, 5),
        "text_to_image_top1": top(sim.T, 1),
        "text_to_image_top5": top(sim.T, 5),
        "chance_top1": round(1 / n, 4),
        "chance_top5": round(min(5, n) / n, 4),
    }
