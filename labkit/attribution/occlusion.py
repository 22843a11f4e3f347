"""Occlusion (Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014).

A ``patch`` x ``patch`` square of the input is set to ``baseline`` (0 after preprocessing,
i.e. medium gray) and the class score is recorded, for each position of the square on a
grid of step ``stride``. The square's top-left corner takes the values 0, stride,
2 stride, ... up to the first one that reaches the last row (column):
``n = ceil((H - patch) / stride) + 1`` positions per axis, so every pixel is covered and
the last square is clipped at the border (the placement of Captum's ``Occlusion``).

The pixel attribution is the score drop averaged over the squares covering each pixel,

    A(x)_ij = mean over squares w containing (i, j) of [ S_c(x) - S_c(x with w occluded) ],

which equals Captum's ``Occlusion.attribute`` with ``sliding_window_shapes=(3, patch,
patch)``, ``strides=stride`` and the same baseline.

``placement="centred"`` is the lab deck's procedure instead (D. Lingrand, *Interpretability*,
"Occlusion map in the lab"): the square is **centred on a pixel**, for each pixel (stride 1) or
one pixel per ``stride`` x ``stride`` block, and the map is the probability of the class at
each centre. The centre of block k (pixels k s .. k s + s - 1, the last block possibly
shorter) is its middle pixel ``k s + (len - 1) // 2``; the square covers rows
``centre - (patch - 1) // 2`` to ``centre + patch // 2`` (exactly centred for an odd patch),
clipped at the border, so ``n = ceil(H / stride)`` centres per axis. Each pixel's attribution
is the drop at the centre of its block, ``A_ij = S_c(x) - S_c(x with the square centred at
the centre of (i, j)'s block occluded)``: one square per value, no averaging.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from tqdm.auto import tqdm

from labkit.batching import chosen_batch_size
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.targets import Targets, check_score, select_score, targets_from_outputs

PLACEMENTS = ("grid", "centred")


def occlusion_positions(size: int, patch: int, stride: int) -> torch.Tensor:
    """Start offsets of the square along one axis: 0, stride, ... while < size - patch + stride."""
    if patch < 1 or stride < 1:
        raise ValueError(f"patch and stride must be at least 1 pixel, got patch={patch}, stride={stride}.")
    if patch > size:
        raise ValueError(f"The patch ({patch} px) is larger than the image ({size} px); use a smaller patch.")
    return torch.arange(math.ceil((size - patch) / stride) + 1) * stride


def occlusion_centres(size: int, stride: int) -> torch.Tensor:
    """The middle pixel of each block of ``stride`` pixels along one axis: ``ceil(size / stride)`` centres."""
    if stride < 1:
        raise ValueError(f"stride must be at least 1 pixel, got stride={stride}.")
    starts = torch.arange(0, size, stride)
    lengths = (size - starts).clamp(max=stride)
    return starts + (lengths - 1) // 2


def square_starts(size: int, patch: int, stride: int, placement: str = "grid") -> torch.Tensor:
    """First row (column) of each square along one axis; ``"centred"`` starts may be < 0 (the square is clipped)."""
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}.")
    if placement == "grid":
        return occlusion_positions(size, patch, stride)
    if patch < 1:
        raise ValueError(f"patch must be at least 1 pixel, got patch={patch}.")
    return occlusion_centres(size, stride) - (patch - 1) // 2


def _intervals(starts: torch.Tensor, patch: int, size: int) -> torch.Tensor:
    """(N, size) booleans, row k True on [starts[k], starts[k] + patch)."""
    pixels = torch.arange(size, device=starts.device)
    return (pixels >= starts[:, None]) & (pixels < starts[:, None] + patch)


def _window_masks(tops: torch.Tensor, lefts: torch.Tensor, patch: int, height: int, width: int) -> torch.Tensor:
    """(N, H, W) booleans, True inside the square whose top-left corner is (tops[k], lefts[k])."""
    return _intervals(tops, patch, height)[:, :, None] & _intervals(lefts, patch, width)[:, None, :]


@reference
def occlusion_scores(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    patch: int = 32,
    stride: int = 16,
    baseline: float | torch.Tensor = 0.0,
    score: str = "probability",
    placement: str = "grid",
    batch_size: int | None = None,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The target's score with the square at each position: ((B, nH, nW), (B,) unoccluded).

    ``inputs`` are preprocessed (B, 3, H, W) (or one (3, H, W) image); ``targets`` one class
    per image (default: the predicted class); ``baseline`` is the value put in the square,
    in preprocessed units (a number, or a tensor broadcastable to (3, H, W)); ``score`` is
    ``"probability"`` (softmax) or ``"logit"``; ``placement`` is ``"grid"`` (top-left corners
    0, stride, ..., Captum's placement) or ``"centred"`` (the square centred on one pixel per
    stride x stride block, the lab deck's; the scores are then its map). The occluded copies
    of all images are run ``batch_size`` at a time (default: as many as fit in memory) on the
    model's device.
    """
    check_score(score)
    device = model_device(model)
    inputs = as_batch(inputs).to(device)
    n_images, _channels, height, width = inputs.shape
    tops = square_starts(height, patch, stride, placement).to(device)
    lefts = square_starts(width, patch, stride, placement).to(device)
    baseline = torch.as_tensor(baseline, dtype=inputs.dtype, device=device)
    if baseline.ndim > 3 or not _broadcastable(baseline.shape, inputs.shape[1:]):
        raise ValueError(
            f"baseline of shape {tuple(baseline.shape)} does not broadcast to an image of shape "
            f"{tuple(inputs.shape[1:])}; give a number or a (3, 1, 1) or (3, H, W) tensor."
        )
    grid_tops = tops.repeat_interleave(len(lefts))
    grid_lefts = lefts.repeat(len(tops))
    n_windows = len(grid_tops)
    with model_guard(model):
        with torch.no_grad():
            outputs = model(inputs)
        targets = targets_from_outputs(outputs, targets)
        full = select_score(outputs, targets, score)
        batch_size = chosen_batch_size(batch_size, model, inputs[:1], limit=n_images * n_windows)
        scores = torch.empty(n_images * n_windows, dtype=full.dtype, device=device)
        starts = range(0, n_images * n_windows, batch_size)
        for start in tqdm(starts, desc="occlusion", disable=not progress, leave=False):
            index = torch.arange(start, min(start + batch_size, n_images * n_windows), device=device)
            image, window = index // n_windows, index % n_windows
            masks = _window_masks(grid_tops[window], grid_lefts[window], patch, height, width)
            occluded = torch.where(masks[:, None], baseline, inputs[image])
            with torch.no_grad():
                scores[index] = select_score(model(occluded), targets[image], score)
    return scores.view(n_images, len(tops), len(lefts)), full


def _broadcastable(shape: torch.Size, to: torch.Size) -> bool:
    try:
        torch.broadcast_shapes(shape, to)
    except RuntimeError:
        return False
    return torch.broadcast_shapes(shape, to) == to


@reference
def scores_to_pixels(
    scores: torch.Tensor,
    full: torch.Tensor,
    patch: int,
    stride: int,
    size: tuple[int, int],
    placement: str = "grid",
) -> torch.Tensor:
    """Per-pixel attribution (B, H, W) from the drops ``full - scores``.

    ``"grid"``: the mean drop over the squares covering each pixel; ``"centred"``: the drop of
    the square centred on the centre of the pixel's stride x stride block.
    """
    height, width = size
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}.")
    if placement == "centred":
        rows = torch.arange(height, device=scores.device) // stride
        cols = torch.arange(width, device=scores.device) // stride
        return (full[:, None, None] - scores)[:, rows][:, :, cols]
    rows = _intervals(occlusion_positions(height, patch, stride).to(scores.device), patch, height)
    cols = _intervals(occlusion_positions(width, patch, stride).to(scores.device), patch, width)
    rows, cols = rows.to(scores.dtype), cols.to(scores.dtype)
    drops = full[:, None, None] - scores
    total = torch.einsum("ih,bij,jw->bhw", rows, drops, cols)
    return total / (rows.sum(0)[:, None] * cols.sum(0)[None, :])


@reference
def occlusion(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    patch: int = 32,
    stride: int = 16,
    baseline: float | torch.Tensor = 0.0,
    score: str = "probability",
    placement: str = "grid",
    batch_size: int | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Occlusion attribution maps (B, H, W): the score drop when each pixel is hidden.

    Same arguments as :func:`occlusion_scores`; with ``placement="grid"`` equal to Captum's
    ``Occlusion`` (one channel of it: the square covers all three channels, so they are equal).
    """
    scores, full = occlusion_scores(
        model,
        inputs,
        targets,
        patch=patch,
        stride=stride,
        baseline=baseline,
        score=score,
        placement=placement,
        batch_size=batch_size,
        progress=progress,
    )
    return scores_to_pixels(scores, full, patch, stride, tuple(inputs.shape[-2:]), placement)
