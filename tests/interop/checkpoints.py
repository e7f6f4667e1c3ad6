"""Tiny random-weight transformers checkpoints, built from configs (no download), each
saved with its processor: InstructBLIP with T5 and with Llama, BLIP-2 with OPT, LLaVA."""

from __future__ import annotations

from pathlib import Path

import torch

from tests.tiny import CLIP_ARCH, make_tokenizer, minilm_dir

VISION = dict(
    image_size=32,
    patch_size=8,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    initializer_range=0.02,
)
QFORMER = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, cross_attention_frequency=1
)
LLAMA = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=256,
)
FAMILIES = ("instructblip-t5", "instructblip-llama", "blip2-opt", "llava")


def _tokenizer(family: str):
    """T5-like (EOS appended) for T5; else a BOS-adding BPE tokenizer (its ChatML template unused)."""
    from tokenizers import processors

    if family.endswith("t5"):
        return make_tokenizer(chat=False)
    tok = make_tokenizer(chat=True)
    bos = tok.bos_token_id
    tok._tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    return tok


def _text_config(family: str, tok):
    from transformers import LlamaConfig, OPTConfig, T5Config

    ids = dict(vocab_size=len(tok), pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    if family.endswith("t5"):
        return T5Config(
            d_model=32,
            d_ff=64,
            d_kv=8,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=4,
            decoder_start_token_id=tok.pad_token_id,
            **ids,
        )
    if family.endswith("opt"):
        return OPTConfig(
            hidden_size=32,
            ffn_dim=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            word_embed_proj_dim=32,
            max_position_embeddings=256,
            bos_token_id=tok.bos_token_id,
            **ids,
        )
    return LlamaConfig(bos_token_id=tok.bos_token_id, **LLAMA, **ids)


def _blip(family: str):
    import transformers as tf

    instruct = family.startswith("instructblip")
    tok = _tokenizer(family)
    image_processor = tf.BlipImageProcessor(size={"height": 32, "width": 32})
    if instruct:
        qtok = tf.AutoTokenizer.from_pretrained(str(minilm_dir()))
        processor = tf.InstructBlipProcessor(
            image_processor=image_processor, tokenizer=tok, qformer_tokenizer=qtok, num_query_tokens=4
        )
    else:
        processor = tf.Blip2Processor(image_processor=image_processor, tokenizer=tok, num_query_tokens=4)
    cfg_cls, model_cls = (
        (tf.InstructBlipConfig, tf.InstructBlipForConditionalGeneration)
        if instruct
        else (tf.Blip2Config, tf.Blip2ForConditionalGeneration)
    )
    config = cfg_cls(
        vision_config=VISION,
        qformer_config=dict(QFORMER, vocab_size=30522),
        text_config=_text_config(family, tok).to_dict(),
        num_query_tokens=4,
        image_token_index=tok.convert_tokens_to_ids("<image>"),
    )
    return model_cls(config), processor


def _llava():
    import transformers as tf
    from tokenizers import AddedToken

    tok = _tokenizer("llava")
    tok.add_tokens([AddedToken("<image>", special=True, normalized=False)], special_tokens=True)
    image_processor = tf.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = tf.LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    config = tf.LlavaConfig(
        vision_config=tf.CLIPVisionConfig(**CLIP_ARCH).to_dict(),
        text_config=_text_config("llava", tok).to_dict(),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        image_seq_length=16,
    )
    return tf.LlavaForConditionalGeneration(config), processor


def build_checkpoint(family: str, folder: Path, seed: int = 0) -> Path:
    """Writes the tiny `family` checkpoint (weights jittered so none is zero, except the
    ViT's key bias, which BLIP's EVA ViT does not have) and its processor."""
    torch.manual_seed(seed)
    model, processor = _llava() if family == "llava" else _blip(family)
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.add_(torch.randn_like(param) * 0.05)
            if name.endswith("self_attn.qkv.bias"):
                param.view(3, -1)[1] = 0
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def hf_class(family: str):
    import transformers as tf

    if family == "llava":
        return tf.LlavaForConditionalGeneration
    return (
        tf.InstructBlipForConditionalGeneration
        if family.startswith("instructblip")
        else tf.Blip2ForConditionalGeneration
    )
