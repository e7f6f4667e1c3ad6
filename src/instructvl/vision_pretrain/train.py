"""The contrastive training loop and the saved tower (transformers' CLIP vision format)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from instructvl.artefacts import atomic_folder
from instructvl.data.seeding import permutation_batches
from instructvl.errors import InstructVLError
from instructvl.models.random_init import seeded
from instructvl.progress import StepBar
from instructvl.threads import torch_threads
from instructvl.vision_pretrain.data import Pairs, eval_sets, training_pairs, web_pairs
from instructvl.vision_pretrain.evaluate import evaluate
from instructvl.vision_pretrain.loss import contrastive_loss
from instructvl.vision_pretrain.recipe import VERSION, Recipe, arch_for
from instructvl.vision_pretrain.targets import SceneHeads, stack_targets
from instructvl.vision_pretrain.text import TEXT_DIM, TEXT_ENCODER, SentenceEncoder

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
REPORT = "pretrain_report.json"
HEAD = "contrastive_head.safetensors"


class ContrastiveTower(nn.Module):
    """A `CLIPVisionModel`, a linear map of its pooled output into MiniLM's space, the
    learnable log inverse temperature (initialised at log(1/0.07)), and, with
    `scene_heads`, the heads of the supervised scene targets (`targets.SceneHeads`)."""

    def __init__(self, arch: dict, scene_heads: bool = False) -> None:
        super().__init__()
        from transformers import CLIPVisionConfig, CLIPVisionModel

        self.vision = CLIPVisionModel(CLIPVisionConfig(**arch))
        self.proj = nn.Linear(arch["hidden_size"], TEXT_DIM, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.scene_heads = SceneHeads(arch["hidden_size"]) if scene_heads else None
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [n, 3, H, W] -> normalised pixel values, as the saved image processor makes them."""
        return (images.float() * (1 / 255) - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed_output(self.vision(pixel_values=self.pixels(images)))

    def embed_output(self, out) -> torch.Tensor:
        """The L2-normalised caption-space embedding of a tower output."""
        return nn.functional.normalize(self.proj(out.pooler_output), dim=-1)

    def step_loss(self, images: torch.Tensor, text_emb, caps, targets, scene_weight: float) -> torch.Tensor:
        """The training loss of a batch: contrastive, plus `scene_weight` x the scene-target
        loss when the tower has scene heads and `targets` are given."""
        out = self.vision(pixel_values=self.pixels(images))
        loss = contrastive_loss(self.embed_output(out), text_emb, caps, self.logit_scale)
        if self.scene_heads is not None and targets is not None:
            patches = out.last_hidden_state[:, 1:]
            loss = loss + scene_weight * self.scene_heads.loss(patches, out.pooler_output, targets)
        return loss

    @torch.inference_mode()
    def embed(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        was = self.training
        self.eval()
        out = torch.cat([self(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])
        self.train(was)
        return out


def image_processor(image_size: int):
    """The CLIP image processor matching training: image_size px, CLIP mean and std."""
    from transformers import CLIPImageProcessorPil

    return CLIPImageProcessorPil(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        image_mean=list(CLIP_MEAN),
        image_std=list(CLIP_STD),
    )


def lr_at(step: int, recipe: Recipe) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay to a tenth of the peak."""
    if step < recipe.warmup:
        return recipe.lr * (step + 1) / recipe.warmup
    t = (step - recipe.warmup) / max(1, recipe.steps - recipe.warmup)
    return recipe.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def _optimizer(model: ContrastiveTower, recipe: Recipe) -> torch.optim.AdamW:
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": recipe.weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=recipe.lr
    )


def batches(n_images: int, pools: list[list[int]], recipe: Recipe):
    """Yields (image indices, caption ids) per step: epochs of seeded permutations, one
    caption drawn per image from its pool."""
    gen = torch.Generator().manual_seed(recipe.seed)
    sizes = torch.tensor([len(p) for p in pools])
    for idx in permutation_batches(n_images, recipe.batch_size, gen):
        pick = (torch.rand(len(idx), generator=gen) * sizes[idx]).long()
        yield idx, torch.tensor([pools[i][k] for i, k in zip(idx.tolist(), pick.tolist())])


def pretrain_vision(
    out: str | Path,
    data_root: str | Path | None = None,
    recipe: Recipe = Recipe(),
    names: list[str] | None = None,
    eval_limit: int | None = None,
    show_progress: bool = True,
    console=None,
    threads: int = 2,
) -> dict:
    """Trains a tower by `recipe` on `data_root`, evaluates retrieval, and writes `out`
    atomically: config.json + model.safetensors (`CLIPVisionModel`),
    preprocessor_config.json, the contrastive head and the JSON report (also returned).

    `data_root` is a SynthVL-web corpus (its still images and alt text, plus the scene
    targets when `recipe.scene_weight` > 0; retrieval is evaluated on the suite it
    avoids) or a SynthVL suite (its held-in `train` splits; `names` restricts them,
    held-out ones are refused). Default: `recipe.corpus` of `recipe.data_scale` /
    `data_seed` from the cache, generated once."""
    out = Path(out)
    arch = arch_for(recipe.size)
    if recipe.steps < 1 or recipe.batch_size < 2:
        raise InstructVLError("pretrain-vision needs steps >= 1 and batch size >= 2")
    timing: dict[str, float] = {}
    start = time.perf_counter()
    with torch_threads(threads), StepBar(show_progress, console) as bar:
        if data_root is None:
            data_root = default_data(recipe, bar)
        pairs, suite = training_data(data_root, arch["image_size"], recipe, names)
        sets = eval_sets(suite, arch["image_size"], eval_limit)
        timing["data_s"] = time.perf_counter() - start

        t0 = time.perf_counter()
        text = SentenceEncoder()
        task = bar.task("embedding captions (MiniLM, frozen)", len(pairs.captions))
        text_emb = text.encode(pairs.captions, progress=lambda k: bar.update(task, advance=k))
        timing["embed_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        use_scenes = pairs.scenes is not None and recipe.scene_weight > 0
        targets = stack_targets(pairs.scenes, arch["image_size"] // arch["patch_size"]) if use_scenes else None
        model = seeded(recipe.seed, lambda: ContrastiveTower(arch, scene_heads=use_scenes))
        opt = _optimizer(model, recipe)
        losses: list[float] = []
        task = bar.task(f"training {recipe.size} tower", recipe.steps)
        stream = batches(len(pairs.images), pairs.pools, recipe)
        model.train()
        for step in range(recipe.steps):
            idx, caps = next(stream)
            for group in opt.param_groups:
                group["lr"] = lr_at(step, recipe)
            batch_targets = [t[idx] for t in targets] if targets is not None else None
            loss = model.step_loss(pairs.images[idx], text_emb[caps], caps, batch_targets, recipe.scene_weight)
            if not torch.isfinite(loss):
                raise InstructVLError(f"pretrain-vision: loss is {loss.item()} at step {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(round(loss.item(), 5))
            recent = sum(losses[-10:]) / len(losses[-10:])
            bar.update(task, advance=1, info=f"loss {recent:.3f}  T {1 / model.logit_scale.exp().item():.3f}")
        timing["train_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        cache: dict[str, torch.Tensor] = {}

        def embed_text(texts: list[str]) -> torch.Tensor:
            missing = [t for t in dict.fromkeys(texts) if t not in cache]
            if missing:
                cache.update(zip(missing, text.encode(missing)))
            return torch.stack([cache[t] for t in texts])

        results = evaluate(sets, model.embed, embed_text)
        timing["eval_s"] = time.perf_counter() - t0
    timing["total_s"] = time.perf_counter() - start
    report = {
        "version": VERSION,
        "recipe": asdict(recipe),
        "recipe_key": recipe.key(),
        "arch": arch,
        "parameters": sum(p.numel() for p in model.vision.parameters()),
        "text_encoder": TEXT_ENCODER,
        "data": {
            "root": str(data_root),
            "kind": "synthvl-web" if pairs.scenes is not None else "synthvl suite",
            "scene_targets": use_scenes,
            "datasets": pairs.counts,
            "images": len(pairs.images),
            "captions": len(pairs.captions),
            "held_out_read_for_training": False,
        },
        "steps": recipe.steps,
        "seconds": {k: round(v, 2) for k, v in timing.items()},
        "s_per_step": round(timing["train_s"] / recipe.steps, 3),
        "loss_first": losses[0],
        "loss_final": round(sum(losses[-10:]) / len(losses[-10:]), 5),
        "temperature_final": round(1 / model.logit_scale.exp().item(), 5),
        "loss_curve": losses,
        "eval": results,
    }
    save_tower(model, out, report)
    return report


def default_data(recipe: Recipe, bar) -> Path:
    """The cached training data `recipe.corpus` names (generated once, with a bar)."""
    from instructvl.data.synthvl.cache import default_suite, default_web
    from instructvl.data.synthvl.web_corpus import WEB_SIZES

    if recipe.corpus == "suite":
        task = bar.task(f"SynthVL {recipe.data_scale} suite (generated once)", None)
        root = default_suite(recipe.data_scale, recipe.data_seed)
        bar.update(task, total=1, completed=1)
        return root
    task = bar.task(f"SynthVL-web {recipe.data_scale} corpus (generated once)", WEB_SIZES[recipe.data_scale])
    return default_web(recipe.data_scale, recipe.data_seed, progress=lambda k: bar.update(task, advance=k))


def training_data(root: str | Path, image_size: int, recipe: Recipe, names: list[str] | None) -> tuple[Pairs, Path]:
    """The training pairs of `root` (a SynthVL-web corpus or a suite, by its manifest) and
    the suite retrieval is evaluated on."""
    from instructvl.data.synthvl.loader import load_manifest
    from instructvl.data.synthvl.web import NAME

    manifest = load_manifest(root)
    if manifest.get("suite") == NAME:
        if names:
            raise InstructVLError(f"{root} is a SynthVL-web corpus: it has no datasets to choose with --only")
        return web_pairs(root, image_size), Path(manifest["avoids"])
    return training_pairs(root, image_size, names, recipe.scene_captions), Path(root)


def save_tower(model: ContrastiveTower, out: Path, report: dict) -> None:
    """Writes the tower folder aside and renames it into place (replacing an older one)."""
    from safetensors.torch import save_file

    with atomic_folder(out) as staging:
        model.vision.save_pretrained(staging)
        image_processor(model.vision.config.image_size).save_pretrained(staging)
        save_file(
            {
                "proj.weight": model.proj.weight.detach().contiguous(),
                "logit_scale": model.logit_scale.detach().reshape(1),
            },
            str(staging / HEAD),
        )
        (staging / REPORT).write_text(json.dumps(report, indent=2) + "\n")
