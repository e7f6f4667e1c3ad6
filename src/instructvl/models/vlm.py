"""The vision-language model: a vision encoder, a vision head + projector, and a language
model, composed. Offers the LM loss, batched generation, candidate scoring, and exact
save / reload of the weights that are not reproducible from their sources."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from instructvl import __version__
from instructvl.config.loader import MODEL_CONFIG_FILE, read_config_dict, validate
from instructvl.config.schema import ModelConfig
from instructvl.data.chat_format import ChatFormatter
from instructvl.data.collate import IGNORE, Batch, Collator
from instructvl.errors import InstructVLError
from instructvl.models import sources
from instructvl.models.heads import build_head
from instructvl.models.language import LanguageModel
from instructvl.models.vision import VisionEncoder, load_image

WEIGHTS_FILE = "model.safetensors"
COMPONENTS = ("vision", "head", "projector", "llm")


@dataclass
class LMOutput:
    """`loss` is the mean over target tokens; `loss_sum` and `num_tokens` let callers
    average exactly across micro-batches and processes."""

    loss: torch.Tensor
    loss_sum: torch.Tensor
    num_tokens: int


def _row_cache(cache, row: int, copies: int):
    """A new KV cache holding `copies` copies of one batch row of `cache` (the prompt's
    keys and values, shared by every candidate scored after it)."""
    from transformers import DynamicCache

    out = DynamicCache()
    for index, layer in enumerate(cache.layers):
        keys = layer.keys[row : row + 1].expand(copies, *layer.keys.shape[1:]).contiguous()
        values = layer.values[row : row + 1].expand(copies, *layer.values.shape[1:]).contiguous()
        out.update(keys, values, index)
    return out


def _positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.long().cumsum(-1) - 1).clamp(min=0)


class VisionLanguageModel(nn.Module):
    """vision -> head (+ instruction) -> projector -> visual tokens in the LM.

    Visual tokens replace the collator's placeholders at the input embeddings
    (`llm.inject_layer` 0) or at the input of LM layer k."""

    def __init__(
        self,
        config: ModelConfig,
        vision: VisionEncoder,
        head: nn.Module,
        projector: nn.Module,
        llm: LanguageModel,
        instruction_tokenizer=None,
    ) -> None:
        super().__init__()
        self.config = config
        self.vision = vision
        self.head = head
        self.projector = projector
        self.llm = llm
        self.instruction_tokenizer = instruction_tokenizer
        lcfg = config.llm
        self.formatter = ChatFormatter(
            llm.tokenizer,
            lcfg.prompt_format,
            lcfg.system_prompt,
            llm.is_seq2seq,
            use_chat_template=lcfg.use_chat_template,
            add_bos=not lcfg.processor_tokenization,
        )
        self.trained_keys: set[str] = set()
        self.frozen_modules: list[nn.Module] = []

    def train(self, mode: bool = True) -> VisionLanguageModel:
        """Like nn.Module.train, but modules frozen by the freeze policy stay in eval mode."""
        super().train(mode)
        for module in self.frozen_modules:
            module.eval()
        return self

    # -- construction ------------------------------------------------------------------

    @classmethod
    def build(cls, config: ModelConfig, head_init: bool = True) -> VisionLanguageModel:
        """Loads the pretrained parts and builds the rest (seeded) from `config`, then
        loads `head.init` into the head and projector (unless `head_init` is false: a
        saved model's own head and projector weights replace it anyway)."""
        from transformers import AutoTokenizer

        vision = VisionEncoder.build(config.vision, config.seed)
        llm = LanguageModel.build(config.llm, config.seed)
        head, projector = build_head(config.head, vision.hidden_size, vision.num_tokens, llm.hidden_size, config.seed)
        if projector.gain is not None:
            gain = config.head.gain_init
            projector.gain.data.fill_(llm.text_hidden_rms() if gain == "auto" else float(gain))
        tokenizer = None
        if config.head.uses_instruction:
            source = sources.resolve(config.head.qformer_tokenizer or config.head.qformer_init)
            tokenizer = sources.load_pretrained(AutoTokenizer.from_pretrained, source, "Q-Former tokenizer")
        model = cls(config, vision, head, projector, llm, tokenizer)
        if config.head.init and head_init:
            from instructvl.models.interop.lavis import load_lavis_state_dict

            load_lavis_state_dict(model, sources.resolve(config.head.init), components=("head", "projector"))
        model.eval()
        return model

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def tokens_per_image(self) -> int:
        return self.head.num_tokens

    def collator(
        self,
        max_length: int | None = None,
        image_root: str | Path | None = None,
        vision_features=None,
        load_pixels: Callable[[list[str]], torch.Tensor] | None = None,
    ) -> Collator:
        """A collator matched to this model (tokenizers, visual token count, image transform).

        `vision_features` (paths -> [n, T, D], e.g. a FeatureCache) replaces pixels with
        precomputed frozen tower features; `load_pixels` (a sample's image entries -> pixel
        values [n, 3, H, W]) replaces reading image files (e.g. images already in memory)."""

        def read_pixels(paths: list[str]) -> torch.Tensor:
            return self.vision.preprocess([load_image(p) for p in paths])

        return Collator(
            self.formatter,
            self.tokens_per_image,
            vision_features or load_pixels or read_pixels,
            max_length or self.llm.max_length,
            self.instruction_tokenizer,
            self.config.head.max_instruction_tokens,
            image_root,
            self.config.llm.image_position,
            self.config.llm.processor_tokenization,
            self.config.llm.image_token,
        )

    # -- visual tokens -----------------------------------------------------------------

    def encode_images(self, batch: Batch) -> torch.Tensor:
        """Visual tokens [n_images, tokens_per_image, llm_width] for every image in the batch.

        `batch.pixel_values` holds images [n, 3, H, W], or precomputed tower features
        [n, T, D] (from a feature cache), which skip the tower."""
        if batch.pixel_values.ndim == 3:
            feats = batch.pixel_values.to(self.device)
        else:
            vision_trains = any(p.requires_grad for p in self.vision.parameters())
            with torch.set_grad_enabled(vision_trains and torch.is_grad_enabled()):
                feats = self.vision(batch.pixel_values.to(self.device))
        head_out = self.head(feats, batch.instruction_ids, batch.instruction_mask)
        return self.projector(head_out)

    def visual_sequence(self, batch: Batch) -> torch.Tensor | None:
        """Visual tokens scattered to their placeholder positions: [B, L, D], zeros elsewhere."""
        if batch.pixel_values is None:
            return None
        tokens = self.encode_images(batch)
        expected = int(batch.image_mask.sum())
        if tokens.shape[0] * tokens.shape[1] != expected:
            raise InstructVLError(
                f"the batch has {expected} image placeholders but the head made "
                f"{tokens.shape[0]} x {tokens.shape[1]} visual tokens"
            )
        b, length = batch.image_mask.shape
        out = tokens.new_zeros(b, length, tokens.shape[-1])
        return out.masked_scatter(batch.image_mask.unsqueeze(-1), tokens.reshape(-1, tokens.shape[-1]))

    def _text_inputs(self, batch: Batch, visual: torch.Tensor | None) -> dict:
        """LM inputs: embeddings with visual tokens in place (layer 0), or ids (layer k)."""
        if visual is not None and self.llm.cfg.inject_layer == 0:
            embeds = self.llm.embed(batch.input_ids)
            return {"inputs_embeds": torch.where(batch.image_mask.unsqueeze(-1), visual.to(embeds.dtype), embeds)}
        return {"input_ids": batch.input_ids}

    def _injection(self, batch: Batch, visual: torch.Tensor | None):
        """The layer-k hook while the LM runs on this batch (nothing to do at layer 0)."""
        if visual is None or self.llm.cfg.inject_layer == 0:
            return contextlib.nullcontext()
        return self.llm.inject_at_layer(batch.image_mask, visual)

    def _lm_head(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.llm.model.get_output_embeddings()(hidden)
        cap = getattr(self.llm.model.config.get_text_config(), "final_logit_softcapping", None)
        return torch.tanh(logits / cap) * cap if cap else logits

    # -- loss --------------------------------------------------------------------------

    def forward(self, batch: Batch) -> LMOutput:
        """LM loss over the target tokens only (labels != -100). For decoder-only LMs the
        output layer runs only at positions that are trained."""
        batch = batch.to(self.device)
        if batch.labels is None:
            raise InstructVLError("forward needs a training batch with labels (Collator.train_batch)")
        visual = self.visual_sequence(batch)
        with self._injection(batch, visual):
            if self.llm.is_seq2seq:
                out = self.llm.model(
                    **self._text_inputs(batch, visual), attention_mask=batch.attention_mask, labels=batch.labels
                )
                logits, targets = out.logits, batch.labels
            else:
                base = self.llm.model.base_model(
                    **self._text_inputs(batch, visual),
                    attention_mask=batch.attention_mask,
                    position_ids=_positions(batch.attention_mask),
                )
                targets = batch.labels[:, 1:]
                selected = targets != IGNORE
                logits = self._lm_head(base.last_hidden_state[:, :-1][selected])
                targets = targets[selected]
        valid = targets != IGNORE
        count = int(valid.sum())
        if count == 0:
            raise InstructVLError(f"batch {batch.sample_ids} has no target token")
        loss_sum = F.cross_entropy(logits[valid].float(), targets[valid], reduction="sum")
        return LMOutput(loss_sum / count, loss_sum, count)

    def num_targets(self, batch: Batch) -> int:
        """Target tokens the loss of `batch` will average over (known before the forward)."""
        if batch.labels is None:
            return 0
        labels = batch.labels if self.llm.is_seq2seq else batch.labels[:, 1:]
        return int((labels != IGNORE).sum())

    def logits(self, batch: Batch, decoder_input_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Logits at every position [B, L, vocab]: of the whole sequence for decoder-only
        LMs, of `decoder_input_ids` for seq2seq (parity checks, analysis)."""
        batch = batch.to(self.device)
        visual = self.visual_sequence(batch)
        with self._injection(batch, visual):
            inputs = self._text_inputs(batch, visual)
            if self.llm.is_seq2seq:
                if decoder_input_ids is None:
                    raise InstructVLError("a seq2seq model needs decoder_input_ids to give logits")
                ids = decoder_input_ids.to(self.device)
                return self.llm.model(**inputs, attention_mask=batch.attention_mask, decoder_input_ids=ids).logits
            base = self.llm.model.base_model(
                **inputs, attention_mask=batch.attention_mask, position_ids=_positions(batch.attention_mask)
            )
        return self._lm_head(base.last_hidden_state)

    # -- generation --------------------------------------------------------------------

    @torch.no_grad()
    def generate(self, batch: Batch, max_new_tokens: int = 32, **kwargs) -> list[list[int]]:
        """New token ids per sample (prompt excluded, stopped at EOS). Prompts are left
        padded (Collator.prompt_batch); uses the KV cache; greedy by default, beam search
        with `num_beams`, sampling with `do_sample=True` (and temperature, top_p, ...).
        Greedy whatever the checkpoint's own `generation_config` asks for (many hub models
        ship sampling or beam defaults)."""
        batch = batch.to(self.device)
        tok = self.llm.tokenizer
        visual = self.visual_sequence(batch)
        kwargs.setdefault("do_sample", False)
        kwargs.setdefault("num_beams", 1)
        kwargs.setdefault("pad_token_id", tok.pad_token_id)
        kwargs.setdefault("eos_token_id", tok.eos_token_id)
        inputs = self._text_inputs(batch, visual)
        with self._injection(batch, visual):
            out = self.llm.model.generate(
                **inputs, attention_mask=batch.attention_mask, max_new_tokens=max_new_tokens, **kwargs
            )
        if "input_ids" in inputs and not self.llm.is_seq2seq:
            out = out[:, batch.input_ids.shape[1] :]  # given ids, a decoder returns the prompt too
        eos = kwargs["eos_token_id"]
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        results = []
        for row in out.tolist():
            if self.llm.is_seq2seq and row and row[0] == self.llm.model.config.decoder_start_token_id:
                row = row[1:]
            cut = next((i for i, t in enumerate(row) if t in eos_ids), len(row))
            results.append(row[:cut])
        return results

    def answer_text(self, ids: list[int]) -> str:
        """The answer text of generated token ids (special tokens dropped, whitespace trimmed)."""
        return self.llm.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def generate_text(self, samples: list, image_root: str | Path | None = None, **kwargs) -> list[str]:
        """Decoded answers for prompt samples (see `generate` for the keyword arguments)."""
        batch = self.collator(image_root=image_root).prompt_batch(samples)
        return [self.answer_text(row) for row in self.generate(batch, **kwargs)]

    # -- decoding one step at a time (decoder-only LMs) ----------------------------------

    def _prefill(self, batch: Batch, visual: torch.Tensor | None):
        """The left-padded prompts through a decoder-only LM with a fresh KV cache:
        (cache, last hidden state of each row [B, D])."""
        with self._injection(batch, visual):
            out = self.llm.model.base_model(
                **self._text_inputs(batch, visual),
                attention_mask=batch.attention_mask,
                position_ids=_positions(batch.attention_mask),
                use_cache=True,
            )
        return out.cache, out.last_hidden_state[:, -1]

    @torch.no_grad()
    def start_decoding(self, batch: Batch):
        """The first step of decoding one token at a time, for callers that add and drop
        rows between steps (a server; `generate` runs the whole loop itself): the prompts of
        a `prompt_batch` with a fresh KV cache. Returns (cache, next-token logits [B,
        vocab]); `decode_step` goes on. Decoder-only LMs."""
        if self.llm.is_seq2seq:
            raise InstructVLError("decoding step by step is for decoder-only LMs; use generate for seq2seq")
        batch = batch.to(self.device)
        cache, last = self._prefill(batch, self.visual_sequence(batch))
        return cache, self._lm_head(last)

    @torch.no_grad()
    def decode_step(
        self, cache, tokens: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor
    ) -> torch.Tensor:
        """Feeds one token per row (`tokens` [B] at `positions` [B]; `attention_mask` [B, L + 1]
        covers the cache's L positions and the new one) and returns the next-token logits
        [B, vocab]; the cache grows by one position."""
        out = self.llm.model.base_model(
            input_ids=tokens[:, None],
            attention_mask=attention_mask,
            position_ids=positions[:, None],
            cache=cache,
            use_cache=True,
        )
        return self._lm_head(out.last_hidden_state[:, -1])

    # -- candidate scoring -------------------------------------------------------------

    @torch.no_grad()
    def score_candidates(
        self, batch: Batch, candidates: list[list[str]], chunk_size: int = 32
    ) -> list[list[tuple[float, int]]]:
        """(summed log-probability, token count) of each candidate answer given each prompt.

        The image and prompt are encoded once per example (KV cache, or the encoder
        output); candidates are then scored in chunks of `chunk_size`. Candidates are
        scored as trained answers: with their end marker (or EOS for seq2seq)."""
        if len(candidates) != len(batch):
            raise InstructVLError(f"{len(candidates)} candidate lists for {len(batch)} prompts")
        batch = batch.to(self.device)
        visual = self.visual_sequence(batch)
        scorer = self._score_seq2seq if self.llm.is_seq2seq else self._score_causal
        return scorer(batch, visual, candidates, chunk_size)

    def _candidate_chunks(self, cands: list[str], chunk_size: int):
        for start in range(0, len(cands), chunk_size):
            ids = [self.formatter.answer_ids(c) for c in cands[start : start + chunk_size]]
            if any(not row for row in ids):
                raise InstructVLError("an empty candidate answer cannot be scored")
            width = max(len(r) for r in ids)
            pad = self.llm.tokenizer.pad_token_id
            tensor = torch.tensor([r + [pad] * (width - len(r)) for r in ids], device=self.device)
            mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in ids], device=self.device)
            yield tensor, mask

    @staticmethod
    def _gather(logprobs: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> list[tuple[float, int]]:
        picked = logprobs.gather(-1, ids.unsqueeze(-1)).squeeze(-1) * mask
        return [(float(s), int(n)) for s, n in zip(picked.sum(-1).tolist(), mask.sum(-1).tolist())]

    def _score_causal(self, batch: Batch, visual, candidates, chunk_size):
        base = self.llm.model.base_model
        prompt_cache, last = self._prefill(batch, visual)
        first = torch.log_softmax(self._lm_head(last).float(), -1)
        results = []
        for i, cands in enumerate(candidates):
            prompt_mask = batch.attention_mask[i : i + 1]
            start = int(prompt_mask.sum())
            scores = []
            for ids, mask in self._candidate_chunks(cands, chunk_size):
                n, width = ids.shape
                cache = _row_cache(prompt_cache, i, n)
                out = base(
                    input_ids=ids,
                    attention_mask=torch.cat([prompt_mask.expand(n, -1), mask], 1),
                    position_ids=(start + torch.arange(width, device=self.device)).expand(n, -1),
                    cache=cache,
                    use_cache=True,
                )
                logprobs = torch.empty(n, width, first.shape[-1], device=self.device)
                logprobs[:, 0] = first[i]
                if width > 1:
                    logprobs[:, 1:] = torch.log_softmax(self._lm_head(out.last_hidden_state[:, :-1]).float(), -1)
                scores += self._gather(logprobs, ids, mask)
            results.append(scores)
        return results

    def _score_seq2seq(self, batch: Batch, visual, candidates, chunk_size):
        model = self.llm.model
        with self._injection(batch, visual):
            encoded = model.get_encoder()(**self._text_inputs(batch, visual), attention_mask=batch.attention_mask)
        results = []
        for i, cands in enumerate(candidates):
            scores = []
            for ids, mask in self._candidate_chunks(cands, chunk_size):
                n = ids.shape[0]
                labels = ids.masked_fill(mask == 0, IGNORE)
                out = model(
                    encoder_outputs=(encoded.last_hidden_state[i : i + 1].expand(n, -1, -1),),
                    attention_mask=batch.attention_mask[i : i + 1].expand(n, -1),
                    labels=labels,
                )
                scores += self._gather(torch.log_softmax(out.logits.float(), -1), ids, mask)
            results.append(scores)
        return results

    # -- save / load -------------------------------------------------------------------

    def _saved_keys(self) -> list[str]:
        """Weights not reproducible from their sources: our heads, randomly built parts,
        and every weight that has been trainable."""
        always = {"head", "projector"}
        if self.config.vision.source is None:
            always.add("vision")
        if self.config.llm.source is None:
            always.add("llm")
        keys = []
        for name, param in self.named_parameters():
            if name.split(".")[0] in always or param.requires_grad or name in self.trained_keys or ".lora_" in name:
                keys.append(name)
        return keys

    def save_pretrained(self, directory: str | Path, weights: dict[str, torch.Tensor] | None = None) -> Path:
        """Writes config.json (the resolved config) and model.safetensors (the weights of
        `_saved_keys`). Each file is written aside and renamed into place. `weights`: a
        whole state dict to take those weights from instead of this model's parameters
        (e.g. gathered from the shards of an FSDP model)."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        params = dict(self.named_parameters()) if weights is None else weights
        keys = self._saved_keys()
        state = {k: params[k].detach().to("cpu").contiguous().clone() for k in keys}
        config = self.config.model_dump(mode="json")
        config["vision"]["source"] = sources.pinned(config["vision"]["source"])
        config["head"]["init"] = sources.pinned(config["head"]["init"])
        meta = {"model": config, "instructvl_version": __version__, "saved_keys": keys}
        tmp_weights = directory / f".{WEIGHTS_FILE}.tmp"
        tmp_config = directory / f".{MODEL_CONFIG_FILE}.tmp"
        save_file(state, str(tmp_weights), metadata={"format": "pt"})
        tmp_config.write_text(json.dumps(meta, indent=2))
        os.replace(tmp_weights, directory / WEIGHTS_FILE)
        os.replace(tmp_config, directory / MODEL_CONFIG_FILE)
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, overrides: list[str] | None = None) -> VisionLanguageModel:
        """Rebuilds the model from its saved config and loads its saved weights (safetensors
        only: nothing is unpickled)."""
        from instructvl.config.loader import apply_overrides

        directory = Path(directory)
        data = apply_overrides(read_config_dict(str(directory)), overrides or [])
        model = cls.build(validate(ModelConfig, data, f"({directory})"), head_init=False)
        model.load_weights(directory)
        return model

    def load_weights(self, directory: str | Path) -> None:
        """Copies the weights saved in `directory` into this model (every saved weight
        must exist here with the same shape) and marks them as trained."""
        from safetensors.torch import load_file

        weights = Path(directory) / WEIGHTS_FILE
        if not weights.is_file():
            raise InstructVLError(f"{directory} has no {WEIGHTS_FILE}")
        state = load_file(str(weights))
        own = dict(self.named_parameters())
        unknown = sorted(set(state) - set(own))
        if unknown:
            raise InstructVLError(
                f"{weights}: weights {unknown[:5]} do not exist in a model built from its config.json"
            )
        for key, value in state.items():
            if own[key].shape != value.shape:
                raise InstructVLError(
                    f"{weights}: {key} has shape {tuple(value.shape)}, the model expects {tuple(own[key].shape)}"
                )
            own[key].data.copy_(value)
        self.trained_keys |= set(state)


def generation_options(max_new_tokens: int, num_beams: int, temperature: float, seed: int) -> dict:
    """Keyword arguments for `VisionLanguageModel.generate` (greedy when temperature is 0)."""
    torch.manual_seed(seed)
    options: dict = {"max_new_tokens": max_new_tokens, "num_beams": num_beams}
    if temperature > 0:
        options.update(do_sample=True, temperature=temperature)
    return options
