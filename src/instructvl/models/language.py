"""Language models from transformers: decoder-only (AutoModelForCausalLM) or
encoder-decoder (AutoModelForSeq2SeqLM), loaded by hub id, directory or GGUF file, with
visual tokens written in at the input embeddings or at the input of layer k."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from instructvl.config.schema import LanguageConfig
from instructvl.errors import InstructVLError
from instructvl.models import sources
from instructvl.models.random_init import seeded

CALIBRATION_TEXT = (
    "The quick brown fox jumps over the lazy dog. A photo of a red square next to a small "
    "blue circle on a white table, seen from above in daylight."
)


def _auto_class(kind: str):
    import transformers

    return transformers.AutoModelForCausalLM if kind == "causal" else transformers.AutoModelForSeq2SeqLM


def _num_layers(config) -> int:
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    for key in ("num_hidden_layers", "num_layers", "n_layer"):
        value = getattr(text, key, None)
        if isinstance(value, int):
            return value
    raise InstructVLError(f"cannot tell how many layers a {type(config).__name__} has")


def find_layers(stack: nn.Module, count: int) -> nn.ModuleList:
    """The first ModuleList of exactly `count` modules under `stack`: its transformer layers.

    Found by structure, never by the model's name."""
    for module in stack.modules():
        if isinstance(module, nn.ModuleList) and len(module) == count:
            return module
    raise InstructVLError(f"no list of {count} layers found in {type(stack).__name__}")


# Whole vision-language checkpoints whose language model is read out by key prefix, and
# where it sits in them (older and newer transformers layouts).
COMPOSITE_TYPES = ("instructblip", "blip-2", "llava")
_COMPOSITE_PREFIXES = [("model.language_model.", "model."), ("language_model.", ""), ("lm_head.", "lm_head.")]


def _load_composite(path: str, auto):
    """The language model inside a whole BLIP-2 / InstructBLIP / LLaVA checkpoint folder."""
    from transformers import AutoConfig
    from transformers.initialization import no_init_weights

    text_config = AutoConfig.from_pretrained(path).get_text_config()
    with no_init_weights():
        model = auto.from_config(text_config, dtype=torch.float32)
    state = sources.read_safetensors(path, sources.prefix_renamer(_COMPOSITE_PREFIXES))
    missing, _ = model.load_state_dict(state, strict=False)
    model.tie_weights()  # tied copies (T5's embeddings, a tied LM head) are stored once
    loaded = {id(p) for n, p in model.named_parameters(remove_duplicate=False) if n in state}
    untied = [n for n, p in model.named_parameters(remove_duplicate=False) if n in missing and id(p) not in loaded]
    if untied:
        raise InstructVLError(f"{path}: the language model is missing weights {untied[:5]}")
    return model


def _load(cfg: LanguageConfig, seed: int):
    from transformers import AutoConfig, AutoTokenizer

    auto = _auto_class(cfg.kind)
    if cfg.source is None:
        arch = dict(cfg.arch)
        model_type = arch.pop("model_type", None)
        if model_type is None:
            raise InstructVLError("llm.arch needs a `model_type` (e.g. llama, t5)")
        config = AutoConfig.for_model(model_type, **arch)
        model = seeded(seed, lambda: auto.from_config(config, dtype=torch.float32))
        path = None
    else:
        path = sources.resolve(cfg.source)
        gguf = Path(path) / cfg.gguf_file if cfg.gguf_file else Path(path)
        if gguf.suffix == ".gguf":
            path = str(sources.convert_gguf(gguf, cfg.kind))
        if sources.composite_type(path) in COMPOSITE_TYPES:
            model = _load_composite(path, auto)
        else:
            model = sources.load_pretrained(auto.from_pretrained, path, "language model", dtype=torch.float32)
    tok_source = sources.resolve(cfg.tokenizer) if cfg.tokenizer else path
    tokenizer = sources.load_pretrained(AutoTokenizer.from_pretrained, tok_source, "tokenizer")
    return model, tokenizer


def _add_lora(model: nn.Module, cfg: LanguageConfig) -> None:
    from peft import LoraConfig, inject_adapter_in_model

    lora = cfg.lora
    target = lora.target_modules
    if target == "all-linear":
        output = model.get_output_embeddings()
        names = {
            name.split(".")[-1]
            for name, mod in model.named_modules()
            if isinstance(mod, nn.Linear) and mod is not output
        }
        target = sorted(names)
    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=target)
    inject_adapter_in_model(config, model)


class LanguageModel(nn.Module):
    """A transformers LM plus its tokenizer, its transformer layers, and the injection point.

    `inject_layer` k > 0 addresses the decoder layers (causal) or encoder layers (seq2seq)."""

    def __init__(self, cfg: LanguageConfig, model: nn.Module, tokenizer) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = model
        self.tokenizer = tokenizer
        self.is_seq2seq = cfg.kind == "seq2seq"
        stack = model.get_encoder() if self.is_seq2seq else model.get_decoder()
        self.layers = find_layers(stack, _num_layers(model.config))
        if cfg.inject_layer >= len(self.layers):
            raise InstructVLError(
                f"llm.inject_layer={cfg.inject_layer} but the model has {len(self.layers)} layers "
                f"(0..{len(self.layers) - 1})"
            )
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @classmethod
    def build(cls, cfg: LanguageConfig, seed: int = 0) -> LanguageModel:
        """Loads (or builds seeded random) the LM and its tokenizer, adding LoRA if configured."""
        model, tokenizer = _load(cfg, seed)
        if cfg.lora is not None:
            seeded(seed, lambda: _add_lora(model, cfg))
        model.eval()
        return cls(cfg, model, tokenizer)

    @property
    def hidden_size(self) -> int:
        return self.model.get_input_embeddings().weight.shape[1]

    @property
    def max_length(self) -> int:
        text = self.model.config.get_text_config()
        return getattr(text, "max_position_embeddings", None) or getattr(self.tokenizer, "model_max_length", 2048)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.get_input_embeddings()(input_ids)

    @contextmanager
    def inject_at_layer(self, mask: torch.Tensor, visual: torch.Tensor) -> Iterator[None]:
        """While active, the input of layer `inject_layer` takes `visual` [B, L, D] where
        `mask` [B, L] is true. Forward passes of another length (decoding steps after the
        prompt) are left alone; a batch expanded for beam search is matched row by row."""
        if not mask.any():
            yield
            return

        def hook(_module, args, kwargs):
            hidden = args[0] if args else kwargs["hidden_states"]
            if hidden.shape[1] != mask.shape[1]:
                return None
            m, v = mask, visual
            if hidden.shape[0] != m.shape[0]:
                rep = hidden.shape[0] // m.shape[0]
                m, v = m.repeat_interleave(rep, 0), v.repeat_interleave(rep, 0)
            new = torch.where(m.unsqueeze(-1), v.to(hidden.dtype), hidden)
            if args:
                return (new, *args[1:]), kwargs
            return args, {**kwargs, "hidden_states": new}

        handle = self.layers[self.cfg.inject_layer].register_forward_pre_hook(hook, with_kwargs=True)
        try:
            yield
        finally:
            handle.remove()

    @torch.no_grad()
    def text_hidden_rms(self) -> float:
        """Median per-token RMS of text hidden states where visual tokens enter: the input
        embeddings (layer 0) or the input of layer k, on a fixed calibration sentence."""
        ids = self.tokenizer(CALIBRATION_TEXT, return_tensors="pt").input_ids
        k = self.cfg.inject_layer
        if k == 0:
            hidden = self.embed(ids)
        else:
            stack = self.model.get_encoder() if self.is_seq2seq else self.model.get_decoder()
            hidden = stack(input_ids=ids, output_hidden_states=True).hidden_states[k]
        rms = hidden[0, 1:].float().pow(2).mean(-1).sqrt()
        return float(rms.median())
