"""Probes: labels from the scenes, the fitting function on planted and shuffled labels,
and the layer axis with visual tokens injected at layer k."""

import numpy as np
import pytest
import torch

from instructvl.analysis.features import FEATURES, layer_features
from instructvl.analysis.images import is_simple, scene_images
from instructvl.analysis.probes import ATTRIBUTES, attribute_labels, majority_accuracy, probe_accuracy, probe_curves


def _rederived(scene) -> dict:
    biggest = max(o.size for o in scene.objects)
    subject = [o for o in scene.objects if o.size == biggest][0]
    third = scene.width / 3
    column = "left" if subject.x < third else "center" if subject.x < 2 * third else "right"
    return {"colour": subject.colour, "shape": subject.kind, "count": str(len(scene.objects)), "position": column}


def test_labels_equal_those_rederived_from_the_scenes(scene_suite):
    images = scene_images(scene_suite)
    assert len(images) >= 40
    assert len({im.path for im in images}) == len(images)  # distinct images, so splits are disjoint
    for im in images:
        assert is_simple(im.scene.to_dict())
        assert attribute_labels(im.scene) == _rederived(im.scene)
    assert {attribute_labels(im.scene)["position"] for im in images} == {"left", "center", "right"}


def test_image_order_depends_on_the_seed_only(scene_suite):
    assert [i.path for i in scene_images(scene_suite, 1)] == [i.path for i in scene_images(scene_suite, 1)]
    assert [i.path for i in scene_images(scene_suite, 1)] != [i.path for i in scene_images(scene_suite, 2)]


def _planted(n=600, dim=40, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(n, dim))
    x[:, :classes] += 3.0 * np.eye(classes)[y]  # the attribute, written linearly into 3 directions
    return x, [f"c{v}" for v in y]


def test_probe_recovers_a_linearly_planted_attribute():
    x, y = _planted()
    assert probe_accuracy(x[:300], y[:300], x[300:], y[300:]) > 0.9


def test_probe_is_at_chance_on_shuffled_labels():
    x, y = _planted()
    shuffled = list(np.random.default_rng(1).permutation(y))
    accuracy = probe_accuracy(x[:300], shuffled[:300], x[300:], shuffled[300:])
    assert abs(accuracy - 1 / 3) < 0.1
    assert majority_accuracy(shuffled[:300], shuffled[300:]) < 0.45


def test_probe_curves_shape_and_constant_features_give_the_majority_baseline():
    x, y = _planted(n=150)
    layers = np.stack([np.zeros_like(x), x], 1)  # layer 0 carries nothing, layer 1 the attribute
    labels = [{a: v for a in ATTRIBUTES} for v in y]
    curves = probe_curves({"f": layers}, labels, n_train=100)
    assert set(curves["f"]) == set(ATTRIBUTES)
    assert curves["f"]["colour"][0] == pytest.approx(majority_accuracy(y[:100], y[100:]))
    assert curves["f"]["colour"][1] > 0.75


def test_features_below_the_injection_layer_do_not_depend_on_the_image(model_k2, scene_suite):
    k = 2
    paths = [im.path for im in scene_images(scene_suite)[:3]]
    feats = layer_features(model_k2, paths, "describe the image.", batch_size=2)
    layers = len(model_k2.llm.layers) + 1
    for name in FEATURES:
        assert feats[name].shape == (3, layers, model_k2.llm.hidden_size)
        for i in range(k):  # inputs of layers 0..k-1: placeholders only
            assert torch.equal(feats[name][0, i], feats[name][1, i]) and torch.equal(
                feats[name][0, i], feats[name][2, i]
            )
    # at the input of layer k the visual positions hold the visual tokens, the last
    # prompt token has not read them yet; from layer k + 1 on it has
    assert not torch.allclose(feats["visual-mean"][0, k], feats["visual-mean"][1, k])
    assert torch.equal(feats["last-token"][0, k], feats["last-token"][1, k])
    for i in range(k + 1, layers):
        assert not torch.allclose(feats["last-token"][0, i], feats["last-token"][1, i])


def test_features_of_a_batch_equal_those_one_by_one(model, scene_suite):
    paths = [im.path for im in scene_images(scene_suite)[:3]]
    together = layer_features(model, paths, "what is in the image?", batch_size=3)
    alone = layer_features(model, paths, "what is in the image?", batch_size=1)
    for name in FEATURES:
        torch.testing.assert_close(together[name], alone[name], atol=1e-4, rtol=1e-4)


def test_features_of_an_encoder_decoder_model_come_from_its_encoder(tiny_parts, scene_suite):
    from tests.models.helpers import build

    t5 = build(tiny_parts, llm="t5")
    paths = [im.path for im in scene_images(scene_suite)[:2]]
    feats = layer_features(t5, paths, "describe the image.")
    assert feats["last-token"].shape == (2, len(t5.llm.layers) + 1, t5.llm.hidden_size)
    assert not torch.allclose(feats["visual-mean"][0, 0], feats["visual-mean"][1, 0])  # visual tokens at the input
