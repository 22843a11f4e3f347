"""DeepLIFT (rescale) and DeepLIFT-SHAP against Captum and summation-to-delta."""

from __future__ import annotations

import pytest
import timm
import torch
import torchvision
from captum.attr import DeepLift, DeepLiftShap
from torch import nn

from labkit.attribution import deeplift, deeplift_shap
from labkit.attribution.deeplift import maxpool_backward, rescale_backward, rescale_multiplier
from labkit.guards import hook_count

from .conftest import close, targets_of


@pytest.fixture(scope="module")
def efficientnet_relu() -> nn.Module:
    """EfficientNet-Lite0's architecture with ReLU instead of ReLU6 (Captum has no ReLU6 rule)."""
    torch.manual_seed(0)
    return timm.create_model("tf_efficientnet_lite0", pretrained=False, act_layer=nn.ReLU).eval()


@pytest.fixture(scope="module")
def vgg11_avgpool() -> nn.Module:
    """VGG-11 with average pooling: Captum's max-pooling rule breaks summation-to-delta (its delta is
    ~1e-3 of the scores on VGG-11, ours ~1e-7), so the two are compared where the rules agree."""
    torch.manual_seed(0)
    model = torchvision.models.vgg11(weights=None).eval()
    for index, module in enumerate(model.features):
        if isinstance(module, nn.MaxPool2d):
            model.features[index] = nn.AvgPool2d(2)
    return model


@pytest.mark.parametrize("name", ["vgg11_avgpool", "efficientnet_relu"])
def test_deeplift_equals_captum(name, request, inputs):
    model = request.getfixturevalue(name)
    x = inputs[:, :, :32, :32]
    targets = targets_of(model, x)
    baseline = torch.full_like(x, 0.3)
    theirs = DeepLift(model).attribute(x, baselines=baseline, target=targets)
    close(deeplift(model, x, targets, baseline=baseline, reduce="none"), theirs, rtol=1e-3)


def test_deeplift_shap_equals_captum(efficientnet_relu, inputs):
    x = inputs[:, :, :32, :32]
    references = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    targets = targets_of(efficientnet_relu, x)
    theirs = DeepLiftShap(efficientnet_relu).attribute(x, baselines=references, target=targets)
    ours = deeplift_shap(efficientnet_relu, x, targets, references=references, reduce="none", batch_size=4)
    close(ours, theirs, rtol=1e-3)


def test_summation_to_delta(arch, inputs):
    """sum_i C_i = S_c(x) - S_c(x'): ReLU6, reused in-place ReLU, overlapping max pooling included."""
    _name, model = arch
    x = inputs[:, :, :32, :32]
    _attributions, gap = deeplift(model, x, baseline=torch.full_like(x, -0.2), return_gap=True)
    with torch.no_grad():
        scale = model(x).abs().max()
    assert float(gap.abs().max()) < 1e-4 * float(scale) + 1e-5
    _, gap = deeplift_shap(model, x, references=torch.randn(2, 3, 32, 32), return_gap=True)
    assert float(gap.abs().max()) < 1e-4 * float(scale) + 1e-5


def test_clear_errors(resnet18, inputs):
    with pytest.raises(ValueError, match="references must be"):
        deeplift_shap(resnet18, inputs, references=torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="baseline of shape"):
        deeplift(resnet18, inputs, baseline=torch.zeros(3, 2, 2))
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    with pytest.raises(ValueError, match="SiLU"):
        deeplift(model, inputs)


@pytest.mark.parametrize("module", [nn.ReLU(), nn.ReLU6(), nn.Hardtanh(-1.0, 2.0)], ids=repr)
def test_fused_rescale_backward_is_the_formula(module):
    """The fused backward (no torch.where) gives g * m with m written as in the paper, including
    where x == x_ref (0/0: the derivative) and where x_ref is within EPS of x."""
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(4, 3, 5, 5, generator=generator) * 3
    x_ref = torch.randn(4, 3, 5, 5, generator=generator) * 3
    x_ref[0] = x[0]
    x_ref[1, 0] = x[1, 0] + 1e-12
    leaf = x.clone().requires_grad_()
    (derivative,) = torch.autograd.grad(module(leaf).sum(), leaf)
    grad = torch.randn(4, 3, 5, 5, generator=generator)
    fused = rescale_backward(module, x, module(x), x_ref.clone(), module(x_ref))(grad)
    expected = grad * rescale_multiplier(x, x_ref, module(x), module(x_ref), derivative)
    torch.testing.assert_close(fused, expected, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(fused[0], grad[0] * derivative[0], rtol=0, atol=0)


class _DataDependent(nn.Module):
    """A second ReLU only for inputs with a positive mean: its references take another path."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.relu, self.head = nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.conv(x))
        if bool(x.mean() > 0):
            h = self.relu(h - 0.1)
        return self.head(h.mean(dim=(2, 3)))


def test_data_dependent_forward_is_refused_and_nothing_is_left():
    model = _DataDependent().eval()
    x = torch.rand(2, 3, 8, 8) + 0.5
    with pytest.raises(RuntimeError, match="does not depend on the data"):
        deeplift(model, x, baseline=-1.0)
    assert hook_count(model) == 0
    assert model.relu.inplace is False


class _SharedActivations(nn.Module):
    """Activations whose recorded tensors are shared: two activations of one tensor, a ReLU's output
    max-pooled, and a ReLU of a parameter. The rule overwrites recorded tensors it owns only."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.pool, self.head = nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.Linear(4, 3)
        self.relu, self.relu6 = nn.ReLU(), nn.ReLU6()
        self.scale = nn.Parameter(torch.randn(4, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        pooled = self.pool(self.relu(h)) * self.relu(self.scale)
        return self.head(pooled.mean(dim=(2, 3)) + self.relu6(h).mean(dim=(2, 3)))


def test_shared_recorded_tensors_are_not_overwritten():
    torch.manual_seed(3)
    model = _SharedActivations().eval()
    scale = model.scale.detach().clone()
    x = torch.randn(2, 3, 9, 9) * 4
    _attributions, gap = deeplift(model, x, baseline=torch.randn(2, 3, 9, 9) * 4, return_gap=True)
    assert float(gap.abs().max()) < 1e-5
    assert torch.equal(model.scale.detach(), scale)


def _slow_maxpool_multipliers(x, x_ref, grad, kernel, stride):
    """Window by window: y - y' is split at h = max(y, y') into h - y' for the input's winner and
    y - h for the reference's; a position's multiplier is what it received over its own x - x',
    and the ordinary gradient where x = x'."""
    received, ordinary = torch.zeros_like(x), torch.zeros_like(x)
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            window = (slice(i * stride, i * stride + kernel), slice(j * stride, j * stride + kernel))
            values, reference_values = x[window], x_ref[window]
            winner = divmod(int(values.argmax()), kernel)
            reference_winner = divmod(int(reference_values.argmax()), kernel)
            y, y_ref = values.max(), reference_values.max()
            highest = max(y, y_ref)
            to = (i * stride + winner[0], j * stride + winner[1])
            to_ref = (i * stride + reference_winner[0], j * stride + reference_winner[1])
            received[to] += grad[i, j] * (highest - y_ref)
            received[to_ref] += grad[i, j] * (y - highest)
            ordinary[to] += grad[i, j]
    delta = x - x_ref
    return torch.where(delta == 0, ordinary, received / delta)


def test_maxpool_backward_is_the_rule_window_by_window():
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(7, 7, generator=generator)
    x_ref = torch.randn(7, 7, generator=generator)
    x_ref[:3] = x[:3]
    grad = torch.randn(3, 3, generator=generator)
    pool = nn.MaxPool2d(3, 2)
    backward = maxpool_backward(
        pool, x[None, None], pool(x[None, None]), x_ref[None, None].clone(), pool(x_ref[None, None])
    )
    torch.testing.assert_close(backward(grad[None, None])[0, 0], _slow_maxpool_multipliers(x, x_ref, grad, 3, 2))
