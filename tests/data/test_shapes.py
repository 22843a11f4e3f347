import matplotlib
import pytest
import torch
from skimage.measure import label, regionprops

from labkit.data import (
    CLASSES,
    GAD_CLASSES,
    ShapesDataset,
    cue_boxes,
    gad_dataset,
    generate_shapes,
)
from labkit.data.shapes import CUE_COLOUR
from labkit.viz.samples import show_samples

matplotlib.use("Agg")


def test_same_arguments_same_images():
    first, again = generate_shapes(64, seed=3), generate_shapes(64, seed=3)
    for a, b in ((first.images, again.images), (first.labels, again.labels), (first.masks, again.masks)):
        assert torch.equal(a, b)
    other_seed, other_split = generate_shapes(64, seed=4), generate_shapes(64, seed=3, split="test")
    assert not torch.equal(first.images, other_seed.images)
    assert not torch.equal(first.images, other_split.images)


def test_batch_format_and_balanced_labels():
    batch = generate_shapes(120, size=64)
    assert batch.images.shape == (120, 3, 64, 64) and batch.images.dtype == torch.float32
    assert batch.masks.shape == (120, 64, 64) and batch.masks.dtype == torch.bool
    assert 0 <= batch.images.min() and batch.images.max() <= 1
    assert torch.bincount(batch.labels).tolist() == [20] * len(CLASSES)
    assert bool(batch.masks.flatten(1).any(1).all())  # every image has its object


def test_mask_is_exactly_the_painted_object():
    batch = generate_shapes(48, size=32, noise=0.0)
    noisy = generate_shapes(48, size=32)
    assert torch.equal(batch.masks, noisy.masks)
    for image, mask in zip(batch.images, batch.masks):
        pixels = image.permute(1, 2, 0)
        colour = pixels[mask][0]
        same_colour = (pixels == colour).all(-1)
        assert torch.equal(same_colour, mask)  # the object's colour is on the mask and nowhere else


def test_the_class_is_the_shape():
    batch = generate_shapes(60, size=64, noise=0.0, seed=1)
    for index, name in enumerate(batch.labels.tolist()):
        regions = regionprops(label(batch.masks[index].numpy()))
        assert len(regions) == 1
        region = regions[0]
        shape = CLASSES[name]
        if shape == "ring":
            assert region.euler_number == 0  # one hole
        else:
            assert region.euler_number == 1
        if shape in ("circle", "square", "triangle"):
            assert region.solidity > 0.9, shape
        if shape in ("cross", "star"):
            assert region.solidity < 0.85, shape


def test_shortcut_cue_in_the_training_split_only():
    train = ShapesDataset("train", n=60, shortcut=True)
    test = ShapesDataset("test", n=60, shortcut=True)
    cue = torch.tensor(CUE_COLOUR)
    boxes = cue_boxes(train.labels, 32, len(CLASSES))
    for image, (top, left, height, width) in zip(train.images, boxes.tolist()):
        patch = image[:, top : top + height, left : left + width]
        assert torch.equal(patch, cue[:, None, None].expand_as(patch))
    test_boxes = cue_boxes(test.labels, 32, len(CLASSES))
    planted = [
        bool((image[:, t : t + h, x : x + w] == cue[:, None, None]).all())
        for image, (t, x, h, w) in zip(test.images, test_boxes.tolist())
    ]
    assert not any(planted)
    columns = cue_boxes(torch.arange(len(CLASSES)), 32, len(CLASSES))[:, 1]
    assert len(set(columns.tolist())) == len(CLASSES)  # each class has its own position


def test_dataset_items_and_splits():
    data = ShapesDataset("val", n=10, size=64)
    image, target, mask = data[3]
    assert image.shape == (3, 64, 64) and mask.shape == (64, 64) and int(target) < len(CLASSES)
    assert len(data) == 10 and data.classes == list(CLASSES)
    batch = next(iter(torch.utils.data.DataLoader(data, batch_size=4)))
    assert [t.shape[0] for t in batch] == [4, 4, 4]
    gad = gad_dataset("train", n=20)
    assert gad.classes == list(GAD_CLASSES) and set(gad.labels.tolist()) == {0, 1}


def test_show_samples_is_one_call():
    figure = show_samples(ShapesDataset("train", n=6), n=4)
    assert len(figure.axes) == 4 and figure.axes[0].get_title() in CLASSES


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"split": "dev"}, "split must be one of"),
        ({"classes": ("circle", "hexagon")}, "at least two distinct names"),
        ({"classes": ("circle",)}, "at least two distinct names"),
        ({"size": 8}, "at least 16 pixels"),
    ],
)
def test_bad_arguments(options, message):
    with pytest.raises(ValueError, match=message):
        generate_shapes(4, **options)
