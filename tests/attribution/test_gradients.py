"""Saliency, gradient x input and SmoothGrad against Captum and analytic cases."""

from __future__ import annotations

import pytest
import torch
from captum.attr import InputXGradient, NoiseTunnel, Saliency
from torch import nn

from labkit.attribution import gradient_x_input, saliency, smoothgrad

from .conftest import close, targets_of


def test_saliency_equals_captum(arch, inputs):
    _name, model = arch
    targets = targets_of(model, inputs)
    theirs = Saliency(model).attribute(inputs, target=targets, abs=False)
    close(saliency(model, inputs, targets, reduce="none"), theirs)
    close(saliency(model, inputs, targets), theirs.abs().amax(dim=1))
    signed = saliency(model, inputs, targets, reduce="signed")
    close(signed.abs(), theirs.abs().amax(dim=1))
    assert bool((signed * theirs.sum(dim=1) != 0).any())  # the sign is kept, not all positive


def test_gradient_x_input_equals_captum(arch, inputs):
    _name, model = arch
    targets = targets_of(model, inputs)
    theirs = InputXGradient(model).attribute(inputs, target=targets)
    close(gradient_x_input(model, inputs, targets), theirs.sum(dim=1))


def test_saliency_of_a_linear_model_is_its_weights(inputs):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 5)).eval()
    x = inputs[:, :, :8, :8]
    grads = saliency(model, x, [3, 1], reduce="none")
    close(grads, model[1].weight[[3, 1]].view(2, 3, 8, 8))


def test_smoothgrad_equals_captum_noise_tunnel(resnet18, inputs):
    """Same seed, same noise: images rescaled to the same range so sigma is one number for Captum."""
    x = inputs[:, :, :64, :64]
    x = (
        2
        * (x - x.amin(dim=(1, 2, 3), keepdim=True))
        / (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True))
        - 1
    )
    targets = targets_of(resnet18, x)
    torch.manual_seed(5)
    theirs = NoiseTunnel(Saliency(resnet18)).attribute(
        x, nt_type="smoothgrad", nt_samples=6, stdevs=0.2 * 2.0, target=targets, abs=False
    )
    torch.manual_seed(5)
    ours = smoothgrad(resnet18, x, targets, n_samples=6, noise_level=0.2, reduce="none", batch_size=12)
    close(ours, theirs, rtol=1e-3)


def test_smoothgrad_batches_do_not_change_the_result(tiny, inputs):
    x = inputs[:, :, :32, :32]
    one = smoothgrad(tiny, x, n_samples=4, generator=torch.Generator().manual_seed(0), batch_size=8)
    many = smoothgrad(tiny, x, n_samples=4, generator=torch.Generator().manual_seed(0), batch_size=3)
    close(one, many, rtol=1e-3)


def test_smoothgrad_without_noise_is_the_gradient(efficientnet, inputs):
    x = inputs[:, :, :32, :32]
    close(smoothgrad(efficientnet, x, n_samples=2, noise_level=0.0), saliency(efficientnet, x))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"noise_level": -1.0}, "noise_level"),
        ({"noise_level": float("nan")}, "noise_level"),
        ({"reduce": "mean"}, "reduce"),
    ],
)
def test_smoothgrad_clear_errors(resnet18, inputs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        smoothgrad(resnet18, inputs, **kwargs)


def test_saliency_rejects_bad_inputs(resnet18):
    with pytest.raises((ValueError, TypeError)):
        saliency(resnet18, torch.zeros(2, 64, 64))
