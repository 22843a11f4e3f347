"""Checks behind lab 7's autograded exercises (DeepLIFT's rescale rule, by hand and with references).

Each ``check_*`` runs the student's function on inputs the notebook never shows (random
tensors, small random MLPs and CNNs), with the labkit references forbidden, and compares
with labkit's DeepLIFT.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labkit.attribution.deeplift import deeplift, deeplift_shap, rescale_multiplier
from labkit.checks.common import assert_close, call_student
from labkit.toy_models import toy_classifier

FORBIDDEN = (deeplift, deeplift_shap, rescale_multiplier)


def check_rescale_multiplier(student: Callable) -> None:
    """``student(x, x_ref, y, y_ref, grad)`` -> the rescale multiplier, elementwise, any shape."""
    activations = [torch.relu, nn.functional.relu6, torch.tanh]
    for seed, shape in enumerate([(7,), (2, 5), (2, 3, 4, 4)]):
        generator = torch.Generator().manual_seed(800 + seed)
        x = torch.randn(shape, generator=generator) * 3
        x_ref = torch.where(torch.rand(shape, generator=generator) < 0.3, x, torch.randn(shape, generator=generator))
        function = activations[seed]
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
    for seed, (n_in, n_hidden, n_out) in enumerate([(6, 4, 3), (12, 7, 2), (15, 9, 5)]):
        model, x, x_ref = _mlp_case(seed, n_in, n_hidden, n_out)
        target = (seed + 1) % n_out
        as_image = (1, 3, 1, n_in // 3)
        expected = deeplift(model, x.view(as_image), target, baseline=x_ref.view(as_image), reduce="none")
        weights = (model[1].weight.detach(), model[1].bias.detach(), model[3].weight.detach(), model[3].bias.detach())
        got = call_student(student, (*weights, x, x_ref, target), FORBIDDEN)
        assert_close(
            got,
            expected.reshape(-1),
            f"deeplift_two_layer with {n_in} inputs, {n_hidden} hidden units, target {target}",
            "Multiply (x - x_ref) by W1^T (m * W2[target]), with m the rescale multiplier of each hidden ReLU "
            "computed from its pre-activations z = W1 x + b1 and z_ref = W1 x_ref + b1 (the derivative "
            "1[z > 0] where z == z_ref, never NaN).",
        )


def check_deeplift_shap_from(student: Callable) -> None:
    """``student(model, x, references, target)`` -> (3, H, W) DeepLIFT averaged over the references."""
    for seed, (height, width, n_references) in enumerate([(6, 6, 3), (5, 8, 1), (7, 5, 4)]):
        model = toy_classifier(20 + seed)
        generator = torch.Generator().manual_seed(1000 + seed)
        x = torch.randn(3, height, width, generator=generator)
        references = torch.randn(n_references, 3, height, width, generator=generator)
        target = seed % 4
        expected = deeplift_shap(model, x[None], target, references=references, reduce="none")[0]
        got = call_student(student, (model, x, references, target), (deeplift_shap,))
        assert_close(
            got,
            expected,
            f"deeplift_shap_from with {n_references} references of shape (3, {height}, {width}), target {target}",
            "Run DeepLIFT of x against each reference separately (reduce='none') and take the mean over the "
            "references (not the sum, and not one DeepLIFT against the mean reference).",
            atol=1e-4,
        )
