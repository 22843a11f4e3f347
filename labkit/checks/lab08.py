"""Checks behind lab 8's autograded exercises (the interpretable gradient loss).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the
labkit references forbidden inside the call, and compares with the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labkit.checks.common import assert_close, call_student
from labkit.interpretable.errors import cosine_error, histogram_intersection_error, mae_error, mse_error
from labkit.interpretable.gradients import gradient_pair
from labkit.interpretable.loss import interpretable_gradient_loss, interpretable_loss
from labkit.toy_models import toy_classifier

ERROR_REFERENCES = (mae_error, mse_error, cosine_error, histogram_intersection_error)
#: (batch shape, seed): gradients of images, of images with one channel, and of plain vectors.
SHAPES = [((3, 3, 5, 4), 0), ((2, 1, 6, 6), 1), ((4, 7), 2)]


def _gradients(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(300 + seed)
    delta = torch.randn(shape, generator=generator, dtype=torch.float64)
    target = torch.randn(shape, generator=generator, dtype=torch.float64).clamp_min(0) * 0.5 + 0.3 * delta
    return delta, target


def _check_error(student: Callable, reference: Callable, what: str, hint: str) -> None:
    for shape, seed in SHAPES:
        delta, target = _gradients(shape, seed)
        got = call_student(student, (delta, target), ERROR_REFERENCES)
        assert_close(got, reference(delta, target), f"{what} for gradients of shape {shape}", hint, atol=1e-9)
    delta, _ = _gradients((2, 3, 4, 4), 9)
    got = call_student(student, (delta, 2.5 * delta), ERROR_REFERENCES)
    assert_close(got, torch.zeros(2, dtype=torch.float64), f"{what} of a gradient and 2.5 times itself", hint, 1e-9)


def check_cosine_error(student: Callable) -> None:
    """``student(delta, target)`` -> (B,) 1 - cos per image."""
    _check_error(
        student,
        cosine_error,
        "cosine_error",
        "The error is 1 - cos (0 for gradients pointing the same way), computed per image over ALL its "
        "elements (flatten each image: channels and pixels), one value per image, shape (B,).",
    )


def check_histogram_intersection_error(student: Callable) -> None:
    """``student(delta, target)`` -> (B,) 1 - sum min(p, q), p and q the normalised |gradients|."""
    _check_error(
        student,
        histogram_intersection_error,
        "histogram_intersection_error",
        "Take absolute values, normalise each image's |gradient| by its own sum (its L1 norm) so it sums "
        "to 1, then 1 - sum of the element-wise minimum, per image, shape (B,).",
    )


def check_interpretable_loss(student: Callable) -> None:
    """``student(model, images, targets, guided, error, lam)`` -> the scalar loss, differentiable in the weights."""
    forbidden = (interpretable_loss, interpretable_gradient_loss, gradient_pair)  # the error is given: allowed
    for seed, (error, lam, batch) in enumerate([(cosine_error, 0.7, 3), (mse_error, 5.0, 4), (mae_error, 2.0, 2)]):
        model = toy_classifier(500 + seed, classes=5).double()
        generator = torch.Generator().manual_seed(500 + seed)
        images = torch.randn(batch, 3, 9, 9, generator=generator, dtype=torch.float64)
        targets = torch.randint(0, 5, (batch,), generator=generator)
        guided = gradient_pair(model, images, targets).guided.requires_grad_()
        expected = interpretable_loss(model, images, targets, guided, error, lam)
        expected_grads = torch.autograd.grad(expected, list(model.parameters()))
        what = f"interpretable_loss with {error.__name__}, lambda {lam}, a batch of {batch}"
        got = call_student(student, (model, images, targets, guided, error, lam), forbidden)
        assert isinstance(got, torch.Tensor) and got.ndim == 0, f"{what}: return the loss as a scalar tensor."
        assert_close(
            got,
            expected.detach(),
            what,
            "L = cross-entropy (mean over the batch) + lam * the MEAN over the images of error(delta_i, delta'_i), "
            "delta = the gradient of each image's target logit w.r.t. its input.",
            atol=1e-9,
        )
        assert got.requires_grad, f"{what}: the loss must stay in the graph (no .item(), no torch.no_grad())."
        got.backward()
        assert guided.grad is None, (
            f"{what}: gradient flowed into the guided gradient delta'. It is a fixed target: use guided.detach()."
        )
        for (name, parameter), expected_grad in zip(model.named_parameters(), expected_grads):
            assert parameter.grad is not None, f"{what}: the loss does not depend on {name}."
            assert_close(
                parameter.grad,
                expected_grad,
                f"{what}: the gradient of the loss w.r.t. {name}",
                "The error term must reach the weights: compute delta with torch.autograd.grad(..., "
                "create_graph=True) (double backpropagation), from the same forward pass as the logits.",
                atol=1e-8,
            )
