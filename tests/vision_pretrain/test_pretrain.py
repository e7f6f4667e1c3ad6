"""pretrain-vision on a micro tower and micro SynthVL suites: it learns, saves in CLIP
format, reloads through VisionEncoder, is deterministic, and never trains on held-out data."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from typer.testing import CliRunner

from instructvl.cli import _register, app
from instructvl.config.schema import VisionConfig
from instructvl.errors import InstructVLError
from instructvl.models.vision import VisionEncoder
from instructvl.vision_pretrain import data as vp_data
from instructvl.vision_pretrain import pretrain_vision
from instructvl.vision_pretrain.data import load_images, training_names, training_pairs
from instructvl.vision_pretrain.train import REPORT, ContrastiveTower
from tests.vision_pretrain.conftest import MICRO, MICRO_ARCH

_register()


@pytest.fixture(scope="module")
def trained(held_in_suite, tmp_path_factory):
    """One CLI run on held-in data only (the suite holds no held-out dataset)."""
    from instructvl.vision_pretrain import SIZES

    SIZES["micro"] = MICRO_ARCH
    out = tmp_path_factory.mktemp("run") / "tower"
    result = CliRunner().invoke(
        app,
        [
            "pretrain-vision",
            "--size",
            "micro",
            "--steps",
            "30",
            "--batch-size",
            "32",
            "--lr",
            "2e-3",
            "--threads",
            "1",
            "--data",
            str(held_in_suite),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_run_saves_a_clip_tower_that_reloads(trained, held_in_suite):
    out, output = trained
    assert {"config.json", "model.safetensors", "preprocessor_config.json", REPORT} <= {p.name for p in out.iterdir()}
    assert not [p for p in out.parent.iterdir() if p.name != "tower"]  # no staging folder left behind
    enc = VisionEncoder.build(VisionConfig(kind="clip", source=str(out)))
    assert enc.hidden_size == 32 and enc.image_size == 64 and enc.num_tokens == 17
    paths = sorted((held_in_suite / "coco-cap" / "images" / "val").glob("*.png"))[:3]
    pil = [Image.open(p).convert("RGB") for p in paths]
    pixels = enc.preprocess(pil)
    # The saved processor gives exactly the pixels the tower was trained on.
    trained_pixels = ContrastiveTower(MICRO_ARCH).pixels(load_images([str(p) for p in paths], 64))
    assert torch.allclose(pixels, trained_pixels, atol=1e-5)
    assert enc(pixels).shape == (3, 17, 32)
    assert "image->caption top-1" in output


def test_loss_decreases_and_report(trained):
    report = json.loads((trained[0] / REPORT).read_text())
    curve = report["loss_curve"]
    assert len(curve) == report["steps"] == 30
    assert sum(curve[-5:]) / 5 < sum(curve[:5]) / 5 - 0.3
    assert set(report["data"]["datasets"]) == {"coco-cap", "webcap", "vqa", "ocrvqa"}
    ret = report["eval"]["coco-cap/val"]["retrieval"]
    assert 0 <= ret["top1"] <= ret["top5"] <= 1 and ret["chance_top1"] == round(1 / ret["candidates"], 4)
    assert {"data_s", "embed_s", "train_s", "total_s"} <= set(report["seconds"])


def test_same_seed_same_weights(held_in_suite, tmp_path):
    recipe = replace(MICRO, steps=4, batch_size=16)
    for name in ("a", "b"):
        pretrain_vision(tmp_path / name, held_in_suite, recipe, names=["coco-cap"], show_progress=False, threads=1)
    a, b = (load_file(str(tmp_path / n / "model.safetensors")) for n in ("a", "b"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    pretrain_vision(
        tmp_path / "c", held_in_suite, replace(recipe, seed=1), names=["coco-cap"], show_progress=False, threads=1
    )
    c = load_file(str(tmp_path / "c" / "model.safetensors"))
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_asking_for_held_out_data_is_an_error(mixed_suite, tmp_path):
    with pytest.raises(InstructVLError, match="held-out"):
        training_names(mixed_suite, ["coco-cap", "nocaps"])
    with pytest.raises(InstructVLError, match="held-out"):
        pretrain_vision(tmp_path / "x", mixed_suite, MICRO, names=["flickr"], show_progress=False, threads=1)
    assert not (tmp_path / "x").exists()


def test_training_reads_only_held_in_splits(mixed_suite, monkeypatch):
    read = []
    real = vp_data.load_raw
    monkeypatch.setattr(
        vp_data, "load_raw", lambda root, name, split, **kw: read.append((name, split)) or real(root, name, split, **kw)
    )
    pairs = training_pairs(mixed_suite, 64)
    assert sorted(read) == [("coco-cap", "train"), ("vqa", "train")]
    assert set(pairs.datasets) == {"coco-cap", "vqa"} and len(pairs.images) == 16
    # Every image has captions; identical captions share one id.
    assert all(pairs.pools) and len(set(pairs.captions)) == len(pairs.captions)
    assert not any(w in c for c in pairs.captions for w in ("pink", "teal", "maroon", "pentagon", "cross", "trapezoid"))
