"""Images in, tensors out: loading, the sample photos, and the normalisation models expect.

Convention used everywhere in labkit: an *image* is a float32 tensor of shape (3, H, W)
with values in [0, 1] (a batch is (B, 3, H, W)); a model *input* is the same tensor after
:class:`Normalization`, i.e. ``(image - mean) / std`` per channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ImageSource = str | Path | Image.Image | np.ndarray | torch.Tensor

DEFAULT_SIZE = 224


def _photo(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


def _motorcycle() -> np.ndarray:
    import skimage.data

    left, _right, _disparity = skimage.data.stereo_motorcycle()
    return left


_PHOTOS: dict[str, Callable[[], np.ndarray]] = {
    "chelsea": _photo("chelsea"),
    "coffee": _photo("coffee"),
    "rocket": _photo("rocket"),
    "astronaut": _photo("astronaut"),
    "motorcycle": _motorcycle,
}


def _cat_and_coffee() -> np.ndarray:
    """The cat of ``chelsea`` on the left half, the espresso of ``coffee`` on the right.

    EfficientNet-Lite0 puts cat classes (285, 282, 281) and espresso (967) in its top 5,
    so the same image can be explained for either class.
    """
    cat = _resize_shorter_side(_photos_array("chelsea"), DEFAULT_SIZE)
    cup = _resize_shorter_side(_photos_array("coffee"), DEFAULT_SIZE)
    half = DEFAULT_SIZE // 2
    cup_left = (cup.shape[1] - half) // 2
    return np.concatenate([cat[:, 80 : 80 + half], cup[:, cup_left : cup_left + half]], axis=1)


def _photos_array(name: str) -> np.ndarray:
    return _PHOTOS[name]()


SAMPLE_NAMES: tuple[str, ...] = (*_PHOTOS, "cat_and_coffee")


def _resize_shorter_side(array: np.ndarray, size: int) -> np.ndarray:
    image = Image.fromarray(array)
    width, height = image.size
    scale = size / min(width, height)
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    return np.asarray(image.resize(new_size, Image.BILINEAR))


def _center_crop(array: np.ndarray, size: int) -> np.ndarray:
    height, width = array.shape[:2]
    top, left = (height - size) // 2, (width - size) // 2
    return array[top : top + size, left : left + size]


def _as_uint8_rgb(source: ImageSource) -> np.ndarray:
    """Any accepted source as an (H, W, 3) uint8 array, with a clear error otherwise."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No image file at {path}. Give a path to a JPEG or PNG file.")
        with Image.open(path) as opened:
            if opened.mode not in ("RGB", "L", "RGBA", "P", "LA", "CMYK"):
                raise ValueError(f"Image {path} has mode {opened.mode}; convert it to RGB first.")
            source = opened.copy()
    if isinstance(source, Image.Image):
        if source.mode != "RGB":
            raise ValueError(
                f"Expected an RGB image, got PIL mode {source.mode!r} "
                f"({'grayscale' if source.mode in ('L', 'LA', 'I', 'F') else 'not RGB'}). "
                "Use image.convert('RGB') if you want it as colour."
            )
        return np.asarray(source)
    if isinstance(source, torch.Tensor):
        if source.ndim == 3 and source.shape[0] in (1, 3, 4) and source.shape[-1] not in (3,):
            source = source.permute(1, 2, 0)
        source = source.detach().cpu().numpy()
    if not isinstance(source, np.ndarray):
        raise TypeError(
            f"Cannot read an image from {type(source).__name__}; give a file path, a PIL image, "
            "an (H, W, 3) array or a (3, H, W) tensor."
        )
    return _array_to_uint8(source)


def _array_to_uint8(array: np.ndarray) -> np.ndarray:
    if array.size == 0:
        raise ValueError(f"The image is empty (shape {array.shape}).")
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 1):
        raise ValueError(
            f"Got a grayscale image of shape {array.shape}; the models expect RGB. "
            "Repeat it over three channels, e.g. np.stack([gray] * 3, axis=-1)."
        )
    if array.ndim != 3 or array.shape[-1] not in (3, 4):
        raise ValueError(
            f"Expected an image of shape (H, W, 3) or (3, H, W), got {array.shape}. "
            "For a batch, load the images one by one and stack them."
        )
    if array.shape[-1] == 4:
        raise ValueError(
            f"Got an RGBA image of shape {array.shape}; drop the alpha channel "
            "(array[..., :3]) or use PIL's image.convert('RGB')."
        )
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("The image contains NaN or infinite values.")
        if array.min() < 0 or array.max() > 1:
            raise ValueError(
                f"A float image must have values in [0, 1], got [{array.min():.3g}, "
                f"{array.max():.3g}]. Divide 0-255 data by 255, or deprocess a model input first."
            )
        return np.round(array * 255).astype(np.uint8)
    raise TypeError(f"Unsupported image dtype {array.dtype}; use uint8 (0-255) or float (0-1).")


def load_image(source: ImageSource, size: int | None = DEFAULT_SIZE) -> torch.Tensor:
    """Read an RGB image as a (3, size, size) float tensor in [0, 1].

    ``source`` is a file path, a PIL image, an (H, W, 3) array (uint8 0-255 or float 0-1)
    or a (3, H, W) tensor. The shorter side is resized to ``size`` and the centre cropped
    to a square, as for ImageNet evaluation; ``size=None`` keeps the image as it is.
    """
    array = _as_uint8_rgb(source)
    if size is not None:
        if size < 1:
            raise ValueError(f"size must be a positive number of pixels, got {size}.")
        array = _center_crop(_resize_shorter_side(array, size), size)
    return torch.from_numpy(np.array(array)).permute(2, 0, 1).float() / 255


@cache
def _sample_uint8(name: str) -> np.ndarray:
    if name == "cat_and_coffee":
        return _cat_and_coffee()
    return _photos_array(name)


def sample_image(name: str, size: int = DEFAULT_SIZE) -> torch.Tensor:
    """One of the photos shipped with scikit-image (no download), as :func:`load_image` gives it.

    Names: ``chelsea`` (a cat), ``coffee`` (an espresso), ``rocket``, ``astronaut``,
    ``motorcycle`` (the left view of the stereo pair), and ``cat_and_coffee``, a composite
    with two objects of different classes for class-discriminative maps.
    """
    if name not in SAMPLE_NAMES:
        raise ValueError(f"Unknown sample image {name!r}; choose one of {', '.join(SAMPLE_NAMES)}.")
    return load_image(_sample_uint8(name), size)


#: scikit-image photos used by :func:`photo_crops` (grayscale ones are repeated over RGB).
CROP_SOURCES: tuple[str, ...] = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "colorwheel",
    "camera",
    "coins",
    "clock",
    "moon",
    "brick",
    "grass",
    "gravel",
)


def photo_crops(n: int = 64, size: int = DEFAULT_SIZE, seed: int = 0) -> torch.Tensor:
    """``n`` random square crops (random photo, position and scale) as a (n, 3, size, size) batch.

    Many different images for statistics over a dataset (e.g. maximally activating
    patches) without any download; deterministic for a given ``seed``.
    """
    import skimage.data

    rng = np.random.default_rng(seed)
    photos = [getattr(skimage.data, name)() for name in CROP_SOURCES] + [_photos_array("motorcycle")]
    crops = []
    for _ in range(n):
        photo = photos[rng.integers(len(photos))]
        if photo.ndim == 2:
            photo = np.repeat(photo[..., None], 3, axis=-1)
        side = int(rng.uniform(0.3, 1.0) * min(photo.shape[:2]))
        top = rng.integers(photo.shape[0] - side + 1)
        left = rng.integers(photo.shape[1] - side + 1)
        crops.append(load_image(photo[top : top + side, left : left + side], size))
    return torch.stack(crops)


def sample_batch(names: Sequence[str] = SAMPLE_NAMES, size: int = DEFAULT_SIZE) -> torch.Tensor:
    """Several sample images stacked into a (B, 3, size, size) batch."""
    return torch.stack([sample_image(name, size) for name in names])


def as_batch(images: torch.Tensor) -> torch.Tensor:
    """A (3, H, W) image or a (B, 3, H, W) batch as a (B, 3, H, W) batch, checked."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"Expected a tensor of shape (B, 3, H, W), got {type(images).__name__}. "
            "Load images with labkit.load_image and preprocess them first."
        )
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[1] != 3:
        hint = " (grayscale: repeat it over 3 channels)" if images.ndim == 4 and images.shape[1] == 1 else ""
        hint = " (RGBA: drop the alpha channel)" if images.ndim == 4 and images.shape[1] == 4 else hint
        raise ValueError(f"Expected images of shape (B, 3, H, W), got {tuple(images.shape)}{hint}.")
    if images.numel() == 0:
        raise ValueError(f"The batch is empty (shape {tuple(images.shape)}).")
    if not images.is_floating_point():
        raise TypeError(f"Expected a float tensor, got dtype {images.dtype}; divide uint8 data by 255.")
    check_finite(images, "The images")
    return images


def check_finite(
    tensor: torch.Tensor, what: str, fix: str = "fix the data (e.g. torch.nan_to_num) before explaining it"
) -> None:
    """A ValueError when ``tensor`` holds NaN or infinite values (they would spread through every pass)."""
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(
            f"{what} contain NaN or infinite values ({int(torch.isnan(tensor).sum())} NaN, "
            f"{int(torch.isinf(tensor).sum())} inf): {fix}."
        )


@dataclass(frozen=True)
class Normalization:
    """Per-channel normalisation ``x = (image - mean) / std`` and its exact inverse.

    ``mean`` and ``std`` are in [0, 1] units. The gray ``mean`` maps to 0: that is the
    neutral value occlusion and baselines use after preprocessing.
    """

    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def _stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.tensor(self.mean, dtype=like.dtype, device=like.device).view(3, 1, 1)
        std = torch.tensor(self.std, dtype=like.dtype, device=like.device).view(3, 1, 1)
        return mean, std

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1], (3, H, W) or (B, 3, H, W), to model inputs of the same shape."""
        single = images.ndim == 3
        batch = as_batch(images)
        mean, std = self._stats(batch)
        out = (batch - mean) / std
        return out[0] if single else out

    def inverse(self, inputs: torch.Tensor) -> torch.Tensor:
        """Model inputs back to images in [0, 1] (not clamped: the exact inverse)."""
        single = inputs.ndim == 3
        batch = as_batch(inputs)
        mean, std = self._stats(batch)
        out = batch * std + mean
        return out[0] if single else out
