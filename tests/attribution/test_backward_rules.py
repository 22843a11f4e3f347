"""Guided backpropagation, deconvnet and Guided Grad-CAM against Captum and the rule table."""

from __future__ import annotations

import copy

import pytest
import torch
from captum.attr import Deconvolution, GuidedBackprop, GuidedGradCam
from torch import nn

from labkit.attribution import deconvnet, grad_cam, guided_backprop, guided_grad_cam, saliency

from .conftest import close, targets_of


@pytest.mark.parametrize(("method", "peer"), [(guided_backprop, GuidedBackprop), (deconvnet, Deconvolution)])
@pytest.mark.parametrize("name", ["vgg11", "resnet18"])
def test_equals_captum_on_relu_networks(method, peer, name, request, inputs):
    model = request.getfixturevalue(name)
    x = inputs[:, :, :64, :64]
    targets = targets_of(model, x)
    theirs = peer(model).attribute(x, target=targets)
    close(method(model, x, targets, reduce="none"), theirs)


class _SlowGuided(torch.autograd.Function):
    """The rule table written out per activation: forward min(max(x, lo), hi), backward ReLU(g) 1[lo < x < hi]."""

    @staticmethod
    def forward(ctx, x, low, high, deconv):
        ctx.save_for_backward(x)
        ctx.low, ctx.high, ctx.deconv = low, high, deconv
        return x.clamp(low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        rule = grad.clamp(min=0)
        if not ctx.deconv:
            rule = rule * ((x > ctx.low) & (x < ctx.high))
        return rule, None, None, None


class _SlowActivation(nn.Module):
    def __init__(self, high: float, deconv: bool) -> None:
        super().__init__()
        self.high, self.deconv = high, deconv

    def forward(self, x):
        return _SlowGuided.apply(x, 0.0, self.high, self.deconv)


def _replace_activations(model: nn.Module, deconv: bool) -> nn.Module:
    copied = copy.deepcopy(model)
    for module in list(copied.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.ReLU6):
                setattr(module, name, _SlowActivation(6.0, deconv))
            elif isinstance(child, nn.ReLU):
                setattr(module, name, _SlowActivation(float("inf"), deconv))
    return copied


@pytest.mark.parametrize("deconv", [False, True])
def test_relu6_rule_equals_the_table_written_out(efficientnet, inputs, deconv):
    """EfficientNet-Lite0 has 33 in-place ReLU6 modules; Captum has no rule for them."""
    x = inputs[:, :, :64, :64]
    targets = targets_of(efficientnet, x)
    slow = _replace_activations(efficientnet, deconv)
    leaf = x.clone().requires_grad_()
    expected = torch.autograd.grad(slow(leaf).gather(1, targets[:, None]).sum(), leaf)[0]
    method = deconvnet if deconv else guided_backprop
    close(method(efficientnet, x, targets, reduce="none"), expected)


def test_reused_relu_gets_the_rule_at_every_use(resnet18, inputs):
    """ResNet's blocks call one ReLU module twice; compare with a copy where every use is a module of its own."""
    x = inputs[:, :, :64, :64]
    targets = targets_of(resnet18, x)
    slow = _replace_activations(resnet18, deconv=False)
    leaf = x.clone().requires_grad_()
    expected = torch.autograd.grad(slow(leaf).gather(1, targets[:, None]).sum(), leaf)[0]
    close(guided_backprop(resnet18, x, targets, reduce="none"), expected)


def test_without_relu_guided_backprop_is_the_gradient(inputs):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(5)).eval()
    x = inputs[:, :, :16, :16]
    model(x)
    close(guided_backprop(model, x, reduce="none"), saliency(model, x, reduce="none"))


def test_unsupported_activation_is_refused(inputs):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    with pytest.raises(ValueError, match="GELU"):
        guided_backprop(model, inputs)


def test_guided_grad_cam_equals_captum(vgg11, inputs):
    x = inputs[:, :, :64, :64]
    targets = targets_of(vgg11, x)
    layer = vgg11.features[19]
    theirs = GuidedGradCam(vgg11, layer).attribute(x, target=targets, interpolate_mode="bilinear")
    close(guided_grad_cam(vgg11, x, targets, layer=layer, reduce="none"), theirs)


def test_guided_grad_cam_is_guided_backprop_times_grad_cam(efficientnet, inputs):
    x = inputs[:, :, :64, :64]
    expected = guided_backprop(efficientnet, x, reduce="none") * grad_cam(efficientnet, x)[:, None]
    close(guided_grad_cam(efficientnet, x, reduce="sum"), expected.sum(dim=1))
