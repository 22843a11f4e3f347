"""Activations called as functions in a forward (``F.relu``, ``torch.relu_``, ``F.relu6``, ...) get the same
backward rules as the modules: each toy network is compared with its twin written with modules."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from labkit.attribution import deconvnet, deeplift, guided_backprop, saliency
from labkit.guards import hook_count
from labkit.interpretable.gradients import gradient_pair

from .conftest import close

#: name -> (the activation as a function, the module that computes the same)
ACTIVATIONS = {
    "F.relu": (F.relu, nn.ReLU),
    "F.relu(inplace=True)": (lambda x: F.relu(x, inplace=True), nn.ReLU),
    "torch.relu": (torch.relu, nn.ReLU),
    "torch.relu_": (torch.relu_, nn.ReLU),
    "Tensor.relu": (torch.Tensor.relu, nn.ReLU),
    "Tensor.relu_": (torch.Tensor.relu_, nn.ReLU),
    "F.relu6": (F.relu6, nn.ReLU6),
    "F.hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.5), lambda: nn.Hardtanh(-0.5, 0.5)),
    "F.hardtanh_": (lambda x: F.hardtanh_(x, -0.5, 0.5), lambda: nn.Hardtanh(-0.5, 0.5)),
}


class Toy(nn.Module):
    """conv - activation - pool - conv - activation - GAP - linear; ``activation`` and ``pool`` are
    modules or plain functions (the same weights for every seed, whichever they are)."""

    def __init__(self, activation, pool=None, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.head = nn.Linear(16, 5)
        self.activation = activation
        self.pool = pool if pool is not None else nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.activation(self.conv1(x)))
        return self.head(self.activation(self.conv2(x)).mean(dim=(2, 3)))


def _inputs(seed: int = 1) -> torch.Tensor:
    return torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("method", [guided_backprop, deconvnet, deeplift], ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_functional_activation_gets_the_modules_rule(name, method):
    function, module = ACTIVATIONS[name]
    x, targets = _inputs(), torch.tensor([0, 3, 4])
    ours = method(Toy(function).eval(), x, targets, reduce="none")
    close(ours, method(Toy(module()).eval(), x, targets, reduce="none"))
    if method is not deeplift:  # the rule really acts: not the plain gradient
        assert not torch.allclose(ours, saliency(Toy(module()).eval(), x, targets, reduce="none"), atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", ["F.relu", "torch.relu_", "F.relu6", "F.hardtanh"])
def test_deeplift_keeps_summation_to_delta_with_functional_activations(name, seed):
    model = Toy(ACTIVATIONS[name][0], pool=lambda x: F.max_pool2d(x, 3, 2, 1), seed=seed).eval()
    x = _inputs(seed)
    _maps, gap = deeplift(model, x, baseline=torch.full_like(x, 0.2), return_gap=True)
    with torch.no_grad():
        scale = model(x).abs().max()
    assert float(gap.abs().max()) < 1e-5 * float(scale) + 1e-6


def test_functional_max_pooling_gets_deeplifts_rule():
    x = _inputs()
    functional = Toy(nn.ReLU(), pool=lambda x: F.max_pool2d(x, 3, 2, 1)).eval()
    modules = Toy(nn.ReLU(), pool=nn.MaxPool2d(3, 2, 1)).eval()
    close(deeplift(functional, x, reduce="none"), deeplift(modules, x, reduce="none"))
    with pytest.raises(ValueError, match="max pooling that returns its indices"):
        deeplift(Toy(nn.ReLU(), pool=lambda x: F.max_pool2d(x, 2, return_indices=True)[0]).eval(), x)


def test_interpretable_guided_gradient_sees_functional_relus():
    x, targets = _inputs(), torch.tensor([0, 3, 4])
    functional = gradient_pair(Toy(F.relu).eval(), x, targets, create_graph=False)
    modules = gradient_pair(Toy(nn.ReLU()).eval(), x, targets, create_graph=False)
    close(functional.guided, modules.guided)
    close(functional.standard, modules.standard)


@pytest.mark.parametrize(("function", "name"), [(F.gelu, "F.gelu"), (torch.sigmoid, "sigmoid"), (F.silu, "F.silu")])
@pytest.mark.parametrize("method", [guided_backprop, deconvnet, deeplift], ids=lambda m: m.__name__)
def test_functional_activation_without_a_rule_is_refused_by_name(function, name, method):
    model = Toy(function).train()
    with pytest.raises(ValueError, match=name):
        method(model, _inputs())
    assert hook_count(model) == 0
    assert model.training
    assert all(p.requires_grad for p in model.parameters())


def test_calls_outside_the_forward_pass_are_left_alone():
    """Only the model's forward is watched: a ReLU the caller applies to the logits is ordinary autograd."""
    model = Toy(F.relu).eval()
    x = _inputs()
    wrapped = nn.Sequential(model)  # a forward pass inside the watched one, then a ReLU of the caller's own
    close(guided_backprop(model, x, reduce="none"), guided_backprop(wrapped, x, reduce="none"))


class DenseNetWithModuleReLU(nn.Module):
    """torchvision DenseNet's forward with its functional final ReLU written as a module (the slow rewrite)."""

    def __init__(self, densenet: nn.Module) -> None:
        super().__init__()
        self.densenet = densenet
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.relu(self.densenet.features(x))
        return self.densenet.classifier(F.adaptive_avg_pool2d(features, 1).flatten(1))


def test_densenet_guided_backprop_equals_the_module_rewrite(densenet121):
    x = _inputs()[:2].repeat(1, 1, 2, 2)  # 32 x 32
    rewritten = DenseNetWithModuleReLU(densenet121).eval()
    for method in (guided_backprop, deconvnet):
        close(method(densenet121, x, reduce="none"), method(rewritten, x, reduce="none"))


def test_densenet_deeplift_summation_to_delta(densenet121):
    x = _inputs()[:2].repeat(1, 1, 2, 2)
    _maps, gap = deeplift(densenet121, x, return_gap=True)
    with torch.no_grad():
        scale = densenet121(x).abs().max()
    assert float(gap.abs().max()) < 1e-4 * float(scale) + 1e-6
