"""Samples -> tensors. Tokenises per turn from structured conversations, writes exactly as
many image placeholders as the vision head emits, sets labels (unshifted, -100 where not
trained), and tokenises the Q-Former instruction. No tokenisation happens in `forward`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from instructvl.data.chat_format import ChatFormatter, Segment
from instructvl.data.schema import IMAGE_MARKER, Sample, SchemaError, Turn, check_markers
from instructvl.errors import InstructVLError

IGNORE = -100
log = logging.getLogger(__name__)


@dataclass
class Batch:
    """Model inputs for a batch. For causal LMs `input_ids` is the whole sequence (right
    padded for training, left padded for prompts); for seq2seq it is the encoder input and
    `labels` the decoder targets. `image_mask` marks the visual placeholder positions;
    `pixel_values` holds every image of the batch in order, `instruction_ids` one row per
    image (the sample's instruction, for an instruction-aware Q-Former)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    image_mask: torch.Tensor
    sample_ids: list[str]
    labels: torch.Tensor | None = None
    pixel_values: torch.Tensor | None = None
    instruction_ids: torch.Tensor | None = None
    instruction_mask: torch.Tensor | None = None
    images_per_sample: list[int] = field(default_factory=list)

    def to(self, device: torch.device | str) -> Batch:
        """The same batch with every tensor on `device`."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in moved.items():
            if isinstance(value, torch.Tensor):
                moved[key] = value.to(device)
        return Batch(**moved)

    def __len__(self) -> int:
        return len(self.sample_ids)


@dataclass
class Encoded:
    ids: list[int]
    labels: list[int]
    image_mask: list[bool]
    instruction: str
    decoder_labels: list[int] | None = None


def _with_marker(sample: Sample, turns: list[Turn]) -> list[Turn]:
    """Turns with the image marker placed: where the user wrote it, else at the start of
    the first user turn. Checks the markers fit the images (`schema.check_markers`)."""
    try:
        check_markers(turns, len(sample.images))
    except SchemaError as exc:
        raise InstructVLError(f"sample {sample.id}: {exc}") from None
    if not sample.images or any(IMAGE_MARKER in t.content for t in turns):
        return turns
    first = next((i for i, t in enumerate(turns) if t.role == "user"), None)
    if first is None:
        raise InstructVLError(f"sample {sample.id}: has images but no user turn to put them in")
    turns = list(turns)
    turns[first] = Turn("user", f"{IMAGE_MARKER}\n{turns[first].content}")
    return turns


def _without_markers(turns: list[Turn]) -> list[Turn]:
    """Turns with image markers removed (visual tokens placed before the whole text)."""
    return [
        Turn(t.role, t.content.replace(IMAGE_MARKER, "").strip()) if IMAGE_MARKER in t.content else t for t in turns
    ]


def _runs(segs: list[Segment]) -> list[Segment]:
    """Consecutive segments with the same target flag joined into one."""
    out: list[Segment] = []
    for seg in segs:
        if out and out[-1].target == seg.target:
            out[-1] = Segment(out[-1].text + seg.text, seg.target)
        else:
            out.append(seg)
    return out


class Collator:
    """Builds `Batch`es for one model. `train_batch` masks per turn and drops (counting
    them in `no_target_ids`) samples left with no target token; `prompt_batch` left-pads
    prompts for generation and ranking and refuses prompts longer than the context.

    `image_position` "prefix" puts every visual token before the whole text (BOS
    included); `processor_tokenization` tokenises as a transformers processor does (see
    `LanguageConfig`), writing the visual positions as `image_token`."""

    def __init__(
        self,
        formatter: ChatFormatter,
        tokens_per_image: int,
        load_pixels: Callable[[list[str]], torch.Tensor],
        max_length: int,
        instruction_tokenizer=None,
        max_instruction_tokens: int = 128,
        image_root: str | Path | None = None,
        image_position: str = "marker",
        processor_tokenization: bool = False,
        image_token: str = "<image>",
    ) -> None:
        self.formatter = formatter
        self.tokenizer = formatter.tokenizer
        self.seq2seq = formatter.seq2seq
        self.tokens_per_image = tokens_per_image
        self.load_pixels = load_pixels
        self.max_length = max_length
        self.instruction_tokenizer = instruction_tokenizer
        self.max_instruction_tokens = max_instruction_tokens
        self.image_root = Path(image_root) if image_root else None
        self.placeholder_id = (
            self.tokenizer.unk_token_id if self.tokenizer.unk_token_id is not None else self.tokenizer.pad_token_id
        )
        self.image_position = image_position
        self.processor_tokenization = processor_tokenization
        self.image_token = image_token
        if processor_tokenization:
            self.placeholder_id = self._image_token_id(image_token)
        self.no_target_ids: list[str] = []

    def _image_token_id(self, token: str) -> int:
        tok_id = self.tokenizer.convert_tokens_to_ids(token)
        if tok_id is None or (tok_id == self.tokenizer.unk_token_id and token != self.tokenizer.unk_token):
            raise InstructVLError(f"llm.image_token {token!r} is not a token of the language model's tokenizer")
        return tok_id

    # -- per sample --------------------------------------------------------------------

    def _tokens(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def _encode_segments(self, segs: list[Segment], n_images: int) -> Encoded:
        enc = Encoded([], [], [], instruction="")
        if self.image_position == "prefix":
            self._append_visual(enc, n_images * self.tokens_per_image)
        markers = sum(s.text.count(IMAGE_MARKER) for s in segs)
        per_marker = (n_images if markers == 1 else 1) * self.tokens_per_image
        if self.processor_tokenization:
            for i, run in enumerate(_runs(segs)):
                text = run.text.replace(IMAGE_MARKER, self.image_token * per_marker)
                toks = self.tokenizer(text, add_special_tokens=i == 0).input_ids
                visual = [t == self.placeholder_id for t in toks]
                enc.ids += toks
                enc.labels += [t if run.target and not v else IGNORE for t, v in zip(toks, visual)]
                enc.image_mask += visual
            return enc
        for seg in segs:
            for j, part in enumerate(seg.text.split(IMAGE_MARKER)):
                if j:
                    self._append_visual(enc, per_marker)
                toks = self._tokens(part)
                enc.ids += toks
                enc.labels += toks if seg.target else [IGNORE] * len(toks)
                enc.image_mask += [False] * len(toks)
        return enc

    def _append_visual(self, enc: Encoded, count: int) -> None:
        enc.ids += [self.placeholder_id] * count
        enc.labels += [IGNORE] * count
        enc.image_mask += [True] * count

    @staticmethod
    def _instruction(turns: list[Turn]) -> str:
        user = [t.content for t in turns if t.role == "user"]
        return user[-1].replace(IMAGE_MARKER, "").strip() if user else ""

    def encode(self, sample: Sample, prompt_only: bool) -> Encoded:
        """Token ids, labels and image mask for one sample (prompt only, or the whole
        conversation with its answers as targets)."""
        turns = sample.prompt_turns if (prompt_only or self.seq2seq) else sample.turns
        if not turns:
            raise InstructVLError(f"sample {sample.id}: no turns to encode")
        turns = _without_markers(turns) if self.image_position == "prefix" else _with_marker(sample, turns)
        if self.seq2seq:
            segs = [Segment(s.text, False) for s in self.formatter.prompt_segments(turns)]
        else:
            segs = self.formatter.prompt_segments(turns) if prompt_only else self.formatter.segments(turns)
        enc = self._encode_segments(segs, len(sample.images))
        enc.instruction = self._instruction(turns)
        if self.seq2seq and not prompt_only:
            last = sample.turns[-1] if sample.turns else None
            answer = last.content if last is not None and last.role == "assistant" else ""
            enc.decoder_labels = self.tokenizer(answer).input_ids if answer else []
        return enc

    # -- batches -----------------------------------------------------------------------

    def _image_paths(self, sample: Sample) -> list[str]:
        if self.image_root is None:
            return list(sample.images)
        return [str(self.image_root / p) for p in sample.images]

    def _visual_inputs(self, samples: list[Sample], encoded: list[Encoded]) -> dict:
        paths = [p for s in samples for p in self._image_paths(s)]
        out: dict = {"images_per_sample": [len(s.images) for s in samples]}
        if not paths:
            return out
        out["pixel_values"] = self.load_pixels(paths)
        if self.instruction_tokenizer is not None:
            texts = [e.instruction for s, e in zip(samples, encoded) for _ in s.images]
            tok = self.instruction_tokenizer(
                texts, padding="longest", truncation=True, max_length=self.max_instruction_tokens, return_tensors="pt"
            )
            out["instruction_ids"] = tok.input_ids
            out["instruction_mask"] = tok.attention_mask
        return out

    def _pad(self, rows: list[list], value, left: bool) -> torch.Tensor:
        width = max(len(r) for r in rows)
        padded = [([value] * (width - len(r)) + r) if left else (r + [value] * (width - len(r))) for r in rows]
        return torch.tensor(padded)

    def _assemble(self, samples: list[Sample], encoded: list[Encoded], left: bool) -> Batch:
        pad = self.tokenizer.pad_token_id
        batch = Batch(
            input_ids=self._pad([e.ids for e in encoded], pad, left),
            attention_mask=self._pad([[1] * len(e.ids) for e in encoded], 0, left),
            image_mask=self._pad([e.image_mask for e in encoded], False, left).bool(),
            sample_ids=[s.id for s in samples],
            **self._visual_inputs(samples, encoded),
        )
        if encoded[0].decoder_labels is not None:
            batch.labels = self._pad([e.decoder_labels for e in encoded], IGNORE, False)
        elif not left:
            batch.labels = self._pad([e.labels for e in encoded], IGNORE, False)
        return batch

    def _fits(self, sample: Sample, enc: Encoded) -> None:
        if len(enc.ids) > self.max_length:
            visual = sum(enc.image_mask)
            raise InstructVLError(
                f"sample {sample.id}: the prompt is {len(enc.ids)} tokens ({visual} visual) but the language "
                f"model's context is {self.max_length} tokens"
            )

    def train_batch(self, samples: list[Sample]) -> Batch | None:
        """A right-padded training batch; None when no sample in it has a target token."""
        kept, encoded = [], []
        for sample in samples:
            enc = self.encode(sample, prompt_only=False)
            if len(enc.ids) > self.max_length:
                enc = Encoded(
                    enc.ids[: self.max_length],
                    enc.labels[: self.max_length],
                    enc.image_mask[: self.max_length],
                    enc.instruction,
                    enc.decoder_labels,
                )
                if sum(enc.image_mask) != len(sample.images) * self.tokens_per_image:
                    self._no_target(sample, "truncation cut into its image tokens")
                    continue
            targets = enc.decoder_labels if enc.decoder_labels is not None else [t for t in enc.labels if t != IGNORE]
            if not targets:
                self._no_target(sample, "it has no target token (no assistant answer, or truncated away)")
                continue
            kept.append(sample)
            encoded.append(enc)
        return self._assemble(kept, encoded, left=False) if kept else None

    def _no_target(self, sample: Sample, why: str) -> None:
        self.no_target_ids.append(sample.id)
        log.warning("sample %s skipped: %s (%d so far)", sample.id, why, len(self.no_target_ids))

    def prompt_batch(self, samples: list[Sample]) -> Batch:
        """A left-padded batch of prompts (each sample's turns without a final answer,
        followed by the assistant header) for generation and candidate ranking."""
        encoded = []
        for sample in samples:
            enc = self.encode(sample, prompt_only=True)
            self._fits(sample, enc)
            encoded.append(enc)
        return self._assemble(samples, encoded, left=not self.seq2seq)
