"""Checks behind lab 7's autograded exercises (DeepLIFT's rescale rule, by hand and with references).

Each ``check_*`` runs the student's function on inputs the notebook never shows (random
tensors, small random MLPs and CNNs), with the labkit references forbidden, and compares
with labkit's DeepLIFT. The cases include the boundary sizes (a 0-dimensional tensor, one hidden unit and one
class, a one-pixel image, one reference) and, for DeepLIFT-SHAP, a model with batch norm and dropout handed over
in train mode, whose mode the answer must leave as found.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labkit.attribution.deeplift import deeplift, deeplift_shap, rescale_multiplier
from labkit.checks.common import assert_close, assert_mode_kept, call_student, modes
from labkit.toy_models import toy_classifier, toy_mode_classifier

FORBIDDEN = (deeplift, deeplift_shap, rescale_multiplier)


def check_rescale_multiplier(student: Callable) -> None:
    """``student(x, x_ref, y, y_ref, grad)`` -> the rescale multiplier, elementwise, any shape."""
    cases = [(7,), (2, 5), (2, 3, 4, 4), (), (1,)]  # the last two: a 0-d tensor, and x == x_ref everywhere
    activations = [torch.relu, nn.functional.relu6, torch.tanh, torch.relu, nn.functional.relu6]
    for seed, (shape, function) in enumerate(zip(cases, activations)):
        generator = torch.Generator().manual_seed(800 + seed)
        x = torch.randn(shape, generator=generator) * 3
        share = 1.0 if shape == (1,) else 0.3
        x_ref = torch.where(torch.rand(shape, generator=generator) < share, x, torch.randn(shape, generator=generator))
        leaf = x.clone().requires_grad_()
        (grad,) = torch.autograd.grad(function(leaf).sum(), leaf)
        args = (x, x_ref, function(x), function(x_ref), grad)
        expected = rescale_multiplier(*args)
        got = call_student(student, args, FORBIDDEN)
        assert isinstance(got, torch.Tensor) and not bool(torch.isnan(got).any()), (
            "rescale_multiplier returned NaN (or not a tensor): where x == x_ref the secant 0/0 is undefined; "
            "use the gradient there (torch.where)."
        )
        assert_close(
            got,
            expected,
            f"rescale_multiplier for a tensor of shape {shape} ({function.__name__})",
            "m = (y - y_ref) / (x - x_ref) where x differs from x_ref, and m = grad (the derivative) where "
            "they are equal.",
        )


def _mlp_case(seed: int, n_in: int, n_hidden: int, n_out: int) -> tuple[nn.Sequential, torch.Tensor, torch.Tensor]:
    """A random MLP (linear, ReLU, linear), an input and a reference; the last input equals its reference.

    For seed 0, hidden unit 0 gets z == z_ref exactly although its inputs differ (1.5 + 0.25 = 0.5 + 1.25):
    the 0/0 case where the rescale rule falls back to the derivative.
    """
    torch.manual_seed(900 + seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out)).eval()
    generator = torch.Generator().manual_seed(950 + seed)
    x, x_ref = torch.randn(n_in, generator=generator), torch.randn(n_in, generator=generator) / 2
    x_ref[-1] = x[-1]
    if seed == 0:
        x[:2], x_ref[:2] = torch.tensor([1.5, 0.25]), torch.tensor([0.5, 1.25])
        with torch.no_grad():
            model[1].weight[0] = 0
            model[1].weight[0, :2] = 1
            model[1].bias[0] = 0.5
    return model, x, x_ref


def check_deeplift_two_layer(student: Callable) -> None:
    """``student(W1, b1, W2, b2, x, x_ref, target)`` -> (n_in,) DeepLIFT contributions of the MLP."""
    for seed, (n_in, n_hidden, n_out) in enumerate([(6, 4, 3), (12, 7, 2), (15, 9, 5), (1, 1, 1)]):
        width = -(-n_in // 3)  # labkit's DeepLIFT takes 3-channel images: pad the inputs with zeros to 3 * width
        model, x, x_ref = _mlp_case(seed, 3 * width, n_hidden, n_out)
        with torch.no_grad():
            model[1].weight[:, n_in:] = 0
        x[n_in:], x_ref[n_in:] = 0, 0
        target = (seed + 1) % n_out
        as_image = (1, 3, 1, width)
        expected = deeplift(model, x.view(as_image), target, baseline=x_ref.view(as_image), reduce="none")
        weights = (model[1].weight[:, :n_in], model[1].bias, model[3].weight, model[3].bias)
        arguments = (*(w.detach().clone() for w in weights), x[:n_in].clone(), x_ref[:n_in].clone(), target)
        got = call_student(student, arguments, FORBIDDEN)
        assert_close(
            got,
            expected.reshape(-1)[:n_in],
            f"deeplift_two_layer with {n_in} inputs, {n_hidden} hidden units, target {target}",
            "Multiply (x - x_ref) by W1^T (m * W2[target]), with m the rescale multiplier of each hidden ReLU "
            "computed from its pre-activations z = W1 x + b1 and z_ref = W1 x_ref + b1 (the derivative "
            "1[z > 0] where z == z_ref, never NaN).",
        )


def check_deeplift_shap_from(student: Callable) -> None:
    """``student(model, x, references, target)`` -> (3, H, W) DeepLIFT averaged over the references; the model's
    mode left as found."""
    cases = [(6, 6, 3, False), (5, 8, 1, False), (7, 5, 4, False), (1, 1, 2, False), (5, 6, 3, True)]
    for seed, (height, width, n_references, train_mode) in enumerate(cases):
        model = toy_mode_classifier(20 + seed) if train_mode else toy_classifier(20 + seed)
        before = modes(model)
        generator = torch.Generator().manual_seed(1000 + seed)
        x = torch.randn(3, height, width, generator=generator)
        references = torch.randn(n_references, 3, height, width, generator=generator)
        target = seed % 4
        expected = deeplift_shap(model, x[None], target, references=references, reduce="none")[0]
        got = call_student(student, (model, x, references, target), (deeplift_shap,))
        mode = " (a model in train mode, with batch norm and dropout)" if train_mode else ""
        what = f"deeplift_shap_from with {n_references} references of shape (3, {height}, {width}), target {target}"
        assert_mode_kept(model, before, what + mode)
        assert_close(
            got,
            expected,
            what + mode,
            "Run DeepLIFT of x against each reference separately (reduce='none') and take the mean over the "
            "references (not the sum, and not one DeepLIFT against the mean reference).",
            atol=1e-4,
        )
