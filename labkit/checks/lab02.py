"""Checks behind lab 2's autograded exercises (saliency, gradient x input, SmoothGrad).

Each ``check_*`` runs the student's function on toy classifiers and random inputs the notebook
never shows, with labkit's reference forbidden inside the call, and compares with the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.attribution.gradients import gradient_x_input, saliency, smoothgrad
from labkit.checks.common import assert_close, call_student, check_eval_mode_kept
from labkit.toy_models import toy_classifier

#: (batch, height, width, seed) of the random inputs: a batch of 1, square, non-square and odd sizes, and
#: one-pixel images.
GRADIENT_CASES = [(1, 9, 11, 0), (3, 12, 12, 1), (2, 7, 13, 2), (2, 1, 1, 3)]


def _case(batch: int, height: int, width: int, seed: int) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A toy model, inputs (B, 3, H, W) with a different range per image, and targets (B,) all different.

    Different targets catch an answer that uses one image's class for the whole batch; they are
    not all the predicted classes.
    """
    generator = torch.Generator().manual_seed(300 + seed)
    scales = 0.5 + 2 * torch.rand(batch, 1, 1, 1, generator=generator)
    x = torch.randn(batch, 3, height, width, generator=generator) * scales
    targets = torch.randperm(4, generator=generator)[:batch]
    return toy_classifier(seed), x, targets


def _tolerance(expected: torch.Tensor) -> float:
    return 1e-5 * max(1.0, float(expected.abs().max()))


FORBIDDEN = (saliency, gradient_x_input, smoothgrad)


def _compare_on_cases(student: Callable, reference_method: Callable, name: str, hint: str) -> None:
    """``student(model, x, targets)`` against ``reference_method(model, x, targets)`` on every gradient case."""
    for batch, height, width, seed in GRADIENT_CASES:
        model, x, targets = _case(batch, height, width, seed)
        expected = reference_method(model, x, targets)
        got = call_student(student, (model, x, targets), FORBIDDEN)
        what = f"{name} for a batch of {batch} image(s) of {height}x{width}"
        assert_close(got, expected, what, hint, atol=_tolerance(expected))
    _, x, targets = _case(2, 6, 5, 4)
    check_eval_mode_kept(
        lambda model: call_student(student, (model, x, targets), FORBIDDEN),
        lambda model: reference_method(model, x, targets),
        name,
        assert_close,
    )


def check_saliency_map(student: Callable) -> None:
    """``student(model, x (B, 3, H, W), targets (B,))`` -> (B, H, W): max over RGB of |dS_c/dx|."""
    _compare_on_cases(
        student,
        saliency,
        "saliency_map",
        "Differentiate the target's LOGIT (not its softmax probability) with respect to the input, one "
        "target per image; then take the absolute value and the MAXIMUM over the 3 colour channels "
        "(not the mean or the sum).",
    )


def check_gradient_x_input_map(student: Callable) -> None:
    """``student(model, x (B, 3, H, W), targets (B,))`` -> (B, H, W): sum over RGB of x * dS_c/dx."""
    _compare_on_cases(
        student,
        gradient_x_input,
        "gradient_x_input_map",
        "Multiply the gradient of the target's logit by the input, element by element, and SUM over the "
        "colour channels; keep the sign (no absolute value).",
    )


def check_smoothgrad_map(student: Callable) -> None:
    """``student(model, x (B, 3, H, W), targets (B,), noise (B, n, 3, H, W), noise_level)`` -> (B, H, W)."""
    for (batch, height, width, seed), n_samples, level in zip(GRADIENT_CASES, (5, 3, 4, 1), (0.2, 0.1, 0.3, 0.5)):
        model, x, targets = _case(batch, height, width, seed)
        noise = torch.randn(batch * n_samples, 3, height, width, generator=torch.Generator().manual_seed(seed))
        noise = noise.reshape(batch, n_samples, 3, height, width)
        same_noise = torch.Generator().manual_seed(seed)
        expected = smoothgrad(
            model,
            x,
            targets,
            n_samples=n_samples,
            noise_level=level,
            generator=same_noise,
            batch_size=len(noise) * n_samples,
        )
        got = call_student(student, (model, x, targets, noise, level), FORBIDDEN)
        assert_close(
            got,
            expected,
            f"smoothgrad_map for {batch} image(s) of {height}x{width}, {n_samples} samples, noise level {level}",
            "Copy i of image b is x[b] + sigma_b * noise[b, i] with sigma_b = noise_level * (max(x[b]) - min(x[b])) "
            "(each image's own range). Average the GRADIENTS of the target logit over the copies, and only then "
            "take |.| and the max over the channels (the mean of saliency maps is a different map).",
            atol=_tolerance(expected),
        )
    _, x, targets = _case(2, 6, 5, 4)
    noise = torch.randn(2, 3, 3, 6, 5, generator=torch.Generator().manual_seed(5))
    check_eval_mode_kept(
        lambda model: call_student(student, (model, x, targets, noise, 0.2), FORBIDDEN),
        lambda model: smoothgrad(
            model,
            x,
            targets,
            n_samples=3,
            noise_level=0.2,
            generator=torch.Generator().manual_seed(5),
            batch_size=6,
        ),
        "smoothgrad_map",
        assert_close,
    )
