"""Checks behind lab 1's autograded exercises (occlusion, maximally activating patches).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the
labkit reference forbidden inside the call, and compares with the reference. A failure
raises AssertionError with a message that says what differs and what usually causes it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.attribution.occlusion import occlusion, occlusion_scores, scores_to_pixels
from labkit.checks.common import assert_close, call_student, check_eval_mode_kept, check_raises
from labkit.patches import strongest_units
from labkit.toy_models import toy_classifier

#: (height, width, patch, stride): squares that fit exactly, ones clipped at the border, non-square and odd
#: sizes, a square as wide as the image (one column of positions), a one-pixel square, a square as large as
#: the whole image (one position), a one-pixel image, and a stride that divides neither side.
OCCLUSION_CASES = [
    (12, 12, 4, 4),
    (19, 23, 5, 4),
    (16, 21, 7, 3),
    (13, 10, 10, 6),
    (7, 5, 1, 1),
    (6, 9, 6, 2),
    (1, 1, 1, 1),
    (17, 11, 6, 5),
]

#: (height, width, patch): a patch larger than the image along one axis or both.
TOO_LARGE = [(8, 12, 9), (12, 8, 9), (5, 5, 6)]


def check_occlusion_probabilities(student: Callable) -> None:
    """``student(model, x, target, patch, stride)`` -> (nH, nW) probabilities of ``target``."""
    for seed, (height, width, patch, stride) in enumerate(OCCLUSION_CASES):
        model = toy_classifier(seed)
        x = torch.randn(3, height, width, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            predicted = int(model(x[None]).argmax())
        target = (predicted + 1 + seed) % 4  # never the predicted class: the target is given
        expected = occlusion_scores(model, x[None], target, patch=patch, stride=stride)[0][0]
        got = call_student(student, (model, x, target, patch, stride), (occlusion, occlusion_scores))
        assert_close(
            got,
            expected,
            f"occlusion_probabilities for a {height}x{width} image, patch {patch}, stride {stride}",
            "Squares start at 0, stride, 2*stride, ... and the last one must reach the last row and column "
            "(it may stick out of the image). The square is set to 0 (gray after preprocessing) in all "
            "channels, and the score is the softmax probability of the target class.",
        )
    x = torch.randn(3, 10, 9, generator=torch.Generator().manual_seed(7))
    check_eval_mode_kept(
        lambda model: call_student(student, (model, x, 2, 4, 3), (occlusion, occlusion_scores)),
        lambda model: occlusion_scores(model, x[None], 2, patch=4, stride=3)[0][0],
        "occlusion_probabilities",
        assert_close,
    )
    for height, width, patch in TOO_LARGE:
        model, x = toy_classifier(0), torch.randn(3, height, width)
        check_raises(
            student,
            (model, x, 0, patch, 2),
            (occlusion, occlusion_scores),
            ValueError,
            f"occlusion_probabilities for a {height}x{width} image and patch {patch}: the patch is larger than the "
            "image (do not clip the square to the whole image)",
        )


def check_occlusion_map(student: Callable) -> None:
    """``student(probabilities, p_full, patch, stride, (H, W))`` -> (H, W) mean probability drop."""
    for seed, (height, width, patch, stride) in enumerate(OCCLUSION_CASES):
        generator = torch.Generator().manual_seed(100 + seed)
        rows = len(range(0, height - patch + stride, stride))
        cols = len(range(0, width - patch + stride, stride))
        probabilities = torch.rand(rows, cols, generator=generator)
        p_full = float(torch.rand(1, generator=generator))
        expected = scores_to_pixels(probabilities[None], torch.tensor([p_full]), patch, stride, (height, width))[0]
        got = call_student(
            student, (probabilities, p_full, patch, stride, (height, width)), (scores_to_pixels, occlusion)
        )
        assert_close(
            got,
            expected,
            f"occlusion_map for a {height}x{width} image, patch {patch}, stride {stride}",
            "Each pixel gets the drop p_full - p (positive when hiding it hurts the class), averaged over "
            "all the squares that cover it, including the last, clipped ones at the border.",
        )
    for height, width, patch in TOO_LARGE:
        check_raises(
            student,
            (torch.rand(1, 1), 0.5, patch, 2, (height, width)),
            (scores_to_pixels, occlusion),
            ValueError,
            f"occlusion_map for a {height}x{width} image and patch {patch}: the patch is larger than the image",
        )


def check_strongest_units(student: Callable) -> None:
    """``student(maps (N, h, w), k)`` -> (k, 3) long tensor of (image, row, col)."""
    cases = [(6, 5, 5, 3), (10, 4, 7, 10), (8, 6, 3, 1), (5, 3, 3, 8), (4, 1, 1, 2), (1, 2, 3, 4), (9, 2, 3, 6)]
    for seed, (n, height, width, k) in enumerate(cases):
        generator = torch.Generator().manual_seed(200 + seed)
        maps = torch.randn(n, height, width, generator=generator)
        if seed >= 5:  # small integers: equal maxima within and between images (ties)
            maps = torch.randint(0, 3, (n, height, width), generator=generator).float()
        expected = strongest_units(maps, k)
        got = call_student(student, (maps, k), (strongest_units,))
        got = torch.as_tensor(got)
        assert got.shape == expected.shape, (
            f"strongest_units(maps of shape {tuple(maps.shape)}, k={k}) should have shape "
            f"{tuple(expected.shape)} (one row per image, at most N rows), got {tuple(got.shape)}."
        )
        assert torch.equal(got.long(), expected), (
            f"strongest_units(maps of shape {tuple(maps.shape)}, k={k}) returned {got.tolist()}, "
            f"expected {expected.tolist()}. Keep each image's single strongest unit (its maximum), "
            "sort the images by that maximum, largest first, and give (image, row, col). Ties: the first "
            "maximum in raster order within an image; the smaller image index first between images."
        )
