"""Typed configs: presets, YAML, overrides, and clear errors for unknown keys."""

import pytest

from instructvl.config import list_presets, load_model_config
from instructvl.errors import InstructVLError

PRESETS = ["blip2-flant5xl", "instructblip-flant5xl", "instructblip-vicuna7b", "llava15-7b", "tiny-offline"]


def test_all_presets_exist_and_validate():
    assert list_presets() == PRESETS
    for name in PRESETS:
        assert load_model_config(name).name == name


def test_preset_details():
    llava = load_model_config("llava15-7b")
    assert (llava.vision.feature_layer, llava.vision.drop_cls, llava.head.type) == (-2, True, "mlp")
    t5 = load_model_config("instructblip-flant5xl")
    assert (t5.llm.kind, t5.head.type, t5.head.num_queries) == ("seq2seq", "instructblip-qformer", 32)
    assert load_model_config("blip2-flant5xl").head.type == "qformer"


def test_overrides_are_typed():
    cfg = load_model_config("tiny-offline", ["llm.inject_layer=10", "head.num_queries=16", "llm.lora.r=4"])
    assert (cfg.llm.inject_layer, cfg.head.num_queries, cfg.llm.lora.r) == (10, 16, 4)


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(InstructVLError) as err:
        load_model_config("tiny-offline", ["head.num_querys=16"])
    message = str(err.value)
    assert "unknown key 'head.num_querys'" in message and "num_queries" in message and "qformer_init" in message


def test_bad_value_names_the_key():
    with pytest.raises(InstructVLError, match="head.type"):
        load_model_config("tiny-offline", ["head.type=resampler"])


def test_unknown_preset_lists_presets():
    with pytest.raises(InstructVLError, match="unknown preset or path 'tiny-ofline'.*tiny-offline"):
        load_model_config("tiny-ofline")


def test_yaml_file_and_errors(tmp_path):
    good = tmp_path / "m.yaml"
    good.write_text("vision: {arch: {image_size: 32}}\nhead: {type: mlp}\nllm: {source: ./llm, tokenizer: ./llm}\n")
    assert load_model_config(str(good)).head.type == "mlp"
    bad = tmp_path / "bad.yaml"
    bad.write_text("vision: [unclosed\n")
    with pytest.raises(InstructVLError, match="bad.yaml: not valid YAML"):
        load_model_config(str(bad))
    with pytest.raises(InstructVLError, match="config file not found"):
        load_model_config(str(tmp_path / "missing.yaml"))


def test_cross_field_rules():
    with pytest.raises(InstructVLError, match="pool applies to linear / mlp heads only"):
        load_model_config("tiny-offline", ["head.pool=2"])
