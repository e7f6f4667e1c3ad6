"""The tower trained on SynthVL-web with supervised scene targets, and the tower probes."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from instructvl.analysis.tower_probes import labelled, probe_tower
from instructvl.data.synthvl.scenes import Obj, Scene
from instructvl.data.synthvl.web_corpus import write_web
from instructvl.vision_pretrain import pretrain_vision
from instructvl.vision_pretrain.targets import TARGET_KINDS, patch_labels, scene_targets
from tests.vision_pretrain.conftest import MICRO


@pytest.fixture(scope="module")
def web(held_in_suite, tmp_path_factory):
    out = tmp_path_factory.mktemp("web")
    write_web(out, 160, seed=5, suite=held_in_suite)
    return out


def test_scene_targets_label_the_patches_each_object_covers():
    # a 16 px square centred at (12, 12) covers pixels 4..19: patches (0..2, 0..2) of 8 px
    scene = Scene(objects=[Obj("square", "red", 16, 12, 12), Obj("star", "pink", 26, 48, 48)])
    kind, colour, largest, kinds, colours, count = scene_targets(scene, grid=8)
    grid = np.array(kind).reshape(8, 8)
    square, star = 1 + TARGET_KINDS.index("square"), 1 + TARGET_KINDS.index("star")
    assert (grid[0:3, 0:3] == square).all() and (grid[:, 3] == 0).all() and (grid[3] == 0).all()
    assert (grid[5:7, 5:7] == star).all() and set(np.unique(grid)) == {0, square, star}
    assert np.array_equal(np.array(colour).reshape(8, 8) > 0, grid > 0)
    assert largest == [star] and sum(kinds) == 2 and sum(colours) == 2 and count == [2]


def test_a_patch_takes_a_label_only_when_an_eighth_of_it_is_covered():
    # pixels 0..7 of a 64 px scene in a 4 x 4 grid (16 px patches): a quarter of patch 0
    covered = patch_labels(Scene(objects=[Obj("square", "red", 8, 4, 4)]), lambda o: 7, grid=4)
    assert covered == [7] + [0] * 15
    # pixels 0..3 (a sixteenth of patch 0): below MIN_COVER
    assert patch_labels(Scene(objects=[Obj("square", "red", 4, 2, 2)]), lambda o: 7, grid=4) == [0] * 16


def test_a_tower_trains_on_the_web_corpus_with_scene_targets(web, held_in_suite, tmp_path):
    recipe = replace(MICRO, corpus="web", steps=12, scene_weight=1.0)
    report = pretrain_vision(tmp_path / "tower", web, recipe, show_progress=False, threads=1)
    assert report["data"]["kind"] == "synthvl-web" and report["data"]["scene_targets"] is True
    assert report["data"]["images"] < 160  # stills only: the clips are left out
    assert report["loss_final"] < report["loss_first"]
    assert set(report["eval"]) == {"coco-cap/val"}  # retrieval on the suite the corpus avoids
    plain = pretrain_vision(tmp_path / "plain", web, replace(recipe, scene_weight=0.0), show_progress=False, threads=1)
    assert plain["data"]["scene_targets"] is False and plain["loss_first"] < report["loss_first"]


def test_labelled_takes_each_attribute_from_its_own_scenes():
    one = Scene(objects=[Obj("star", "blue", 20, 55, 10)])
    two = Scene(objects=[Obj("circle", "red", 12, 5, 5), Obj("sign", "green", 20, 30, 40, text="STOP")])
    sets = labelled([("a.png", one), ("b.png", two)])
    assert sets["shape"] == [("a.png", "star")] and sets["size"] == [("a.png", "medium")]
    assert sets["column"] == [("a.png", "right")] and sets["row"] == [("a.png", "top")]
    assert sets["count"] == [("a.png", "1"), ("b.png", "2")]
    assert sets["text"] == [("a.png", "False"), ("b.png", "True")]


class ShapeOracle(torch.nn.Module):
    """A fake tower whose first token is the one-hot shape of the image's only object."""

    def __init__(self, shapes: dict[str, str]) -> None:
        super().__init__()
        self.shapes, self.names = shapes, sorted(set(shapes.values()))
        self.cfg = SimpleNamespace(kind="clip")
        self.current: list[str] = []

    def preprocess(self, images):
        return torch.zeros(len(images), 1)

    def tower(self, pixel_values):
        hidden = torch.zeros(len(self.current), 5, len(self.names))
        for i, path in enumerate(self.current):
            if path in self.shapes:
                hidden[i, 0, self.names.index(self.shapes[path])] = 1
        self.current = []
        return SimpleNamespace(last_hidden_state=hidden)


def test_probes_read_what_the_features_carry(held_in_suite, monkeypatch):
    from instructvl.analysis import tower_probes

    scenes = tower_probes.still_scenes(held_in_suite)
    shapes = {p: k for p, k in labelled(scenes)["shape"]}
    oracle = ShapeOracle(shapes)
    real_features = tower_probes.tower_features

    def features(encoder, paths, batch_size=256, on_batch=None):
        encoder.current = list(paths)
        return real_features(encoder, paths, batch_size=len(paths), on_batch=on_batch)

    monkeypatch.setattr(tower_probes, "tower_features", features)
    monkeypatch.setattr("instructvl.models.vision.load_image", lambda p: None)
    result = probe_tower(oracle, held_in_suite, seed=0)["attributes"]
    assert result["shape"]["features"]["first"] == 1.0 and result["shape"]["best"] == 1.0
    assert result["shape"]["target"] == 0.9 and result["row"]["target"] is None
    assert result["colour"]["best"] <= max(0.6, result["colour"]["majority"] + 0.35)  # shape says little of colour


def test_the_default_recipes_train_on_the_web_corpus_and_every_field_changes_the_key():
    from instructvl.vision_pretrain.recipe import RECIPES, Recipe

    assert all(r.corpus == "web" and r.scene_weight > 0 for r in RECIPES.values())
    tiny = RECIPES["tiny"]
    keys = {tiny.key(), replace(tiny, scene_weight=0.5).key(), replace(tiny, corpus="suite").key()}
    assert len(keys) == 3 and tiny.key() != "69153fbf"  # not the suite tower of VERSION 1
    with pytest.raises(Exception, match="unknown pretraining corpus"):
        Recipe(corpus="laion")


def test_tower_config_reads_tower_folders_presets_and_schemes(tmp_path):
    import json

    from instructvl.models.vision import tower_config

    for model_type, kind in (("clip_vision_model", "clip"), ("siglip_vision_model", "siglip")):
        folder = tmp_path / model_type
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"model_type": model_type}))  # transformers' format
        cfg = tower_config(str(folder))
        assert (cfg.kind, cfg.source) == (kind, str(folder))
    assert tower_config("tiny-offline").source == "synthvl-clip:tiny"
    assert tower_config("synthvl-clip:small").source == "synthvl-clip:small"
