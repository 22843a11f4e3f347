"""Integrated Gradients against Captum, a slow per-step loop and its completeness property."""

from __future__ import annotations

import pytest
import torch
from captum.attr import IntegratedGradients

from labkit.attribution import integrated_gradients
from labkit.attribution.integrated_gradients import RULES, path_nodes

from .conftest import close, targets_of


@pytest.mark.parametrize("method", RULES)
def test_equals_captum(resnet18, inputs, method):
    """Captum's trapezoid rule weighs the nodes by 1/n (its weights sum to (n - 1)/n); ours by
    1/(n - 1), the trapezoid rule on [0, 1], so ours = Captum's * n / (n - 1) there."""
    x = inputs[:, :, :32, :32]
    targets = targets_of(resnet18, x)
    baseline = torch.full_like(x, -0.5)
    theirs, delta = IntegratedGradients(resnet18).attribute(
        x, baselines=baseline, target=targets, n_steps=8, method=method, return_convergence_delta=True
    )
    ours, gap = integrated_gradients(
        resnet18, x, targets, baseline=baseline, n_steps=8, method=method, reduce="none", return_gap=True, batch_size=5
    )
    if method == "riemann_trapezoid":
        theirs = theirs * 8 / 7
    else:
        close(gap, delta.float(), rtol=1e-2, atol=1e-2)
    close(ours, theirs, rtol=1e-3)


def test_equals_a_slow_loop_over_steps(efficientnet, inputs):
    x = inputs[:1, :, :32, :32]
    target = int(targets_of(efficientnet, x)[0])
    alphas, weights = path_nodes(6, "riemann_middle")
    total = torch.zeros_like(x)
    for alpha, weight in zip(alphas.tolist(), weights.tolist()):
        point = (alpha * x).requires_grad_()
        total += weight * torch.autograd.grad(efficientnet(point)[0, target], point)[0]
    expected = (x * total).sum(dim=1)
    close(integrated_gradients(efficientnet, x, target, n_steps=6, method="riemann_middle"), expected, rtol=1e-3)


def test_completeness_gap_shrinks_with_n_steps(tiny, inputs):
    x = inputs[:1, :, :32, :32] * 3
    gaps = [
        integrated_gradients(tiny, x, 0, n_steps=n, method="riemann_trapezoid", return_gap=True)[1].abs().item()
        for n in (2, 8, 64)
    ]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 0.05 * gaps[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 1, "method": "riemann_trapezoid"}, "n_steps"),
        ({"method": "simpson"}, "method must be one of"),
        ({"baseline": torch.zeros(3, 5, 5)}, "baseline of shape"),
        ({"baseline": torch.zeros(4, 3, 96, 96)}, "baseline of shape"),
    ],
)
def test_clear_errors(resnet18, inputs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        integrated_gradients(resnet18, inputs, **kwargs)
