"""A language model in this process as the judge: greedy decoding (temperature 0) of the
judging prompt through the model's own chat format, in batches. By default the language
model of the default preset (SmolLM2-135M-Instruct, offline), so judging runs without a
network; expect a judge this small to misread the protocol often (`n_unparsed`)."""

from __future__ import annotations

import torch

from instructvl.data.chat_format import ChatFormatter
from instructvl.data.collate import Collator
from instructvl.data.schema import Sample, Turn
from instructvl.errors import InstructVLError
from instructvl.eval.judge.protocol import Messages
from instructvl.eval.provenance import fingerprint
from instructvl.models.language import LanguageModel

DEFAULT_PRESET = "tiny-offline"
BATCH_SIZE = 8


def _no_images(paths: list[str]) -> torch.Tensor:
    raise InstructVLError(f"the local judge reads text only, not images {paths[:2]}")


def default_judge_llm() -> LanguageModel:
    """The default preset's language model, plain: no LoRA, nothing injected."""
    from instructvl.config.loader import load_model_config

    cfg = load_model_config(DEFAULT_PRESET).llm.model_copy(update={"lora": None, "inject_layer": 0})
    return LanguageModel.build(cfg)


class LocalJudge:
    """`llm` judging in process, `max_tokens` of reply at most, `batch_size` prompts at a time."""

    def __init__(self, llm: LanguageModel, max_tokens: int, batch_size: int = BATCH_SIZE) -> None:
        cfg = llm.cfg
        formatter = ChatFormatter(
            llm.tokenizer, cfg.prompt_format, None, llm.is_seq2seq, use_chat_template=cfg.use_chat_template
        )
        self.llm = llm.eval()
        self.collator = Collator(formatter, 0, _no_images, llm.max_length)
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.identity = f"local|{fingerprint(cfg.model_dump(mode='json'))}|max_tokens={max_tokens}"

    @torch.inference_mode()
    def _batch(self, prompts: list[Messages]) -> list[str]:
        samples = [
            Sample(f"judge-{i}", "judge", turns=[Turn(m["role"], m["content"]) for m in messages])
            for i, messages in enumerate(prompts)
        ]
        batch = self.collator.prompt_batch(samples).to(self.llm.model.device)
        tok = self.llm.tokenizer
        out = self.llm.model.generate(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            max_new_tokens=self.max_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
        new = out if self.llm.is_seq2seq else out[:, batch.input_ids.shape[1] :]
        return [tok.decode(row, skip_special_tokens=True) for row in new]

    def complete_all(self, prompts: list[Messages]) -> list[str]:
        """Each prompt's greedy reply."""
        out: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            out += self._batch(prompts[start : start + self.batch_size])
        return out
