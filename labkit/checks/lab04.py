"""Checks behind lab 4's autograded exercises (Grad-CAM by hand, Average Drop / Increase / Gain).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the
labkit reference forbidden inside the call, and compares with the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.attribution.cam import grad_cam, upsample_maps
from labkit.checks.common import assert_close, call_student, check_eval_mode_kept
from labkit.guards import hook_count
from labkit.metrics.confidence import confidence_metrics
from labkit.toy_models import toy_cam_classifier

#: (batch, height, width, layer index): the maps of layer [3] are 4x smaller (rounded up), so they must be
#: upsampled; layer [1] is an inner layer (2x smaller), where the gradient differs from position to position
#: (on layer [3], before GAP + linear, it is constant: an answer built on that fails there).
#: The last case gives 1 x 1 maps on layer [3] (a 3 x 2 image).
GRAD_CAM_CASES = [(2, 20, 20, 3), (3, 19, 23, 3), (1, 16, 12, 3), (3, 11, 14, 1), (2, 5, 3, 3), (2, 3, 2, 3)]


def check_grad_cam(student: Callable) -> None:
    """``student(model, layer, x (B, 3, H, W), target (B,))`` -> (B, H, W) Grad-CAM maps."""
    for seed, (batch, height, width, layer_index) in enumerate(GRAD_CAM_CASES):
        model = toy_cam_classifier(10 + seed)
        layer = model[layer_index]
        x = torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(seed))
        target = torch.arange(batch) % 4
        expected = grad_cam(model, x, target, layer=layer)
        got = call_student(student, (model, layer, x, target), (grad_cam, upsample_maps))
        assert hook_count(model) == 0, (
            "Your function left a hook on the model: remove it (handle.remove()), also when an exception "
            "is raised (try/finally)."
        )
        assert_close(
            got,
            expected,
            f"grad_cam for {batch} image(s) of {height}x{width}, layer [{layer_index}]",
            "alpha_k is the MEAN over positions of the gradient dS/dA_k (not of the activations, not a sum); "
            "the map is ReLU(sum_k alpha_k A_k), upsampled bilinearly (align_corners=False) to the input size. "
            "Each image uses its own target class.",
        )
    x = torch.randn(2, 3, 9, 7, generator=torch.Generator().manual_seed(20))
    target = torch.tensor([3, 1])
    check_eval_mode_kept(
        lambda model: call_student(student, (model, model[4], x, target), (grad_cam, upsample_maps)),
        lambda model: grad_cam(model, x, target, layer=model[4]),
        "grad_cam",
        assert_close,
    )


def check_confidence_metrics(student: Callable) -> None:
    """``student(y (N,), o (N,))`` -> {"AD": ..., "AI": ..., "AG": ...} in percent."""
    for seed, n in enumerate([7, 20, 3, 1, 6]):
        generator = torch.Generator().manual_seed(300 + seed)
        y = torch.rand(n, generator=generator) * 0.9 + 0.05
        o = torch.rand(n, generator=generator)
        if seed == 4:  # ties: O == Y counts neither as a drop, a gain nor an increase
            o[::2] = y[::2]
        expected = confidence_metrics(y, o)
        got = call_student(student, (y, o), (confidence_metrics,))
        assert isinstance(got, dict) and set(got) >= {"AD", "AI", "AG"}, (
            f"confidence_metrics should return a dict with keys 'AD', 'AI', 'AG', got {got!r}."
        )
        for key, hint in [
            ("AD", "AD = mean of max(0, Y - O) / Y, times 100: only drops count, each relative to its Y."),
            ("AI", "AI = percentage of images where O > Y (strictly)."),
            ("AG", "AG = mean of max(0, O - Y) / (1 - Y), times 100: gains relative to what was left to gain."),
        ]:
            assert_close(
                torch.tensor(float(got[key])), torch.tensor(expected[key]), f"{key} for {n} images", hint, 1e-3
            )
