"""`pretrain_blip2`: both BLIP-2 stages on the SynthVL-web corpus, evaluated and saved."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import torch

from instructvl.blip2_pretrain.data import WebCaptions, caption, web_captions
from instructvl.blip2_pretrain.evaluate import retrieval
from instructvl.blip2_pretrain.loop import run_stage
from instructvl.blip2_pretrain.recipe import VERSION, Blip2Recipe
from instructvl.blip2_pretrain.save import save_blip2, stage1_state, with_stage2
from instructvl.blip2_pretrain.stage1 import DEC_TOKEN, Blip2Stage1
from instructvl.blip2_pretrain.stage2 import caption_loss, held_out_loss, stage2_model
from instructvl.data.seeding import permutation_batches
from instructvl.errors import InstructVLError
from instructvl.progress import StepBar
from instructvl.threads import torch_threads

EVAL_CAPTIONS = 32


def qformer_tokenizer(recipe: Blip2Recipe):
    """The Q-Former's tokenizer (that of `qformer_init`)."""
    from transformers import AutoTokenizer

    from instructvl.models import sources

    return sources.load_pretrained(AutoTokenizer.from_pretrained, sources.resolve(recipe.qformer_init), "tokenizer")


def build_stage1(recipe: Blip2Recipe, vision_width: int, tokenizer) -> Blip2Stage1:
    """The stage-1 model: `recipe.head_config()`'s Q-Former with BLIP-2's stage-1 heads."""
    from instructvl.models.heads.qformer import QFormerHead

    dec = tokenizer.convert_tokens_to_ids(DEC_TOKEN)
    if dec is None or dec == tokenizer.unk_token_id:
        raise InstructVLError(f"the Q-Former tokenizer has no {DEC_TOKEN} token (BLIP-2's decoder marker)")
    head = QFormerHead.build(recipe.head_config(), vision_width, recipe.seed)
    return Blip2Stage1(head, recipe.embed_dim, dec, recipe.seed + 1)


def encode_captions(tokenizer, samples, max_tokens: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, mask, caption ids) of the samples' alt text; equal captions get equal ids."""
    texts = [caption(s) for s in samples]
    enc = tokenizer(texts, padding="longest", truncation=True, max_length=max_tokens, return_tensors="pt")
    codes = {t: k for k, t in enumerate(dict.fromkeys(texts))}
    return enc.input_ids, enc.attention_mask, torch.tensor([codes[t] for t in texts])


def _stats(result: dict) -> dict:
    curves = result.pop("losses")
    last = {k: round(sum(v[-5:]) / len(v[-5:]), 5) for k, v in curves.items()}
    return {**result, "loss_first": {k: v[0] for k, v in curves.items()}, "loss_final": last, "loss_curve": curves}


def pretrain_blip2(
    out: str | Path,
    recipe: Blip2Recipe = Blip2Recipe(),
    data_root: str | Path | None = None,
    show_progress: bool = True,
    console=None,
    threads: int = 2,
) -> dict:
    """Runs BLIP-2's two stages by `recipe` (stage 1: ITC + ITM + ITG against the frozen
    tower; stage 2: captions through the frozen LLM), evaluates on held-back corpus
    stills, and writes `out` atomically (`save.WEIGHTS` in LAVIS' layout + `save.REPORT`,
    also returned). `data_root`: a SynthVL-web corpus (default: the cached one of
    `recipe.data_scale` / `data_seed`, generated once). A stage with 0 steps is skipped
    (no stage 2: no projection saved)."""
    from instructvl.models.vision import VisionEncoder
    from instructvl.train.feature_cache import FeatureCache

    timing: dict[str, float] = {}
    start = time.perf_counter()
    with torch_threads(threads), StepBar(show_progress, console) as bar:
        root = Path(data_root) if data_root is not None else _default_web(recipe, bar)
        pool = max(recipe.stage1_steps * recipe.stage1_batch, recipe.stage2_steps * recipe.stage2_batch)
        data = web_captions(root, pool, recipe.eval_images, recipe.seed)
        timing["data_s"] = time.perf_counter() - start

        t0 = time.perf_counter()
        vision = VisionEncoder.build(recipe.stage2_config().vision)
        features = FeatureCache(vision)
        task = bar.task(f"tower features of {len(data.all)} web stills (frozen, cached)", None)
        features.ensure([s.images[0] for s in data.all])
        bar.update(task, total=1, completed=1)
        timing["features_s"] = time.perf_counter() - t0

        tokenizer = qformer_tokenizer(recipe)
        torch.manual_seed(recipe.seed)
        stage1 = build_stage1(recipe, vision.hidden_size, tokenizer)
        report_stage1, results = _stage1(recipe, stage1, data, features, tokenizer, bar)
        state = stage1_state(stage1)
        params = {"qformer": sum(p.numel() for p in stage1.head.parameters())}
        params["stage1_heads"] = sum(p.numel() for p in stage1.parameters()) - params["qformer"]
        del stage1
        report_stage2 = None
        if recipe.stage2_steps:
            report_stage2, model = _stage2(recipe, state, data, features, bar, results)
            state = with_stage2(state, model)
            params["projector"] = sum(p.numel() for p in model.projector.parameters())
    timing["total_s"] = time.perf_counter() - start
    report = {
        "version": VERSION,
        "recipe": asdict(recipe),
        "recipe_key": recipe.key(),
        "stage2_model": recipe.stage2_config().model_dump(mode="json"),
        "parameters": params,
        "data": {
            "root": str(root),
            "kind": "synthvl-web stills with alt text",
            "stills_available": data.available,
            "train_pool": len(data.train),
            "eval_images": len(data.eval),
            "held_out_read_for_training": False,
        },
        "seconds": {k: round(v, 2) for k, v in timing.items()},
        "stage1": report_stage1,
        "stage2": report_stage2,
        "eval": results,
    }
    save_blip2(Path(out), state, report)
    return report


def _default_web(recipe: Blip2Recipe, bar) -> Path:
    from instructvl.data.synthvl.cache import default_web
    from instructvl.data.synthvl.web_corpus import WEB_SIZES

    task = bar.task(f"SynthVL-web {recipe.data_scale} corpus (generated once)", WEB_SIZES[recipe.data_scale])
    return default_web(recipe.data_scale, recipe.data_seed, progress=lambda k: bar.update(task, advance=k))


def _stage1(recipe: Blip2Recipe, stage1: Blip2Stage1, data: WebCaptions, features, tokenizer, bar):
    """Trains stage 1 (if it has steps) and evaluates ITC retrieval; (stage report, eval)."""
    stream = permutation_batches(len(data.train), recipe.stage1_batch, torch.Generator().manual_seed(recipe.seed))
    stage1.train()

    def step_losses(_step: int) -> dict:
        samples = [data.train[i] for i in next(stream).tolist()]
        ids, mask, codes = encode_captions(tokenizer, samples, recipe.max_text_tokens)
        return stage1.losses(features([s.images[0] for s in samples]), ids, mask, codes)

    report = None
    if recipe.stage1_steps:
        params = [p for p in stage1.parameters() if p.requires_grad]
        result = run_stage(
            "BLIP-2 stage 1 (ITC + ITM + ITG)",
            params,
            step_losses,
            recipe.stage1_steps,
            recipe.stage1_lr,
            recipe.warmup,
            recipe.weight_decay,
            bar,
        )
        report = _stats(result) | {"batch_size": recipe.stage1_batch, "temperature": round(stage1.temp.item(), 5)}
    t0 = time.perf_counter()
    ids, mask, _ = encode_captions(tokenizer, data.eval, recipe.max_text_tokens)
    feats = features([s.images[0] for s in data.eval])
    results = {"retrieval": retrieval(stage1, feats, ids, mask, [caption(s) for s in data.eval])}
    results["retrieval"]["seconds"] = round(time.perf_counter() - t0, 2)
    return report, results


def _stage2(recipe: Blip2Recipe, state: dict, data: WebCaptions, features, bar, results: dict):
    """Trains stage 2 and evaluates captions; (stage report, the stage-2 model)."""
    t0 = time.perf_counter()
    model = stage2_model(recipe, state)
    collator = model.collator(vision_features=features)
    held = data.eval[:EVAL_CAPTIONS]
    before = held_out_loss(model, collator, held, recipe.stage2_batch)
    build_s = time.perf_counter() - t0
    stream = permutation_batches(len(data.train), recipe.stage2_batch, torch.Generator().manual_seed(recipe.seed + 1))
    model.train()

    def step_losses(_step: int) -> dict:
        return {"caption": caption_loss(model, collator, [data.train[i] for i in next(stream).tolist()])}

    params = [p for p in model.parameters() if p.requires_grad]
    result = run_stage(
        "BLIP-2 stage 2 (captions via the frozen LLM)",
        params,
        step_losses,
        recipe.stage2_steps,
        recipe.stage2_lr,
        recipe.warmup,
        recipe.weight_decay,
        bar,
    )
    t0 = time.perf_counter()
    model.eval()
    results["caption_loss"] = {
        "images": len(held),
        "before_stage2": round(before, 4),
        "after_stage2": round(held_out_loss(model, collator, held, recipe.stage2_batch), 4),
    }
    results["caption_eval_s"] = round(time.perf_counter() - t0, 2)
    report = _stats(result) | {"batch_size": recipe.stage2_batch, "build_and_first_eval_s": round(build_s, 2)}
    return report, model
