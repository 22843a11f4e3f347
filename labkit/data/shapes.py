"""A synthetic image dataset with ground truth: one shape per image, its class, its mask.

Each image holds one object whose class is decided by its shape (``CLASSES``), drawn at a
random position, scale, rotation and colour over a natural texture from scikit-image
(brick, grass, gravel, moon: a random crop, zoom and rotation, tinted with two random
colours) with a few small distractors (ellipses and bars) behind it. The object's mask is
exact: it is the set of pixels painted with the object's colour.

Everything is drawn by batched tensor operations from a ``torch.Generator`` seeded with
(seed, split): the same arguments always give the same images, thousands per second on a
CPU. The *shortcut* variant plants a small magenta square whose position along the top
edge is decided by the class, in the training split only: a classifier that learns this
cue instead of the shape fails on the clean test split (the "Clever Hans" case).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross", "star", "ring")
#: The two classes used for GAD (Gradient Artificial Distancing, lab 9).
GAD_CLASSES: tuple[str, ...] = ("circle", "triangle")
SPLITS: tuple[str, ...] = ("train", "val", "test")
TEXTURES: tuple[str, ...] = ("brick", "grass", "gravel", "moon")
#: Colour of the shortcut cue (magenta, rare in the tinted textures).
CUE_COLOUR = (1.0, 0.0, 1.0)
MAX_DISTRACTORS = 4
_TEXTURE_SIZE = 256


@dataclass
class ShapesBatch:
    """Generated images (N, 3, S, S) float in [0, 1], labels (N,) long, masks (N, S, S) bool."""

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor


@cache
def _textures() -> torch.Tensor:
    """The gray textures, (T, 1, 256, 256) in [0, 1], contrast-stretched."""
    import skimage.data

    stack = []
    for name in TEXTURES:
        texture = torch.from_numpy(getattr(skimage.data, name)()).float()[None, None] / 255
        texture = F.interpolate(texture, size=(_TEXTURE_SIZE,) * 2, mode="area")[0]
        low, high = texture.quantile(0.02), texture.quantile(0.98)
        stack.append(((texture - low) / (high - low)).clamp(0, 1))
    return torch.stack(stack)


def _uniform(generator: torch.Generator, n: int, low: float, high: float, *shape: int) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, *shape, generator=generator)


def _hsv_colours(generator: torch.Generator, n: int, saturation: tuple[float, float], value: tuple[float, float]):
    """(n, 3) RGB colours with uniform hue and saturation/value in the given ranges."""
    hue = torch.rand(n, generator=generator)
    sat = _uniform(generator, n, *saturation)
    val = _uniform(generator, n, *value)
    k = (torch.tensor([5.0, 3.0, 1.0]) + hue[:, None] * 6) % 6
    return val[:, None] - val[:, None] * sat[:, None] * (torch.minimum(k, 4 - k).clamp(0, 1))


def _local_coordinates(grid: torch.Tensor, centre: torch.Tensor, scale: torch.Tensor, angle: torch.Tensor):
    """Pixel coordinates in each object's frame: u = R(-angle) (p - centre) / scale, (N, S, S) each."""
    dx = grid[0][None] - centre[:, 0, None, None]
    dy = grid[1][None] - centre[:, 1, None, None]
    cos, sin = angle.cos()[:, None, None], angle.sin()[:, None, None]
    scale = scale[:, None, None]
    return (cos * dx + sin * dy) / scale, (-sin * dx + cos * dy) / scale


def _inside(name: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Bool tensor: (u, v), in the object's unit-radius frame, is inside shape ``name``."""
    if name == "square":
        return torch.maximum(u.abs(), v.abs()) <= 0.75
    if name == "triangle":
        sides = [u * math.cos(a) + v * math.sin(a) for a in (math.pi / 2, math.pi * 7 / 6, math.pi * 11 / 6)]
        return torch.stack(sides).amax(0) <= 0.5
    if name == "cross":
        return ((u.abs() <= 0.3) & (v.abs() <= 1.0)) | ((v.abs() <= 0.3) & (u.abs() <= 1.0))
    radius = torch.sqrt(u**2 + v**2)
    if name == "star":
        return radius <= 0.42 + 0.6 * ((1 + torch.cos(5 * torch.atan2(v, u))) / 2) ** 2
    if name == "ring":
        return (radius <= 1.0) & (radius >= 0.55)
    return radius <= 0.9  # circle


def _shape_masks(u: torch.Tensor, v: torch.Tensor, labels: torch.Tensor, classes: Sequence[str]) -> torch.Tensor:
    """(N, S, S) bool: inside the shape of each image's class, in unit-radius local coordinates."""
    masks = torch.zeros_like(u, dtype=torch.bool)
    for index, name in enumerate(classes):
        chosen = labels == index
        masks[chosen] = _inside(name, u[chosen], v[chosen])
    return masks


def _backgrounds(generator: torch.Generator, n: int, size: int) -> torch.Tensor:
    """(n, 3, S, S): a random crop of a random texture, zoomed, rotated and tinted with two colours."""
    textures = _textures()
    which = torch.randint(len(textures), (n,), generator=generator)
    zoom = _uniform(generator, n, 0.15, 0.4)
    angle = _uniform(generator, n, 0, 2 * math.pi)
    shift = _uniform(generator, n, -1, 1, 2) * (1 - zoom[:, None])
    cos, sin = angle.cos() * zoom, angle.sin() * zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    gray = torch.empty(n, 1, size, size)
    for index in range(len(textures)):
        chosen = which == index
        if bool(chosen.any()):
            source = textures[index][None].expand(int(chosen.sum()), -1, -1, -1)
            gray[chosen] = F.grid_sample(
                source, grid[chosen], mode="bilinear", padding_mode="reflection", align_corners=False
            )
    dark = _hsv_colours(generator, n, (0.0, 0.6), (0.05, 0.5))
    light = _hsv_colours(generator, n, (0.0, 0.6), (0.5, 0.95))
    return dark[:, :, None, None] + (light - dark)[:, :, None, None] * gray


def _paint_distractors(generator: torch.Generator, canvas: torch.Tensor, grid: torch.Tensor) -> None:
    """Paint up to MAX_DISTRACTORS small ellipses and bars onto ``canvas`` (n, 3, S, S) in place."""
    n = canvas.shape[0]
    count = torch.randint(MAX_DISTRACTORS + 1, (n,), generator=generator)
    for k in range(MAX_DISTRACTORS):
        centre = _uniform(generator, n, -0.9, 0.9, 2)
        angle = _uniform(generator, n, 0, math.pi)
        size = _uniform(generator, n, 0.08, 0.22)
        aspect = torch.where(torch.rand(n, generator=generator) < 0.5, _uniform(generator, n, 0.5, 1), 0.2)
        colour = _hsv_colours(generator, n, (0.2, 1.0), (0.2, 1.0))
        u, v = _local_coordinates(grid, centre, size, angle)
        shape = (u**2 + (v / aspect[:, None, None]) ** 2 <= 1) & (k < count)[:, None, None]
        canvas.copy_(torch.where(shape[:, None], colour[:, :, None, None], canvas))


def _seeded(seed: int, split: str) -> torch.Generator:
    entropy = np.random.SeedSequence([seed, SPLITS.index(split)]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(entropy) & (2**63 - 1))


def cue_boxes(labels: torch.Tensor, size: int, n_classes: int) -> torch.Tensor:
    """(N, 4) rows (top, left, height, width) of the shortcut cue: a square on the top edge.

    The cue is ``max(2, size // 10)`` pixels wide; its column moves with the class from the
    left corner (class 0) to the right corner (last class).
    """
    side = max(2, size // 10)
    span = size - side - 2
    left = 1 + torch.round(labels.float() * span / max(n_classes - 1, 1)).long()
    return torch.stack([torch.ones_like(left), left, torch.full_like(left, side), torch.full_like(left, side)], 1)


def generate_shapes(
    n: int,
    *,
    size: int = 32,
    seed: int = 0,
    split: str = "train",
    classes: Sequence[str] = CLASSES,
    shortcut: bool = False,
    noise: float = 0.03,
) -> ShapesBatch:
    """``n`` images of ``size`` x ``size`` pixels with their labels and object masks.

    Labels are balanced (``i % len(classes)`` in a shuffled order) and index ``classes``.
    The object is painted in one flat colour, then Gaussian pixel ``noise`` (standard
    deviation, in [0, 1] units) is added everywhere. With ``shortcut=True`` the class cue
    (:func:`cue_boxes`) is painted on every image (it is not part of the object's mask). The
    result depends only on the arguments.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    unknown = [name for name in classes if name not in CLASSES]
    if unknown or len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be at least two distinct names from {CLASSES}, got {tuple(classes)}.")
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels for the shapes to be recognisable, got {size}.")
    if n < 1:
        raise ValueError(f"n must be a positive number of images, got {n}.")
    generator = _seeded(seed, split)
    labels = (torch.arange(n) % len(classes))[torch.randperm(n, generator=generator)]
    axis = (torch.arange(size) + 0.5) / size * 2 - 1
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"))
    images = _backgrounds(generator, n, size)
    _paint_distractors(generator, images, grid)
    scale = _uniform(generator, n, 0.35, 0.6)
    centre = _uniform(generator, n, -1, 1, 2) * (0.95 - scale[:, None])
    angle = _uniform(generator, n, 0, 2 * math.pi)
    u, v = _local_coordinates(grid, centre, scale, angle)
    masks = _shape_masks(u, v, labels, classes)
    colour = _hsv_colours(generator, n, (0.5, 1.0), (0.55, 1.0))
    images = torch.where(masks[:, None], colour[:, :, None, None], images)
    images = images + noise * torch.randn(images.shape, generator=generator)
    if shortcut:
        top, left, height, width = cue_boxes(labels, size, len(classes)).T[:, :, None]
        pixels = torch.arange(size)
        rows = (pixels >= top) & (pixels < top + height)
        cols = (pixels >= left) & (pixels < left + width)
        cue = rows[:, :, None] & cols[:, None, :]
        images = torch.where(cue[:, None], torch.tensor(CUE_COLOUR)[:, None, None], images)
    return ShapesBatch(images.clamp(0, 1), labels, masks)
