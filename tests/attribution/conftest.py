"""Shared fixtures: three random-weight architectures and small inputs (CPU, seconds)."""

from __future__ import annotations

import pytest
import timm
import torch
import torchvision
from torch import nn

from labkit.toy_models import tiny_batchnorm_cnn

SIZE = 96


def _seeded(build, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build().eval()


@pytest.fixture(scope="session")
def efficientnet() -> nn.Module:
    """The default model's architecture (ReLU6, timm), random weights."""
    return _seeded(lambda: timm.create_model("tf_efficientnet_lite0", pretrained=False))


@pytest.fixture(scope="session")
def resnet18() -> nn.Module:
    """torchvision ResNet-18: one in-place ReLU module reused within each block."""
    return _seeded(lambda: torchvision.models.resnet18(weights=None))


@pytest.fixture(scope="session")
def vgg11() -> nn.Module:
    """torchvision VGG-11: in-place ReLUs, non-overlapping max pooling, no GAP head."""
    return _seeded(lambda: torchvision.models.vgg11(weights=None))


@pytest.fixture(scope="session")
def densenet121() -> nn.Module:
    """torchvision DenseNet-121: ``F.relu(features, inplace=True)`` in its forward, invisible to module hooks."""
    return _seeded(lambda: torchvision.models.densenet121(weights=None))


@pytest.fixture(scope="session")
def mobilenet_v3() -> nn.Module:
    """torchvision MobileNet-V3-Small: Hardswish activations, squeeze-excitation blocks, an MLP head.

    With random weights its class scores barely depend on the features (CAMs of ~1e-11), below
    pytorch-grad-cam's 1e-7 normalisation epsilon; the last layer is scaled by 1e8 so they do not."""
    model = _seeded(lambda: torchvision.models.mobilenet_v3_small(weights=None))
    with torch.no_grad():
        model.classifier[-1].weight.mul_(1e8)
    return model


ARCHITECTURES = ("efficientnet", "resnet18", "vgg11")
#: Their default CAM layers (labkit's Classifier.cam_layer for the trained versions).
CAM_LAYERS = {"efficientnet": "bn2", "resnet18": "layer4", "vgg11": "features.19"}


@pytest.fixture(params=ARCHITECTURES)
def arch(request: pytest.FixtureRequest) -> tuple[str, nn.Module]:
    """(name, model) for each of the three architectures."""
    return request.param, request.getfixturevalue(request.param)


@pytest.fixture
def inputs() -> torch.Tensor:
    """Two preprocessed random images (2, 3, 96, 96)."""
    generator = torch.Generator().manual_seed(1)
    return torch.randn(2, 3, SIZE, SIZE, generator=generator)


def targets_of(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Explicit targets: the second most probable class, so the default is not what is tested."""
    with torch.no_grad():
        return model(inputs).topk(2, dim=1).indices[:, 1]


def close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Equal to float tolerance, relative to the size of the expected values."""
    actual = actual.detach()
    expected = torch.as_tensor(expected, dtype=actual.dtype).detach()
    scale = float(expected.abs().max()) + 1e-12
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol * scale)


@pytest.fixture(scope="session")
def tiny() -> nn.Module:
    """A small ReLU CNN with a GAP + linear head, for the slow per-channel loops (layer "4", 16 channels)."""
    return tiny_batchnorm_cnn()
