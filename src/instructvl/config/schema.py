"""The model config: three components (vision encoder, vision head, language model).

Every model is described by one `ModelConfig`; unknown keys are errors that list the
valid ones. A `source` names where weights come from: a hub id, a local directory, a
`.gguf` file, or `pkg:PACKAGE/PATH` (a file or folder shipped inside an installed Python
package). A component with `source: null` is built from its `arch` dict with random
weights (seeded); its weights are then always saved with the model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class VisionConfig(_Strict):
    """A frozen pretrained vision tower from transformers and how its features are read.

    `kind` picks the transformers class: clip (CLIPVisionModel), siglip
    (SiglipVisionModel), blip (Blip2VisionModel / InstructBlipVisionModel, also read out of
    a whole BLIP-2 or InstructBLIP checkpoint). `feature_layer` is "last" (the tower's own
    last_hidden_state) or a negative index into its hidden states (-2: penultimate, as
    LLaVA). `drop_cls` removes the first (class) token.
    """

    kind: Literal["clip", "siglip", "blip"] = "clip"
    source: str | None = None
    arch: dict[str, Any] = Field(default_factory=dict)
    feature_layer: Literal["last"] | int = "last"
    drop_cls: bool = False
    image_processor: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> VisionConfig:
        if isinstance(self.feature_layer, int) and self.feature_layer >= 0:
            raise ValueError("feature_layer must be 'last' or a negative index (-1 last, -2 penultimate)")
        if self.source is None and not self.arch:
            raise ValueError("a vision tower needs a `source` (hub id or directory) or an `arch` to build from")
        return self


class HeadConfig(_Strict):
    """The vision head and its projection to the language model's width.

    - `instructblip-qformer`: learned queries cross-attend to the image features, and the
      instruction tokens share the Q-Former's self-attention (InstructBLIP);
    - `qformer`: the same without the instruction (BLIP-2);
    - `linear` / `mlp`: a projection straight from patch features (LLaVA / LLaVA-1.5).
    `pool` averages patch tokens over pool x pool windows first (linear / mlp only).
    `output_norm: rms` rescales each visual token to unit RMS times a learnable gain,
    initialised at `gain_init` or, with "auto", at the RMS of the language model's text
    hidden states where the visual tokens enter. `qformer_init` is a BERT-style checkpoint
    (self-attention and FFN copied, the query FFN copied from the text FFN, cross-attention
    fresh); `qformer_tokenizer` (default: `qformer_init`) tokenises the instruction.
    `init` is a BLIP-2 checkpoint in LAVIS' layout (`synthvl-blip2:<size>`, the offline
    one built on first use; a folder, or a LAVIS `.pth` / `.safetensors` file) whose
    Q-Former, query tokens and projection are loaded after the model is built, so they
    win over `qformer_init` (which still gives the architecture and the tokenizer); an
    instruction-aware Q-Former takes BLIP-2's text path as its instruction path, as
    InstructBLIP starts from BLIP-2.
    """

    type: Literal["instructblip-qformer", "qformer", "linear", "mlp"] = "instructblip-qformer"
    num_queries: int = 32
    qformer_init: str | None = None
    qformer_tokenizer: str | None = None
    qformer_arch: dict[str, Any] = Field(default_factory=dict)
    init: str | None = None
    cross_attention_frequency: int = 1
    max_instruction_tokens: int = 128
    pool: int = 1
    output_norm: Literal["none", "rms"] = "none"
    gain_init: float | Literal["auto"] = "auto"
    mlp_hidden: int | None = None

    @property
    def uses_qformer(self) -> bool:
        return self.type in ("instructblip-qformer", "qformer")

    @property
    def uses_instruction(self) -> bool:
        return self.type == "instructblip-qformer"

    @model_validator(mode="after")
    def _check(self) -> HeadConfig:
        if self.pool < 1:
            raise ValueError("pool must be >= 1")
        if self.pool > 1 and self.uses_qformer:
            raise ValueError("pool applies to linear / mlp heads only; a Q-Former sets its token count by num_queries")
        if self.init is not None and not self.uses_qformer:
            raise ValueError(
                f"head.init ({self.init}) loads a BLIP-2 Q-Former: it needs a qformer or instructblip-qformer "
                f"head, not {self.type} (set head.init=null for a {self.type} head)"
            )
        if self.uses_qformer and self.qformer_init is None and not self.qformer_arch:
            raise ValueError("a Q-Former head needs `qformer_init` (a BERT-style checkpoint) or `qformer_arch`")
        if self.uses_instruction and (self.qformer_tokenizer or self.qformer_init) is None:
            raise ValueError("an instruction-aware Q-Former needs `qformer_tokenizer` (or `qformer_init`)")
        return self


class LoraSettings(_Strict):
    """LoRA adapters on the language model (peft)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] | Literal["all-linear"] = "all-linear"


class LanguageConfig(_Strict):
    """A decoder-only (`causal`) or encoder-decoder (`seq2seq`) language model.

    `inject_layer` 0 puts the visual tokens at the input embeddings; k > 0 writes them
    into the input of (decoder, or for seq2seq encoder) layer k, so gradients stop there
    and the prompt below layer k does not depend on the image. `prompt_format` is used
    when the tokenizer has no chat template (or `use_chat_template` is false): `{system}`,
    `{user}`, `{assistant}` pieces.

    Where the visual tokens go: `image_position` "marker" puts them at the `<image>` marker
    (else at the start of the first user turn, as LLaVA); "prefix" puts them before the
    whole text, BOS included (transformers' BLIP-2 / InstructBLIP). With
    `processor_tokenization` each run of consecutive prompt (or answer) text is tokenised
    in one piece, visual positions written as `image_token` and the tokenizer's own special
    tokens (BOS, or T5's closing EOS) added to the first run, exactly as a transformers
    processor tokenises its prompt; otherwise every segment is tokenised on its own.
    """

    kind: Literal["causal", "seq2seq"] = "causal"
    source: str | None = None
    gguf_file: str | None = None
    arch: dict[str, Any] = Field(default_factory=dict)
    tokenizer: str | None = None
    inject_layer: int = 0
    system_prompt: str | None = None
    prompt_format: dict[str, str] = Field(
        default_factory=lambda: {
            "user": "USER: {content}\n",
            "assistant": "ASSISTANT: {content}{eos}\n",
            "system": "{content}\n",
        }
    )
    lora: LoraSettings | None = None
    use_chat_template: bool = True
    image_position: Literal["marker", "prefix"] = "marker"
    processor_tokenization: bool = False
    image_token: str = "<image>"

    @model_validator(mode="after")
    def _check(self) -> LanguageConfig:
        if self.inject_layer < 0:
            raise ValueError("inject_layer must be >= 0 (0 = input embeddings)")
        if self.source is None and not self.arch:
            raise ValueError("a language model needs a `source` or an `arch` to build from")
        if self.source is None and self.tokenizer is None:
            raise ValueError("a language model built from `arch` needs a `tokenizer` source")
        return self


class ModelConfig(_Strict):
    """A whole vision-language model: the three components and a seed for random init."""

    name: str = "custom"
    vision: VisionConfig
    head: HeadConfig
    llm: LanguageConfig
    seed: int = 0


class FreezePolicy(_Strict):
    """What trains, declared per module: the vision tower, the head, the projector, and
    the LLM (`frozen`, `full`, `lora` adapters, or `layers` [start, end) only)."""

    vision: bool = False
    head: bool = True
    projector: bool = True
    llm: Literal["frozen", "full", "lora", "layers"] = "frozen"
    llm_layers: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _check(self) -> FreezePolicy:
        if (self.llm == "layers") != (self.llm_layers is not None):
            raise ValueError("llm_layers [start, end) is required with llm: layers, and only then")
        if self.llm_layers is not None and not 0 <= self.llm_layers[0] < self.llm_layers[1]:
            raise ValueError("llm_layers must be [start, end) with 0 <= start < end")
        return self
