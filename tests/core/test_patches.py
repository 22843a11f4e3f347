import pytest
import torch

from labkit.guards import hook_count
from labkit.patches import max_activating_patches, strongest_units


def test_finds_the_strongest_unit_of_each_image_and_its_receptive_field(toy_model):
    torch.manual_seed(1)
    images = torch.randn(6, 3, 20, 20)
    features = toy_model[:4](images)[:, 2]  # conv, relu, conv, relu: 3x3 + 3x3 -> 5x5 field
    patches = max_activating_patches(toy_model, images, "3", channel=2, k=4, batch_size=4)
    best = features.flatten(1).max(1).values
    assert [p.image_index for p in patches] == best.topk(4).indices.tolist()
    for patch in patches:
        assert patch.activation == pytest.approx(float(best[patch.image_index].detach()), abs=1e-5)
        assert features[patch.image_index, patch.row, patch.col] == features[patch.image_index].max()
        top, left, bottom, right = patch.box
        assert top == max(patch.row - 2, 0) and left == max(patch.col - 2, 0)
        assert bottom == min(patch.row + 3, 20) and right == min(patch.col + 3, 20)
        assert patch.crop(images).shape == (3, bottom - top, right - left)


def test_real_model_mid_layer_boxes_are_local(classifier):
    from labkit.images import photo_crops

    inputs = classifier.preprocess(photo_crops(12, seed=1))
    patches = max_activating_patches(classifier.model, inputs, "blocks.2", channel=5, k=4)
    assert len({p.image_index for p in patches}) == 4
    for p in patches:
        top, left, bottom, right = p.box
        assert 10 < bottom - top < 120 and 10 < right - left < 120
    assert hook_count(classifier.model) == 0 and not classifier.model.training


def test_bad_layer_and_channel(toy_model):
    images = torch.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        max_activating_patches(toy_model, images, "conv9", channel=0)
    with pytest.raises(ValueError, match="channel must be in 0..4"):
        max_activating_patches(toy_model, images, "2", channel=5)
    with pytest.raises(ValueError, match="feature map"):
        max_activating_patches(toy_model, images, "6", channel=0)
    assert hook_count(toy_model) == 0


def test_strongest_units_breaks_ties_by_image_index_and_raster_order():
    maps = torch.zeros(4, 2, 3)
    maps[1, 1, 2] = maps[3, 0, 1] = maps[3, 1, 0] = 2.0  # images 1 and 3 tie; image 3 peaks twice
    maps[2] = 1.0  # image 2: every unit ties, the first one (0, 0) is kept
    assert strongest_units(maps, 3).tolist() == [[1, 1, 2], [3, 0, 1], [2, 0, 0]]
