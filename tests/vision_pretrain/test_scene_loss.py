"""The balanced dense loss: object and empty patches weigh the same, however few objects."""

import math

import torch

from instructvl.vision_pretrain.targets import balanced_dense_loss


def test_object_patches_count_as_much_as_all_empty_ones():
    # one image, four patches: one covered by object 1, three empty; uniform logits over 2
    # classes give ln 2 on every patch, so each part's mean is ln 2
    logits = torch.zeros(1, 4, 2)
    labels = torch.tensor([[1, 0, 0, 0]])
    assert math.isclose(balanced_dense_loss(logits, labels).item(), 2 * math.log(2), rel_tol=1e-6)
    # a confident right answer on the one object patch removes half the loss, where a
    # plain mean over the four patches would remove a quarter
    logits[0, 0] = torch.tensor([-20.0, 20.0])
    assert math.isclose(balanced_dense_loss(logits, labels).item(), math.log(2), rel_tol=1e-5)


def test_a_scene_without_objects_has_only_the_empty_part():
    logits = torch.zeros(2, 3, 5)
    labels = torch.zeros(2, 3, dtype=torch.long)
    assert math.isclose(balanced_dense_loss(logits, labels).item(), math.log(5), rel_tol=1e-6)
