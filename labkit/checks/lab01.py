"""Checks behind lab 1's autograded exercises (occlusion, maximally activating patches).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the
labkit reference forbidden inside the call, and compares with the reference. A failure
raises AssertionError with a message that says what differs and what usually causes it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.attribution.occlusion import occlusion, occlusion_scores, scores_to_pixels
from labkit.checks.common import assert_close, call_student
from labkit.patches import strongest_units
from labkit.toy_models import toy_classifier

#: (height, width, patch, stride): squares that fit exactly, ones clipped at the border, non-square and odd
#: sizes, a square as wide as the image (one column of positions) and a one-pixel square.
OCCLUSION_CASES = [(12, 12, 4, 4), (19, 23, 5, 4), (16, 21, 7, 3), (13, 10, 10, 6), (7, 5, 1, 1)]


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


def check_strongest_units(student: Callable) -> None:
    """``student(maps (N, h, w), k)`` -> (k, 3) long tensor of (image, row, col)."""
    for seed, (n, height, width, k) in enumerate(
        [(6, 5, 5, 3), (10, 4, 7, 10), (8, 6, 3, 1), (5, 3, 3, 8), (4, 1, 1, 2)]
    ):
        maps = torch.randn(n, height, width, generator=torch.Generator().manual_seed(200 + seed))
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
            "sort the images by that maximum, largest first, and give (image, row, col)."
        )
