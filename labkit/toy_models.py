"""Tiny seeded CNNs for the labs' checks and the tests (in the spirit of Captum's ``basic_models``).

Every model here is one family, built by :func:`toy_cnn`:

    conv -> [norm] -> ReLU -> conv -> [norm] -> ReLU -> global average pooling -> flatten -> linear

with random weights drawn right after ``torch.manual_seed(seed)``, so a builder and a seed always
give the same weights (checks and tests compare against numbers made with them). The named
builders below are the architectures the checks and tests rely on; their layer indices
(``model[3]``, layer ``"4"``) are part of what those rely on, so each keeps its own layout.
"""

from __future__ import annotations

import torch
from torch import nn


def toy_cnn(
    seed: int = 0,
    *,
    channels: tuple[int, int] = (6, 8),
    classes: int = 4,
    stride: int = 1,
    inplace: tuple[bool, bool] = (True, True),
    norm_after: int | None = None,
    norm: bool = True,
) -> nn.Sequential:
    """Two 3x3 convolutions (``channels`` out, ``stride``, padding 1), each followed by a ReLU
    (in place per ``inplace``), then a GAP + linear head with ``classes`` outputs; in train mode.

    ``norm_after`` (0 or 1) puts a BatchNorm2d right after that convolution (``norm=False``: an
    ``nn.Identity`` in its place, so the layer indices do not move). BatchNorm draws no random
    numbers, so it does not change the other layers' weights for a seed.
    """
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    in_channels = 3
    for index, (out_channels, in_place) in enumerate(zip(channels, inplace)):
        layers.append(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1))
        if norm_after == index:
            layers.append(nn.BatchNorm2d(out_channels) if norm else nn.Identity())
        layers.append(nn.ReLU(inplace=in_place))
        in_channels = out_channels
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, classes))


def toy_classifier(seed: int, classes: int = 4) -> nn.Sequential:
    """The labs' small random CNN (conv 6, in-place ReLU, conv 8, in-place ReLU, GAP, linear), in eval mode."""
    return toy_cnn(seed, classes=classes).eval()


def toy_cam_classifier(seed: int, classes: int = 4) -> nn.Sequential:
    """:func:`toy_classifier` with stride-2 convolutions (it downsamples by 4), in eval mode.

    Its layer ``[3]`` (the second ReLU) gives the feature maps that Grad-CAM weights.
    """
    return toy_cnn(seed, classes=classes, stride=2).eval()


def tiny_cnn(seed: int = 0) -> nn.Sequential:
    """Conv 4, in-place ReLU, conv 5, in-place ReLU, GAP, linear to 3 classes; in train mode."""
    return toy_cnn(seed, channels=(4, 5), classes=3)


def tiny_batchnorm_cnn(seed: int = 0) -> nn.Sequential:
    """Stride-2 conv 8, ReLU, stride-2 conv 16, BatchNorm, ReLU, GAP, linear to 10 classes; in eval mode.

    Layer ``"4"`` (16 channels) keeps per-channel loops (Score-CAM, Ablation-CAM) short.
    """
    return toy_cnn(seed, channels=(8, 16), classes=10, stride=2, inplace=(False, False), norm_after=1).eval()


def tiny_train_cnn(seed: int = 0, dtype: torch.dtype = torch.float32, batch_norm: bool = True) -> nn.Sequential:
    """Conv 4, BatchNorm (``nn.Identity`` without ``batch_norm``), in-place ReLU, conv 5, ReLU, GAP,
    linear to 3 classes, in ``dtype`` and train mode: a model being trained (lab 8's loss). Layer
    ``"3"`` is the second convolution."""
    return toy_cnn(seed, channels=(4, 5), classes=3, inplace=(True, False), norm_after=0, norm=batch_norm).to(dtype)


def toy_lrp_cnn(seed: int = 0, classes: int = 3) -> nn.Sequential:
    """Conv 4, BatchNorm (random running statistics), ReLU, 2x2 max pooling, conv 5, ReLU6, GAP, linear; in eval mode.

    Every kind of layer LRP treats differently in one short sequence (a batch norm to merge, a max pool,
    ReLU6), small enough for a slow loop over every weight (inputs of 6 x 6)."""
    torch.manual_seed(seed)
    norm = nn.BatchNorm2d(4)
    with torch.no_grad():
        norm.running_mean.uniform_(-0.5, 0.5)
        norm.running_var.uniform_(0.5, 2.0)
        norm.weight.uniform_(-1.5, 1.5)
        norm.bias.uniform_(-0.3, 0.3)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        norm,
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 5, 3, padding=1),
        nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(5, classes),
    ).eval()


def toy_mode_classifier(seed: int, classes: int = 4) -> nn.Sequential:
    """A CNN whose answer depends on its mode: conv 6, BatchNorm, ReLU, conv 8, ReLU, GAP, flatten,
    Dropout(0.5), linear; in **train** mode.

    The batch norm has non-trivial running statistics and affine weights (drawn from the seed), so in eval mode
    it is a fixed affine map, while in train mode it normalises with the batch's own statistics; the dropout
    zeroes half the features at random in train mode only. The checks hand it to an answer in train mode: an
    answer that computes in train mode, or leaves the mode changed, fails.
    """
    base = toy_cnn(seed, classes=classes, inplace=(False, False), norm_after=0)
    model = nn.Sequential(*base[:-1], nn.Dropout(0.5), base[-1])
    generator = torch.Generator().manual_seed(seed)
    norm = model[1]
    with torch.no_grad():
        for tensor, low, high in (
            (norm.running_mean, -0.3, 0.3),
            (norm.running_var, 0.5, 2.0),
            (norm.weight, 0.5, 1.5),
            (norm.bias, -0.3, 0.3),
        ):
            tensor.copy_(low + (high - low) * torch.rand(tensor.shape, generator=generator))
    return model.train()
