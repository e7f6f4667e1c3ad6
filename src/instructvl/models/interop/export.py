"""Writing an instructvl model as a transformers checkpoint folder (weights, config and
processor) that plain `from_pretrained` loads: InstructBLIP, BLIP-2 or LLaVA.

A model whose components do not fit the format is refused with an error naming the
component (and the setting) that has no equivalent there. LoRA adapters are merged into
the exported language model weights; the instructvl model itself is left unchanged."""

from __future__ import annotations

import copy
from pathlib import Path

from torch import nn

from instructvl.errors import InstructVLError

FORMATS = ("instructblip", "blip2", "llava")
_HEADS = {"instructblip": "instructblip-qformer", "blip2": "qformer", "llava": "mlp"}
_NAMES = {"instructblip": "InstructBLIP", "blip2": "BLIP-2", "llava": "LLaVA"}


def _misfits(model, fmt: str) -> list[str]:
    """One line per component setting that the target format cannot express."""
    cfg, name = model.config, _NAMES[fmt]
    out = []
    blip = fmt != "llava"
    if blip and cfg.vision.kind != "blip":
        out.append(
            f"vision: a {cfg.vision.kind} tower (vision.kind) has no equivalent in {name}, "
            "which uses the BLIP ViT (vision.kind: blip)"
        )
    if not blip and cfg.vision.kind not in ("clip", "siglip"):
        out.append(f"vision: a {cfg.vision.kind} tower has no equivalent in LLaVA (clip or siglip)")
    if blip and (cfg.vision.feature_layer != "last" or cfg.vision.drop_cls):
        out.append(
            f"vision: {name} reads the tower's last layer with every token "
            "(vision.feature_layer: last, drop_cls: false)"
        )
    if cfg.head.type != _HEADS[fmt]:
        out.append(f"head: a {cfg.head.type!r} head has no equivalent in {name} (head.type: {_HEADS[fmt]})")
    if cfg.head.pool != 1:
        out.append(f"head: pooling (head.pool={cfg.head.pool}) has no equivalent in {name}")
    if cfg.head.output_norm != "none":
        out.append(
            f"projector: the RMS output norm (head.output_norm: {cfg.head.output_norm}) has no equivalent in {name}"
        )
    if fmt == "llava" and cfg.head.mlp_hidden not in (None, model.llm.hidden_size):
        out.append(
            f"projector: LLaVA's MLP is as wide as the LLM ({model.llm.hidden_size}), "
            f"not head.mlp_hidden={cfg.head.mlp_hidden}"
        )
    if cfg.llm.inject_layer != 0:
        out.append(
            f"llm: visual tokens at layer {cfg.llm.inject_layer} (llm.inject_layer) have no equivalent in {name} "
            "(input embeddings only)"
        )
    if fmt == "llava" and cfg.llm.kind != "causal":
        out.append("llm: LLaVA needs a decoder-only language model (llm.kind: causal)")
    wanted = "prefix" if blip else "marker"
    if cfg.llm.image_position != wanted:
        out.append(
            f"llm: {name} places visual tokens as llm.image_position: {wanted}, "
            f"this model uses {cfg.llm.image_position}"
        )
    return out


def _llm_state(lm: nn.Module) -> dict:
    """The language model's weights with any LoRA adapters merged (base + B A * scale)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    state = lm.state_dict()
    tuned = {name: mod for name, mod in lm.named_modules() if isinstance(mod, BaseTunerLayer)}
    if not tuned:
        return state
    merged = {k.replace(".base_layer.", "."): v for k, v in state.items() if ".lora_" not in k}
    for name, mod in tuned.items():
        delta = sum(mod.get_delta_weight(adapter) for adapter in mod.active_adapters)
        merged[f"{name}.weight"] = merged[f"{name}.weight"] + delta
    return merged


def _tokenizer(model) -> tuple[object, int]:
    """A copy of the LM tokenizer that has the image token (added when missing), and its id."""
    tok = copy.deepcopy(model.llm.tokenizer)
    token = model.config.llm.image_token
    if token not in tok.get_vocab():
        from tokenizers import AddedToken

        tok.add_tokens([AddedToken(token, special=True, normalized=False)], special_tokens=True)
    tok.image_token = token
    return tok, tok.convert_tokens_to_ids(token)


def _sub_config(config) -> dict:
    data = config.to_dict()
    data.pop("model_type", None)
    return data


def _export_lm(model, vocab: int) -> nn.Module:
    """A plain transformers copy of the language model (LoRA merged), its vocabulary grown
    to `vocab` when the image token had to be added."""
    import transformers as tf

    source = model.llm.model
    auto = tf.AutoModelForSeq2SeqLM if model.llm.is_seq2seq else tf.AutoModelForCausalLM
    lm = auto.from_config(copy.deepcopy(source.config), dtype=source.dtype)
    lm.load_state_dict(_llm_state(source))
    old = lm.get_input_embeddings().weight.shape[0]
    if vocab > old:
        lm.resize_token_embeddings(vocab, mean_resizing=False)
        for table in (lm.get_input_embeddings(), lm.get_output_embeddings()):
            table.weight.data[old:] = 0  # the image token's rows: always replaced, never predicted
    return lm


def _blip(model, fmt: str, tok, image_id: int):
    import transformers as tf

    instruct = fmt == "instructblip"
    names = (
        ("InstructBlipConfig", "InstructBlipForConditionalGeneration", "InstructBlipProcessor")
        if instruct
        else ("Blip2Config", "Blip2ForConditionalGeneration", "Blip2Processor")
    )
    config_cls, model_cls, processor_cls = (getattr(tf, n) for n in names)
    qformer = model.head.qformer
    lm = _export_lm(model, len(tok))
    config = config_cls(
        vision_config=_sub_config(model.vision.tower.config),
        qformer_config=_sub_config(qformer.config),
        text_config=lm.config.to_dict(),
        num_query_tokens=model.head.num_tokens,
        image_token_index=image_id,
    )
    hf = model_cls(config)
    hf.vision_model.load_state_dict(model.vision.tower.state_dict())
    hf.qformer.load_state_dict(qformer.state_dict())
    hf.query_tokens.data.copy_(model.head.query_tokens.data)
    hf.language_projection.load_state_dict(model.projector.net.state_dict())
    hf.language_model.load_state_dict(lm.state_dict())
    extra = {"qformer_tokenizer": model.instruction_tokenizer} if instruct else {}
    processor = processor_cls(
        image_processor=model.vision.processor, tokenizer=tok, num_query_tokens=model.head.num_tokens, **extra
    )
    return hf, processor


def _llava(model, tok, image_id: int):
    import transformers as tf

    cfg, tower = model.config, model.vision.tower
    layer = -1 if cfg.vision.feature_layer == "last" else cfg.vision.feature_layer
    strategy = "default" if cfg.vision.drop_cls else "full"
    lm = _export_lm(model, len(tok))
    config = tf.LlavaConfig(
        vision_config=tower.config.to_dict(),
        text_config=lm.config.to_dict(),
        image_token_index=image_id,
        vision_feature_layer=layer,
        vision_feature_select_strategy=strategy,
        image_seq_length=model.tokens_per_image,
    )
    hf = tf.LlavaForConditionalGeneration(config)
    hf.model.vision_tower.load_state_dict(tower.state_dict())
    net = model.projector.net
    hf.model.multi_modal_projector.linear_1.load_state_dict(net[0].state_dict())
    hf.model.multi_modal_projector.linear_2.load_state_dict(net[2].state_dict())
    hf.model.language_model.load_state_dict(lm.base_model.state_dict())
    hf.lm_head.load_state_dict(lm.get_output_embeddings().state_dict())
    processor = tf.LlavaProcessor(
        image_processor=model.vision.processor,
        tokenizer=tok,
        patch_size=tower.config.patch_size,
        vision_feature_select_strategy=strategy,
        image_token=cfg.llm.image_token,
        num_additional_image_tokens=1 if cfg.vision.kind == "clip" else 0,
    )
    return hf, processor


def export(model, fmt: str, out: str | Path) -> Path:
    """Writes `model` to `out` as a transformers `fmt` checkpoint (instructblip, blip2 or
    llava) with its processor; raises `InstructVLError` naming each misfit component."""
    if fmt not in FORMATS:
        raise InstructVLError(f"unknown export format {fmt!r}; expected one of {FORMATS}")
    misfits = _misfits(model, fmt)
    if misfits:
        raise InstructVLError(
            f"model {model.config.name!r} does not fit the {_NAMES[fmt]} format:\n  " + "\n  ".join(misfits)
        )
    from transformers.initialization import no_init_weights

    tok, image_id = _tokenizer(model)
    with no_init_weights():
        hf, processor = _llava(model, tok, image_id) if fmt == "llava" else _blip(model, fmt, tok, image_id)
    out = Path(out)
    hf.save_pretrained(out)
    processor.save_pretrained(out)
    return out
