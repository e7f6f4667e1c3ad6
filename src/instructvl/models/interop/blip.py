"""The BLIP family in transformers: `InstructBlipForConditionalGeneration` (instruction-
aware Q-Former) and `Blip2ForConditionalGeneration` (queries only), with a decoder-only
(Vicuna / Llama, OPT) or encoder-decoder (Flan-T5) language model.

Their processors put the query outputs before the whole prompt, BOS included, and
tokenise the prompt as one piece (T5 closes it with EOS); the prompt is the instruction
itself, the answer follows directly (LAVIS' format)."""

from __future__ import annotations

from pathlib import Path

from instructvl.config.loader import validate
from instructvl.config.schema import ModelConfig
from instructvl.errors import InstructVLError
from instructvl.models.interop.hf import image_token, load_head_weights

QFORMER_KEYS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "max_position_embeddings",
    "initializer_range",
    "layer_norm_eps",
    "pad_token_id",
)
HEAD_RULES = [
    ("qformer.", "head.qformer."),
    ("query_tokens", "head.query_tokens"),
    ("language_projection.", "projector.net."),
]
QFORMER_TOKENIZER_DIR = "qformer_tokenizer"


def prompt_format(seq2seq: bool) -> dict[str, str]:
    """The instruction as the prompt; the answer right after it (ending in EOS for causal LMs)."""
    return {"system": "{content}\n", "user": "{content}", "assistant": "{content}" if seq2seq else "{content}{eos}"}


def model_config(folder: Path, hf_config) -> ModelConfig:
    """The instructvl config of an InstructBLIP / BLIP-2 checkpoint folder."""
    instruct = hf_config.model_type == "instructblip"
    qformer = hf_config.qformer_config
    head = {
        "type": "instructblip-qformer" if instruct else "qformer",
        "num_queries": hf_config.num_query_tokens,
        "qformer_arch": {k: getattr(qformer, k) for k in QFORMER_KEYS},
        "cross_attention_frequency": qformer.cross_attention_frequency,
    }
    if instruct:
        tokenizer_dir = folder / QFORMER_TOKENIZER_DIR
        if not tokenizer_dir.is_dir():
            raise InstructVLError(
                f"{folder}: no {QFORMER_TOKENIZER_DIR}/ folder (the InstructBLIP processor's Q-Former tokenizer)"
            )
        head["qformer_tokenizer"] = str(tokenizer_dir)
    seq2seq = not hf_config.use_decoder_only_language_model
    llm = {
        "kind": "seq2seq" if seq2seq else "causal",
        "source": str(folder),
        "prompt_format": prompt_format(seq2seq),
        "use_chat_template": False,
        "image_position": "prefix",
        "processor_tokenization": True,
        "image_token": image_token(folder, hf_config),
    }
    data = {
        "name": f"{hf_config.model_type}-{folder.name}",
        "vision": {"kind": "blip", "source": str(folder)},
        "head": head,
        "llm": llm,
    }
    return validate(ModelConfig, data, f"(converted from {folder})")


def load_weights(model, folder: Path, hf_config) -> None:
    """Q-Former, query tokens and language projection from the checkpoint."""
    load_head_weights(model, folder, HEAD_RULES)
