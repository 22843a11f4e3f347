import numpy as np
import pytest
import torch
from PIL import Image

import labkit
from labkit.images import as_batch, photo_crops
from labkit.models import IMAGENET_NORMALIZATION, LITE_NORMALIZATION


@pytest.mark.parametrize("name", labkit.SAMPLE_NAMES)
def test_sample_images_are_rgb_in_unit_range(name):
    image = labkit.sample_image(name)
    assert image.shape == (3, 224, 224) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 1 and image.std() > 0.05


def test_load_image_accepts_path_pil_array_and_tensor(tmp_path):
    array = (np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)
    Image.fromarray(array).save(tmp_path / "photo.png")
    from_path = labkit.load_image(tmp_path / "photo.png", size=None)
    assert torch.equal(from_path, labkit.load_image(Image.fromarray(array), size=None))
    assert torch.equal(from_path, labkit.load_image(array, size=None))
    assert torch.equal(from_path, labkit.load_image(array / 255.0, size=None))
    assert torch.equal(from_path, labkit.load_image(from_path, size=None))
    assert labkit.load_image(array, size=32).shape == (3, 32, 32)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (np.zeros((10, 10), np.uint8), "grayscale"),
        (np.zeros((10, 10, 1), np.uint8), "grayscale"),
        (np.zeros((10, 10, 4), np.uint8), "RGBA"),
        (Image.new("L", (10, 10)), "grayscale"),
        (Image.new("RGBA", (10, 10)), "RGBA"),
        (np.zeros((0, 10, 3), np.uint8), "empty"),
        (np.zeros((10, 10, 5), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((10, 10, 3), np.int64), "dtype"),
        (np.full((10, 10, 3), 2.0), r"\[0, 1\]"),
        (np.full((10, 10, 3), np.nan), "NaN"),
        ("no/such/file.png", "No image file"),
        ([1, 2, 3], "Cannot read an image"),
    ],
)
def test_bad_images_get_clear_errors(source, message):
    with pytest.raises((ValueError, TypeError, FileNotFoundError), match=message):
        labkit.load_image(source)


def test_rgba_file_is_refused(tmp_path):
    Image.new("RGBA", (10, 10)).save(tmp_path / "alpha.png")
    with pytest.raises(ValueError, match="RGBA"):
        labkit.load_image(tmp_path / "alpha.png")


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (torch.zeros(2, 1, 8, 8), "grayscale"),
        (torch.zeros(2, 4, 8, 8), "RGBA"),
        (torch.zeros(8, 8), r"\(B, 3, H, W\)"),
        (torch.zeros(0, 3, 8, 8), "empty"),
        (torch.zeros(1, 3, 8, 8, dtype=torch.uint8), "float"),
        (np.zeros((1, 3, 8, 8)), "tensor"),
    ],
)
def test_bad_batches_get_clear_errors(batch, message):
    with pytest.raises((ValueError, TypeError), match=message):
        as_batch(batch)


@pytest.mark.parametrize("normalization", [LITE_NORMALIZATION, IMAGENET_NORMALIZATION])
def test_preprocess_and_inverse_are_exact_inverses(normalization):
    images = labkit.sample_batch(["chelsea", "rocket"])
    inputs = normalization(images)
    assert torch.allclose(normalization.inverse(inputs), images, atol=1e-6)
    assert torch.allclose(normalization(normalization.inverse(inputs)), inputs, atol=1e-5)
    single = normalization(images[0])
    assert single.shape == (3, 224, 224) and torch.equal(single, inputs[0])


def test_gray_is_zero_after_lite_preprocessing():
    gray = torch.full((3, 4, 4), 127 / 255)
    assert torch.allclose(LITE_NORMALIZATION(gray), torch.zeros(3, 4, 4), atol=1e-6)


def test_photo_crops_are_deterministic_and_varied():
    crops = photo_crops(12, size=64, seed=3)
    assert crops.shape == (12, 3, 64, 64)
    assert torch.equal(crops, photo_crops(12, size=64, seed=3))
    assert not torch.equal(crops, photo_crops(12, size=64, seed=4))
    assert len({round(float(c.mean()), 4) for c in crops}) > 6
