"""Checks behind lab 9's autograded exercises (GAD: artificial targets, GAD's mask, RS).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the
labkit reference forbidden inside the call, and compares with the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.checks.common import assert_close, call_student
from labkit.gad.maps import gad_mask
from labkit.gad.targets import artificial_targets
from labkit.metrics.hull import important_pixels, sensitivity_ratio
from labkit.toy_models import toy_classifier

#: (n samples, n outputs, class_a, class_b, alpha): two-output models, a four-output one, a batch of one.
TARGET_CASES = [(10, 2, 0, 1, 3.0), (7, 2, 1, 0, 0.5), (12, 4, 2, 0, 8.0), (1, 2, 1, 0, 2.0)]
#: (n maps, batch, height, width, fraction): fractions of a whole number of pixels, then the boundaries of the
#: size k = max(1, round(fraction * H * W)): a fraction that rounds to 0 pixels (k = 1, not 0), one that rounds
#: up to 1 (0.6 pixel: truncation keeps 0), 1.8 -> 2 (truncation: 1), 3.2 -> 3 (rounding up: 4), one-pixel maps,
#: batches of one. No product is a half, so rounding half up or to even agree.
MASK_CASES = [
    (5, 2, 4, 5, 0.5),
    (3, 1, 6, 5, 0.2),
    (2, 3, 2, 5, 0.3),
    (4, 2, 3, 3, 1.0),
    (3, 2, 5, 5, 0.01),
    (2, 2, 3, 4, 0.05),
    (3, 1, 2, 3, 0.3),
    (2, 3, 4, 4, 0.2),
    (3, 1, 1, 1, 0.3),
    (5, 2, 1, 1, 1.0),
]
#: (batch, height, width, one-pixel masks): sensitivity cases, with a batch of one and masks of a single pixel.
RS_CASES = [(4, 8, 8, False), (3, 6, 9, False), (5, 7, 5, False), (1, 6, 7, False), (3, 5, 6, True), (2, 1, 1, True)]


def check_artificial_targets(student: Callable) -> None:
    """``student(logits (N, K), labels (N,), class_a, class_b, alpha)`` -> (N, K) targets."""
    for seed, (n, k, class_a, class_b, alpha) in enumerate(TARGET_CASES):
        generator = torch.Generator().manual_seed(900 + seed)
        logits = 3 * torch.randn(n, k, generator=generator)
        labels = torch.randint(k, (n,), generator=generator)
        labels[:2] = torch.tensor([class_a, class_b])[:n]  # both classes present (the first one for n = 1)
        expected = artificial_targets(logits, labels, class_a, class_b, alpha)
        got = call_student(student, (logits, labels, class_a, class_b, alpha), (artificial_targets,))
        assert_close(
            got,
            expected,
            f"artificial_targets with {k} outputs, class_a={class_a}, class_b={class_b}, alpha={alpha}",
            "For samples of class_a SUBTRACT alpha from the logit of class_b (the other class), for samples of "
            "class_b from the logit of class_a; every other value stays the original logit.",
        )


def check_gad_mask(student: Callable) -> None:
    """``student(maps (M, B, H, W), fraction)`` -> (B, H, W) bool: top ``fraction`` pixels in every map."""
    for seed, (m, b, h, w, fraction) in enumerate(MASK_CASES):
        generator = torch.Generator().manual_seed(950 + seed)
        # models that mostly agree (a shared map plus a smaller one of their own), so the intersection is not empty
        maps = torch.rand(1, b, h, w, generator=generator) + 0.1 * torch.rand(m, b, h, w, generator=generator)
        expected = gad_mask(maps, fraction)
        got = call_student(student, (maps, fraction), (gad_mask, important_pixels))
        assert isinstance(got, torch.Tensor), f"gad_mask should return a tensor, got {type(got).__name__}."
        assert got.shape == expected.shape, (
            f"gad_mask on maps of shape {tuple(maps.shape)} should return shape {tuple(expected.shape)} "
            f"(one mask per image), got {tuple(got.shape)}."
        )
        wrong = int((got.bool() != expected).sum())
        assert wrong == 0, (
            f"gad_mask({m} maps of {b} images {h}x{w}, fraction={fraction}) differs from the reference at "
            f"{wrong} pixels. In each map keep the k = max(1, round(fraction * H * W)) LARGEST values of each image "
            "(at least one pixel, also when fraction * H * W is below 1; round, do not truncate or round up), then "
            "keep the pixels kept in ALL the maps (an intersection, not a union)."
        )


def check_sensitivity_ratio(student: Callable) -> None:
    """``student(model, x (B, 3, H, W), masks (B, H, W), outputs (B,))`` -> RS (B,)."""
    for seed, (b, h, w, one_pixel) in enumerate(RS_CASES):
        model = toy_classifier(60 + seed, classes=2)
        with torch.no_grad():
            model[-1].weight.mul_(100)  # outputs of a few units, so that the usual mistakes are far off
        generator = torch.Generator().manual_seed(970 + seed)
        x = torch.randn(b, 3, h, w, generator=generator)
        if one_pixel:
            masks = torch.zeros(b, h * w, dtype=torch.bool)
            masks[torch.arange(b), torch.randint(h * w, (b,), generator=generator)] = True
            masks = masks.view(b, h, w)
        else:
            masks = torch.rand(b, h, w, generator=generator) < 0.4
            masks[:, 0, 0] = True  # no empty mask
        outputs = torch.randint(2, (b,), generator=generator)
        expected = sensitivity_ratio(model, x, masks, outputs)
        got = call_student(student, (model, x, masks, outputs), (sensitivity_ratio,))
        assert_close(
            got,
            expected,
            f"sensitivity_ratio on {b} image(s) {h}x{w}" + (" with one-pixel masks" if one_pixel else ""),
            "RS = |N_a(x) - N_a(x * (1 - M))| / sum(M): the raw output (logit) a, the ABSOLUTE change, the masked "
            "pixels set to 0 in EVERY channel (the hull is occluded, the rest kept), divided by the number of pixels "
            "in that image's own mask; one value per image, shape (B,) also for a batch of one.",
        )
