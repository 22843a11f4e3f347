"""torchvision's ResNet-18 and MobileNet-V2 adapted to small (32 x 32 or 64 x 64) inputs.

ImageNet models divide the resolution by 32; on a 32 px image that leaves nothing. The
adaptation only changes the stem, as is usual for CIFAR: ResNet-18's 7x7 stride-2
convolution becomes a 3x3 stride-1 one (the max-pool is kept); MobileNet-V2's second
block (its first stride-2 depthwise convolution) gets stride 1. Both then divide the
resolution by 16 (2 x 2 features at the last layer of a 32 px input, 4 x 4 one stage
earlier, which is the default layer for Grad-CAM).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


def small_resnet18(n_classes: int) -> nn.Module:
    """ResNet-18 (He et al., 2016) with a 3x3 stride-1 stem for small images."""
    import torchvision

    model = torchvision.models.resnet18(weights=None, num_classes=n_classes)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    return model


def small_mobilenet_v2(n_classes: int) -> nn.Module:
    """MobileNet-V2 (Sandler et al., 2018) whose second block keeps the resolution, for small images."""
    import torchvision

    model = torchvision.models.mobilenet_v2(weights=None, num_classes=n_classes)
    model.features[2].conv[1][0].stride = (1, 1)
    return model


#: architecture name -> (builder, layer Grad-CAM uses by default: the last one at 4 x 4 on 32 px)
ARCHITECTURES: dict[str, tuple[Callable[[int], nn.Module], str]] = {
    "resnet18": (small_resnet18, "layer3"),
    "mobilenet_v2": (small_mobilenet_v2, "features.13"),
}
