"""Two more torchvision families against the peers: DenseNet-121 (a functional ReLU in its forward) and
MobileNet-V3-Small (Hardswish, squeeze-excitation, an MLP head). Random weights, 32 px, two images."""

from __future__ import annotations

import pytest
import torch
from captum.attr import GuidedBackprop, InputXGradient, Saliency

from labkit.attribution import (
    cam,
    deconvnet,
    deeplift,
    grad_cam,
    grad_cam_pp,
    gradient_x_input,
    guided_backprop,
    layer_cam,
    saliency,
    xgrad_cam,
)
from labkit.guards import hook_count

from .conftest import close, targets_of
from .test_cam import LIBRARY, library_maps, normalised
from .test_functional_activations import DenseNetWithModuleReLU

FAMILIES = ("densenet121", "mobilenet_v3")
#: A block at stride 16 of each: 4 x 4 feature maps at 64 px (the last blocks are 1 x 1 at 32 px, where
#: every CAM is a constant).
LAYERS = {"densenet121": "features.denseblock3", "mobilenet_v3": "features.8"}


@pytest.fixture
def small_inputs() -> torch.Tensor:
    return torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))


@pytest.mark.parametrize("name", FAMILIES)
def test_gradients_equal_captum(name, request, small_inputs):
    model = request.getfixturevalue(name)
    targets = targets_of(model, small_inputs)
    theirs = Saliency(model).attribute(small_inputs, targets, abs=False)
    close(saliency(model, small_inputs, targets, reduce="none"), theirs)
    theirs = InputXGradient(model).attribute(small_inputs, targets)
    close(gradient_x_input(model, small_inputs, targets, reduce="none"), theirs)


@pytest.mark.parametrize("method", [grad_cam, grad_cam_pp, xgrad_cam, layer_cam], ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", FAMILIES)
def test_cam_family_equals_pytorch_grad_cam(name, method, request, small_inputs):
    model = request.getfixturevalue(name)
    x = small_inputs.repeat(1, 1, 2, 2)  # 64 x 64
    targets = targets_of(model, x)
    ours = method(model, x, targets, layer=LAYERS[name])
    assert float(ours.amax()) > 0
    theirs = library_maps(LIBRARY[method], model, LAYERS[name], x, targets)
    close(normalised(ours), theirs, rtol=1e-3, atol=1e-3)


def test_densenet_guided_backprop_is_captums_on_the_module_rewrite(densenet121, small_inputs):
    """Captum cannot see DenseNet's F.relu (it back-propagates the plain gradient there); written as a
    module, Captum applies the rule, and labkit on the original DenseNet gives the same maps."""
    targets = targets_of(densenet121, small_inputs)
    rewritten = DenseNetWithModuleReLU(densenet121).eval()
    theirs = GuidedBackprop(rewritten).attribute(small_inputs, target=targets)
    close(guided_backprop(densenet121, small_inputs, targets, reduce="none"), theirs)


@pytest.mark.parametrize("method", [guided_backprop, deconvnet, deeplift], ids=lambda m: m.__name__)
def test_hardswish_gets_a_clear_error_and_nothing_is_left(method, mobilenet_v3, small_inputs):
    with pytest.raises(ValueError, match="Hardswish"):
        method(mobilenet_v3, small_inputs)
    assert hook_count(mobilenet_v3) == 0
    assert not mobilenet_v3.training


def test_cam_refuses_an_mlp_head(mobilenet_v3, small_inputs):
    with pytest.raises(ValueError, match="global-average-pooling \\+ linear head"):
        cam(mobilenet_v3, small_inputs, layer="features.12")
