"""Weakly supervised object localisation from a saliency map (Simonyan et al., "Deep Inside Convolutional
Networks", ICLR 2014 workshop, §6.1), and its score: localisation accuracy at IoU >= 0.5.

For each image and its map (the class's saliency map, or any other map such as Grad-CAM's):

1. threshold the map: pixels above its ``foreground`` quantile (0.95 in the paper) seed the object's
   colour model, pixels below its ``background`` quantile (0.30) the background's;
2. GraphCut colour segmentation from these seeds (Boykov & Jolly 2001): OpenCV's ``grabCut``
   (Rother et al. 2004), which fits a Gaussian mixture colour model to each side and cuts the pixel
   graph, ``iterations`` times, starting from the seeds as fixed labels and every other pixel as
   "probably background";
3. the bounding box of the largest 4-connected foreground component.

Why ``grabCut``: it is GraphCut with Gaussian-mixture colour models estimated from labelled pixels,
which is what the paper describes, in one call of a compiled library (``opencv-python-headless``);
PyMaxflow would give the min-cut only, with the colour models, the graph's weights and the
iterations left to write. A map with no spread (max = min) seeds nothing: the box is the whole
image. A segmentation with no foreground falls back to the largest component of the seeds.

A predicted box is correct when its intersection over union with the ground-truth box is at least
0.5 (the ILSVRC localisation criterion). Boxes are (x0, y0, x1, y1) in pixels, x1 and y1 exclusive:
the box of a mask is the smallest such box that holds all its pixels.

The deck quotes 46.4 % on ILSVRC-2013; the paper reports it as the top-5 localisation *error* (CAM,
Zhou et al. 2016, Table 4, lists it so, beside CAM's 37.1 %): a prediction counted when any of the
boxes of the five most probable classes has the right class and IoU >= 0.5, on 1000 ImageNet classes
with several objects per image. :mod:`labkit.experiments.localisation` measures top-1 accuracy on the
shapes data (one object per image, its box from the exact mask), which is an easier task.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from labkit.metrics.common import check_maps

FOREGROUND = 0.95
BACKGROUND = 0.30


def _opencv():
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - installed with the course
        raise ImportError(
            "Simonyan's localisation segments with OpenCV's grabCut: pip install opencv-python-headless "
            "(it comes with the course's lab extra)."
        ) from error
    return cv2


def check_boxes(boxes: torch.Tensor, name: str = "boxes") -> torch.Tensor:
    """``boxes`` as a (N, 4) long tensor of (x0, y0, x1, y1) with x0 < x1 and y0 < y1, else a ValueError."""
    boxes = torch.as_tensor(boxes)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"Expected {name} of shape (N, 4) as (x0, y0, x1, y1), got {tuple(boxes.shape)}.")
    if boxes.is_floating_point() and not bool(torch.isfinite(boxes).all()):
        raise ValueError(f"The {name} hold NaN or infinite coordinates.")
    if bool(((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])).any()):
        raise ValueError(f"Every one of the {name} needs x0 < x1 and y0 < y1 (x1, y1 exclusive), got {boxes.tolist()}.")
    return boxes


def box_iou(boxes: torch.Tensor, truths: torch.Tensor) -> torch.Tensor:
    """Intersection over union (N,) of each box with its ground-truth box: |A ∩ B| / |A ∪ B| in pixels."""
    boxes, truths = check_boxes(boxes).double(), check_boxes(truths, "ground-truth boxes").double()
    if boxes.shape != truths.shape:
        raise ValueError(f"Got {len(boxes)} boxes for {len(truths)} ground-truth boxes: give one per image.")
    width = (torch.minimum(boxes[:, 2], truths[:, 2]) - torch.maximum(boxes[:, 0], truths[:, 0])).clamp(min=0)
    height = (torch.minimum(boxes[:, 3], truths[:, 3]) - torch.maximum(boxes[:, 1], truths[:, 1])).clamp(min=0)
    intersection = width * height

    def area(b: torch.Tensor) -> torch.Tensor:
        return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])

    return intersection / (area(boxes) + area(truths) - intersection)


def mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """The bounding box (B, 4) of each (H, W) mask of ``masks`` (B, H, W); an empty mask is a ValueError."""
    masks = torch.as_tensor(masks)
    if masks.ndim != 3:
        raise ValueError(f"Expected masks of shape (B, H, W), got {tuple(masks.shape)}.")
    masks = masks.bool()
    rows, columns = masks.any(dim=2), masks.any(dim=1)
    if not bool(rows.any(dim=1).all()):
        raise ValueError("A mask is empty: it has no bounding box.")
    height, width = masks.shape[1:]
    y = torch.arange(height, device=masks.device)
    x = torch.arange(width, device=masks.device)
    big = max(height, width)
    y0 = torch.where(rows, y, big).amin(dim=1)
    y1 = torch.where(rows, y, -1).amax(dim=1) + 1
    x0 = torch.where(columns, x, big).amin(dim=1)
    x1 = torch.where(columns, x, -1).amax(dim=1) + 1
    return torch.stack([x0, y0, x1, y1], dim=1).long()


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected component of a boolean (H, W) mask (empty if the mask is)."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask.astype(bool)
    sizes = np.bincount(labels.ravel())[1:]
    return labels == 1 + int(sizes.argmax())


def seeds(saliency: np.ndarray, foreground: float, background: float) -> tuple[np.ndarray, np.ndarray]:
    """(object seeds, background seeds): the pixels at or above the ``foreground`` quantile of the map, and
    strictly below its ``background`` quantile (both empty for a map with no spread)."""
    if float(saliency.max()) == float(saliency.min()):
        empty = np.zeros(saliency.shape, bool)
        return empty, empty
    high, low = np.quantile(saliency, foreground), np.quantile(saliency, background)
    return saliency >= high, saliency < low


def segment(image: np.ndarray, saliency: np.ndarray, foreground: float, background: float, iterations: int):
    """The object's mask (H, W) bool: GrabCut from the map's seeds (see the module's doc)."""
    cv2 = _opencv()
    objects, backgrounds = seeds(saliency, foreground, background)
    if not objects.any() or not backgrounds.any():
        return np.ones(saliency.shape, bool)
    labels = np.full(saliency.shape, cv2.GC_PR_BGD, np.uint8)
    labels[backgrounds] = cv2.GC_BGD
    labels[objects] = cv2.GC_FGD
    pixels = np.ascontiguousarray((image.transpose(1, 2, 0) * 255).round().clip(0, 255).astype(np.uint8)[..., ::-1])
    background_model, foreground_model = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)  # GrabCut initialises its colour models with k-means
    cv2.grabCut(pixels, labels, None, background_model, foreground_model, iterations, cv2.GC_INIT_WITH_MASK)
    mask = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    return largest_component(mask if mask.any() else objects)


def localise(
    images: torch.Tensor,
    maps: torch.Tensor,
    *,
    foreground: float = FOREGROUND,
    background: float = BACKGROUND,
    iterations: int = 5,
) -> torch.Tensor:
    """Simonyan et al.'s boxes (B, 4) for ``images`` (B, 3, H, W) in [0, 1] and their ``maps`` (B, H, W).

    ``foreground``/``background``: the quantiles of each map that seed the object and the background
    (0 <= background < foreground <= 1); ``iterations`` of GrabCut."""
    maps = check_maps(maps, images).cpu()
    if not 0 <= background < foreground <= 1:
        raise ValueError(
            f"Need 0 <= background < foreground <= 1 (quantiles of the map), got background={background}, "
            f"foreground={foreground}."
        )
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}.")
    pixels = images.detach().float().cpu()
    if float(pixels.min()) < 0 or float(pixels.max()) > 1:
        raise ValueError("Expected images in [0, 1] (before preprocessing): GrabCut's colour models read them.")
    masks = [
        torch.from_numpy(segment(image.numpy(), saliency.numpy(), foreground, background, iterations))
        for image, saliency in zip(pixels, maps)
    ]
    return mask_boxes(torch.stack(masks))


def centre_boxes(shape: tuple[int, int], n: int, fraction: float = 0.5) -> torch.Tensor:
    """The baseline that looks at nothing: ``n`` boxes centred in an image of ``shape`` (H, W), each side
    ``fraction`` of the image's."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
    height, width = shape
    box_h, box_w = max(1, round(height * fraction)), max(1, round(width * fraction))
    y0, x0 = (height - box_h) // 2, (width - box_w) // 2
    return torch.tensor([[x0, y0, x0 + box_w, y0 + box_h]]).repeat(n, 1)


def localisation_accuracy(boxes: torch.Tensor, truths: torch.Tensor, threshold: float = 0.5) -> float:
    """The fraction of boxes whose IoU with their ground-truth box is at least ``threshold`` (ILSVRC: 0.5)."""
    return float((box_iou(boxes, truths) >= threshold).double().mean())
