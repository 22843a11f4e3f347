"""Checks behind lab 8's autograded exercises (the interpretable gradient loss).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the
labkit references forbidden inside the call, and compares with the reference. Besides ordinary
batches they cover boundary sizes (a batch of one image, one-pixel gradients, a zero gradient for
the cosine's guard) and, for the loss, models with batch normalisation and dropout in training and
in evaluation mode: the loss must use the model in the mode it is given (one forward pass, the same
dropout mask for the cross-entropy and for delta) and leave that mode as it found it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labkit.checks.common import assert_close, call_student
from labkit.interpretable.errors import cosine_error, histogram_intersection_error, mae_error, mse_error
from labkit.interpretable.gradients import gradient_pair
from labkit.interpretable.loss import interpretable_gradient_loss, interpretable_loss
from labkit.toy_models import toy_classifier, toy_cnn

ERROR_REFERENCES = (mae_error, mse_error, cosine_error, histogram_intersection_error)
#: (batch shape, seed): gradients of images, of images with one channel, of plain vectors, and a batch of one
#: one-pixel image (an answer that squeezes the batch axis away returns a scalar there).
SHAPES = [((3, 3, 5, 4), 0), ((2, 1, 6, 6), 1), ((4, 7), 2), ((1, 3, 1, 1), 3)]


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
    """``student(delta, target)`` -> (B,) 1 - cos per image; a zero gradient gives 1 (the guarded division)."""
    hint = (
        "The error is 1 - cos (0 for gradients pointing the same way), computed per image over ALL its "
        "elements (flatten each image: channels and pixels), one value per image, shape (B,)."
    )
    _check_error(student, cosine_error, "cosine_error", hint)
    delta, _ = _gradients((2, 3, 4, 4), 11)
    target = torch.zeros_like(delta)
    got = call_student(student, (delta, target), ERROR_REFERENCES)
    assert_close(
        got,
        cosine_error(delta, target),
        "cosine_error against an all-zero gradient (a dead network)",
        "Guard the division: divide by (||delta|| * ||delta'||).clamp_min(1e-12), so the error is 1, not NaN.",
        atol=1e-9,
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


def dropout_batchnorm_classifier(seed: int, classes: int, training: bool) -> nn.Sequential:
    """A toy CNN with batch normalisation after its first convolution and dropout (p = 0.3) before its
    linear head, in float64, in training mode (``training``) or evaluation mode: the two layers whose
    output depends on the mode."""
    layers = list(toy_cnn(seed, classes=classes, inplace=(False, False), norm_after=0))
    model = nn.Sequential(*layers[:-1], nn.Dropout(0.3), layers[-1]).double()
    return model.train(training)


def _modes(model: nn.Module) -> list[bool]:
    return [module.training for module in model.modules()]


#: (model kind, error, lambda, batch size): toy models without mode-dependent layers, a batch of one, and
#: models with batch norm and dropout in training mode (as during training) and in evaluation mode.
LOSS_CASES = [
    ("plain", cosine_error, 0.7, 3),
    ("plain", mse_error, 5.0, 4),
    ("plain", mae_error, 2.0, 2),
    ("plain", cosine_error, 1.5, 1),
    ("train", cosine_error, 2.0, 4),
    ("train", mse_error, 3.0, 3),
    ("eval", cosine_error, 0.5, 3),
]


def check_interpretable_loss(student: Callable) -> None:
    """``student(model, images, targets, guided, error, lam)`` -> the scalar loss, differentiable in the weights,
    from one forward pass in the model's own mode, which is left as found."""
    forbidden = (interpretable_loss, interpretable_gradient_loss, gradient_pair)  # the error is given: allowed
    for seed, (kind, error, lam, batch) in enumerate(LOSS_CASES):
        if kind == "plain":
            model = toy_classifier(500 + seed, classes=5).double()
        else:
            model = dropout_batchnorm_classifier(500 + seed, 5, training=kind == "train")
        generator = torch.Generator().manual_seed(500 + seed)
        images = torch.randn(batch, 3, 9, 9, generator=generator, dtype=torch.float64)
        targets = torch.randint(0, 5, (batch,), generator=generator)
        guided = torch.randn(images.shape, generator=generator, dtype=torch.float64).requires_grad_()
        modes, state = _modes(model), {k: v.clone() for k, v in model.state_dict().items()}
        torch.manual_seed(seed)  # the same dropout mask for the reference and the answer
        expected = interpretable_loss(model, images, targets, guided, error, lam)
        expected_grads = torch.autograd.grad(expected, list(model.parameters()))
        model.load_state_dict(state)  # batch norm's running statistics as they were before the reference's pass
        mode = {"plain": "", "train": " (training mode: batch norm, dropout)", "eval": " (evaluation mode)"}[kind]
        what = f"interpretable_loss with {error.__name__}, lambda {lam}, a batch of {batch}{mode}"
        torch.manual_seed(seed)
        got = call_student(student, (model, images, targets, guided, error, lam), forbidden)
        assert _modes(model) == modes, (
            f"{what}: your function changed the model's mode (model.train() / model.eval()). Use the model as it "
            "is given and leave it so: in training it is in training mode."
        )
        assert isinstance(got, torch.Tensor) and got.ndim == 0, f"{what}: return the loss as a scalar tensor."
        assert_close(
            got,
            expected.detach(),
            what,
            "L = cross-entropy (mean over the batch) + lam * the MEAN over the images of error(delta_i, delta'_i), "
            "delta = the gradient of each image's target logit w.r.t. its input, both from ONE forward pass of "
            "the model in the mode it is given (batch norm and dropout act as in that pass).",
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
