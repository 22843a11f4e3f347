"""Checks behind lab 3's autograded exercises (CAM: the weighted sum, the score identity, upsampling).

Each ``check_*`` runs the student's function on feature maps of toy GAP + linear classifiers and on
random maps the notebook never shows, with labkit's references forbidden inside the call.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.attribution.cam.base import upsample_maps, weighted_maps
from labkit.attribution.cam.cam import cam
from labkit.attribution.cam.identity import scores_from_cam
from labkit.attribution.cam.learned_head import fit_gap_head
from labkit.checks.common import assert_close, call_student
from labkit.toy_models import toy_classifier

FORBIDDEN = (cam, weighted_maps, upsample_maps, scores_from_cam, fit_gap_head)

#: (batch, height, width, classes, seed) of the toy cases: a batch of 1, non-square and odd sizes, and one-pixel
#: feature maps.
CASES = [(1, 6, 6, 4, 0), (3, 5, 7, 6, 1), (2, 9, 4, 5, 2), (2, 1, 1, 3, 3)]


def _features(batch: int, height: int, width: int, classes: int, seed: int):
    """(model, inputs, features before the GAP (B, 8, h, w), targets (B,)).

    The targets are all different (an answer that uses one image's class for the batch fails) and
    chosen to avoid the predicted classes as far as possible.
    """
    model = toy_classifier(seed, classes)
    x = torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(400 + seed))
    with torch.no_grad():
        features = model[:4](x)
        predicted = model(x).argmax(dim=1)
    candidates = [(torch.arange(batch) + offset) % classes for offset in range(classes)]
    targets = min(candidates, key=lambda t: int((t == predicted).sum()))
    return model, x, features, targets


def check_class_activation_map(student: Callable) -> None:
    """``student(features (B, K, h, w), weights (C, K), targets (B,))`` -> raw CAM maps (B, h, w)."""
    for case in CASES:
        model, x, features, targets = _features(*case)
        expected = cam(model, x, targets, layer="3", relu=False, upsample=False)
        weights = model[-1].weight.detach()
        got = call_student(student, (features, weights, targets), FORBIDDEN)
        assert_close(
            got,
            expected,
            f"class_activation_map for {len(x)} image(s), {weights.shape[1]} channels, {weights.shape[0]} classes",
            "M_c = sum_k W[c, k] A_k: the ROW of the weight matrix of each image's GIVEN target (not the predicted "
            "class; weights has shape (classes, channels)), summed over the channels, with no ReLU.",
        )


def check_cam_score(student: Callable) -> None:
    """``student(maps (B, h, w), bias (B,))`` -> (B,) scores mean_ij M + b."""
    for seed, (batch, height, width) in enumerate([(1, 3, 3), (4, 5, 2), (2, 7, 7), (3, 1, 1)]):
        generator = torch.Generator().manual_seed(500 + seed)
        maps = torch.randn(batch, height, width, generator=generator)
        bias = torch.randn(batch, generator=generator)
        expected = scores_from_cam(maps, bias)
        got = call_student(student, (maps, bias), FORBIDDEN)
        assert_close(
            got,
            expected,
            f"cam_score for {batch} map(s) of {height}x{width}",
            "S_c = (1/Z) sum_ij M_c,ij + b_c with Z = h * w (the MEAN over the positions of each map, not the sum), "
            "on the raw map (no ReLU: negative evidence counts), plus that map's bias.",
        )
    model, x, _, targets = _features(*CASES[1])
    maps = cam(model, x, targets, layer="3", relu=False, upsample=False)
    with torch.no_grad():
        logits = model(x).gather(1, targets[:, None])[:, 0]
    got = call_student(student, (maps, model[-1].bias.detach()[targets]), FORBIDDEN)
    assert_close(got, logits, "cam_score on a toy GAP + linear model", "The identity must give back the logits.")


def check_upsample_cam(student: Callable) -> None:
    """``student(maps (B, h, w), size)`` -> (B, *size): ReLU, then bilinear upsampling (half-pixel centres)."""
    hint = (
        "ReLU first (keep the positive evidence), then bilinear interpolation with align_corners=False "
        "(F.interpolate on a (B, 1, h, w) tensor) to the image size; no normalisation."
    )
    # square, non-integer factors, the map's own size, a one-pixel map, a smaller size, and a 1 x 1 size
    cases = [
        (1, 3, 3, (12, 12)),
        (3, 4, 6, (17, 23)),
        (2, 7, 5, (7, 5)),
        (2, 1, 1, (5, 4)),
        (1, 5, 3, (9, 16)),
        (2, 8, 6, (3, 5)),
        (1, 4, 4, (1, 1)),
    ]
    for seed, (batch, height, width, size) in enumerate(cases):
        maps = torch.randn(batch, height, width, generator=torch.Generator().manual_seed(600 + seed))
        expected = upsample_maps(maps.clamp(min=0), size)
        got = call_student(student, (maps, size), FORBIDDEN)
        assert_close(got, expected, f"upsample_cam of {batch} map(s) of {height}x{width} to {size}", hint)
    model, x, _, targets = _features(*CASES[2])
    raw = cam(model, x, targets, layer="3", relu=False, upsample=False)
    expected = cam(model, x, targets, layer="3")
    got = call_student(student, (raw, tuple(x.shape[-2:])), FORBIDDEN)
    assert_close(got, expected, "upsample_cam of a toy model's CAM, compared with labkit.attribution.cam", hint)


#: (images, channels, classes, steps, lr): one image, one channel, classes with no image (labels < 3), and no step.
HEAD_CASES = [(12, 5, 3, 25, 0.3), (1, 4, 4, 3, 1.0), (9, 1, 2, 10, 0.7), (10, 6, 5, 15, 0.5), (4, 3, 3, 0, 0.5)]


def check_train_head(student: Callable) -> None:
    """``student(pooled (N, K), labels (N,), n_classes, steps, lr)`` -> (weights (C, K), bias (C,))."""
    for seed, (n, k, classes, steps, lr) in enumerate(HEAD_CASES):
        generator = torch.Generator().manual_seed(700 + seed)
        pooled = 3 * torch.rand(n, k, generator=generator)  # non-negative, like the GAP of ReLU6 maps
        labels = torch.randint(0, min(classes, 3), (n,), generator=generator)
        expected_weights, expected_bias = fit_gap_head(pooled, labels, classes, steps=steps, lr=lr)
        got = call_student(student, (pooled, labels, classes, steps, lr), FORBIDDEN)
        assert isinstance(got, tuple) and len(got) == 2, (
            f"train_head should return a pair (weights, bias), got {type(got).__name__}."
        )
        what = f"train_head on {n} image(s), {k} channel(s), {classes} classes, {steps} steps of lr {lr}"
        hint = (
            "Start from W = 0 (n_classes x K) and b = 0 (n_classes,), even for classes with no image; each step "
            "subtracts lr times the gradient of the MEAN cross-entropy over the images (not the sum), for W and b."
        )
        assert_close(got[0], expected_weights, f"{what}: weights", hint)
        assert_close(got[1], expected_bias, f"{what}: bias", hint)
