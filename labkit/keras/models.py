"""The same networks in Keras and PyTorch: EfficientNet-Lite0 (offline) and VGG16 (online).

**EfficientNet-Lite0 in Keras** (:func:`keras_efficientnet_lite0`) is built by walking timm's
``tf_efficientnet_lite0`` (the course's offline default) module by module: every Keras layer is
named after the PyTorch module it copies (``blocks.1.0.conv_dw``; its ReLU6 is ``blocks.1.0.bn2.act``),
so the weights are copied by name with :func:`labkit.keras.convert.torch_to_keras`. What must be
converted besides the kernels:

- *padding*. timm's ``tf_`` models pad their stride-2 convolutions as TensorFlow's "same" does
  (``Conv2dSame``): in total ``max((ceil(n / s) - 1) * s + k - n, 0)`` pixels, the smaller half
  before (top/left), the larger after. For 224 pixels, k = 3, s = 2 that is 0 before and 1 after,
  *not* PyTorch's symmetric ``padding=1``. Those layers get Keras's ``padding="same"``; the others
  have an explicit symmetric PyTorch padding, copied as a ``ZeroPadding2D`` before a "valid" convolution;
- *batch-norm epsilon*: copied from each PyTorch layer (timm's ``tf_`` models use 1e-3; PyTorch's
  default is 1e-5, Keras's 1e-3: never rely on a default);
- *layout*: Keras images are NHWC (:func:`nhwc`, :func:`nchw` convert labkit's NCHW tensors).

**VGG16** (the lab deck's network): :func:`keras_vgg16` is ``keras.applications.VGG16`` with its
ImageNet weights (downloaded on first use; offline it fails at once with a message naming the offline
default) and logits as outputs. :func:`torch_vgg16_from_keras` builds its PyTorch twin, torchvision's
VGG16 architecture with the Keras weights copied in: Keras's VGG16 expects BGR images ("caffe"
preprocessing), so the first convolution's input channels are reversed and the twin takes RGB; and the
first dense layer reads a *flattened* (7, 7, 512) map, flattened HWC in Keras but CHW in PyTorch, so its
rows are reordered.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import torch
from torch import nn

from labkit.images import Normalization
from labkit.keras.convert import conv_kernel_to_torch, is_depthwise, keras_to_torch, torch_to_keras
from labkit.models import DEFAULT_MODEL, Classifier, imagenet_classes

#: The Keras layer whose output Grad-CAM uses (labkit's PyTorch ``cam_layer`` "bn2", after its ReLU6).
LITE0_CAM_LAYER = "bn2.act"
#: The lab deck's Grad-CAM layer of VGG16, and the layer its head model starts from.
VGG16_CAM_LAYER = "block5_conv3"
#: Keras's "caffe" preprocessing of VGG16 (BGR, 0-255, mean subtracted), as a normalisation of RGB images
#: in [0, 1] for the PyTorch twin: (x - mean) / std = 255 x - mean_255.
VGG16_NORMALIZATION = Normalization(mean=(123.68 / 255, 116.779 / 255, 103.939 / 255), std=(1 / 255,) * 3)


def nhwc(x: torch.Tensor) -> np.ndarray:
    """A labkit batch (B, C, H, W) (or one image (C, H, W)) as a Keras array (B, H, W, C)."""
    x = x.detach().cpu()
    return (x[None] if x.ndim == 3 else x).permute(0, 2, 3, 1).numpy().copy()


def nchw(x: np.ndarray | tf.Tensor) -> torch.Tensor:
    """A Keras batch (B, H, W, C) as a PyTorch tensor (B, C, H, W); maps (B, H, W) are returned as they are."""
    array = np.asarray(x)
    tensor = torch.from_numpy(array.copy())
    return tensor.permute(0, 3, 1, 2).contiguous() if array.ndim == 4 else tensor


# --- EfficientNet-Lite0 ------------------------------------------------------------------------------


def _conv(x: keras.KerasTensor, conv: nn.Conv2d, name: str) -> keras.KerasTensor:
    """The Keras twin of ``conv`` applied to ``x``, with the same padding (see the module's doc)."""
    from timm.layers import Conv2dSame

    if isinstance(conv, Conv2dSame):
        padding = "same"  # TensorFlow's rule, which Conv2dSame reproduces
    else:
        padding = "valid"
        if any(conv.padding):
            x = keras.layers.ZeroPadding2D(tuple(conv.padding), name=f"{name}.pad")(x)
    options = {"strides": conv.stride, "padding": padding, "use_bias": conv.bias is not None, "name": name}
    if is_depthwise(conv):
        return keras.layers.DepthwiseConv2D(conv.kernel_size, **options)(x)
    if conv.groups != 1:
        raise ValueError(f"{name}: grouped convolutions are not converted.")
    return keras.layers.Conv2D(conv.out_channels, conv.kernel_size, **options)(x)


def _batch_norm_act(x: keras.KerasTensor, bn: nn.BatchNorm2d, name: str) -> keras.KerasTensor:
    """BatchNormalization with PyTorch's epsilon, then the activation timm fuses into it (ReLU6 or none)."""
    x = keras.layers.BatchNormalization(epsilon=bn.eps, name=name)(x)
    act = getattr(bn, "act", nn.Identity())
    if isinstance(act, nn.ReLU6):
        return keras.layers.ReLU(max_value=6.0, name=f"{name}.act")(x)
    if not isinstance(act, nn.Identity):
        raise ValueError(f"{name}: activation {type(act).__name__} has no Keras twin here (ReLU6 has).")
    return x


def _block(x: keras.KerasTensor, block: nn.Module, name: str) -> keras.KerasTensor:
    """One timm block: (expansion conv_pw, bn1,) depthwise conv_dw, bn, projection, bn, (+ shortcut)."""
    if not isinstance(block.se, nn.Identity):
        raise ValueError(f"{name}: squeeze-and-excitation is not converted (EfficientNet-Lite has none).")
    shortcut = x
    if hasattr(block, "conv_pwl"):  # InvertedResidual: expand, depthwise, project
        steps = [("conv_pw", "bn1"), ("conv_dw", "bn2"), ("conv_pwl", "bn3")]
    else:  # DepthwiseSeparableConv: depthwise, project
        steps = [("conv_dw", "bn1"), ("conv_pw", "bn2")]
    for conv, bn in steps:
        x = _conv(x, getattr(block, conv), f"{name}.{conv}")
        x = _batch_norm_act(x, getattr(block, bn), f"{name}.{bn}")
    if block.has_skip:
        x = keras.layers.Add(name=f"{name}.add")([shortcut, x])
    return x


def _weighted_modules(model: nn.Module) -> dict[str, nn.Module]:
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.BatchNorm2d | nn.Linear)}


def keras_efficientnet_lite0(torch_model: nn.Module | None = None) -> keras.Model:
    """EfficientNet-Lite0 as a Keras functional model (NHWC inputs of any size, logits out), with the
    weights of ``torch_model`` (default: labkit's offline EfficientNet-Lite0) copied layer by layer.

    Inputs are preprocessed as for the PyTorch model ((v - 127) / 128 on the 0-255 scale): pass
    ``nhwc(clf.preprocess(images))``.
    """
    if torch_model is None:
        from labkit.models import load_model

        torch_model = load_model(DEFAULT_MODEL, device="cpu").model
    inputs = keras.Input((None, None, 3), name="input")
    x = _conv(inputs, torch_model.conv_stem, "conv_stem")
    x = _batch_norm_act(x, torch_model.bn1, "bn1")
    for i, stage in enumerate(torch_model.blocks):
        for j, block in enumerate(stage):
            x = _block(x, block, f"blocks.{i}.{j}")
    x = _conv(x, torch_model.conv_head, "conv_head")
    x = _batch_norm_act(x, torch_model.bn2, "bn2")
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    logits = keras.layers.Dense(torch_model.classifier.out_features, name="classifier")(x)
    model = keras.Model(inputs, logits, name="efficientnet_lite0")
    for name, module in _weighted_modules(torch_model).items():
        torch_to_keras(module, model.get_layer(name))
    return model


def torch_from_keras(keras_model: keras.Model, torch_model: nn.Module) -> nn.Module:
    """Copy every weight of ``keras_model`` back into ``torch_model`` (layers matched by name, as
    :func:`keras_efficientnet_lite0` names them); returns ``torch_model``."""
    for name, module in _weighted_modules(torch_model).items():
        keras_to_torch(keras_model.get_layer(name), module)
    return torch_model


# --- VGG16 --------------------------------------------------------------------------------------------


def keras_vgg16(weights: str | None = "imagenet") -> keras.Model:
    """``keras.applications.VGG16`` with logits as outputs (``classifier_activation=None``; the deck's
    model ends in a softmax, and Grad-CAM wants the score before it).

    ``weights="imagenet"`` downloads them on first use (about 550 MB, cached in ``~/.keras``); without a
    network it raises a RuntimeError naming the offline default. ``weights=None``: random weights.
    """
    try:
        return keras.applications.VGG16(weights=weights, classifier_activation=None)
    except Exception as error:  # Keras's download raises a bare Exception ("URL fetch failure ...")
        raise RuntimeError(
            f"Could not download the Keras VGG16 weights ({error}). This model needs the network the first "
            f"time. Without it, use the offline default: labkit.keras.keras_efficientnet_lite0() "
            f"(labkit.load_model({DEFAULT_MODEL!r}) in PyTorch)."
        ) from error


def _flatten_order_to_torch(kernel: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """A dense kernel (H*W*C, out) reading a Keras (HWC) flatten -> the rows for a PyTorch (CHW) flatten."""
    height, width, channels = shape
    return kernel.reshape(height, width, channels, -1).transpose(2, 0, 1, 3).reshape(height * width * channels, -1)


@torch.no_grad()
def torch_vgg16_from_keras(keras_model: keras.Model) -> Classifier:
    """torchvision's VGG16 with the weights of Keras's VGG16 (:func:`keras_vgg16`), as a labkit
    :class:`~labkit.models.Classifier` on the CPU taking RGB images (see the module's doc)."""
    import torchvision

    model = torchvision.models.vgg16(weights=None).eval()
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    keras_convs = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.Conv2D)]
    if len(convs) != len(keras_convs):
        raise ValueError(f"{keras_model.name} has {len(keras_convs)} convolutions, VGG16 {len(convs)}.")
    for layer, conv in zip(keras_convs, convs):
        keras_to_torch(layer, conv)
    first_kernel = keras_convs[0].get_weights()[0]
    convs[0].weight.copy_(conv_kernel_to_torch(first_kernel[:, :, ::-1]))  # BGR -> RGB input channels
    flatten_shape = tuple(keras_model.get_layer("block5_pool").output.shape[1:])
    fc1_kernel, fc1_bias = keras_model.get_layer("fc1").get_weights()
    model.classifier[0].weight.copy_(torch.from_numpy(_flatten_order_to_torch(fc1_kernel, flatten_shape).T.copy()))
    model.classifier[0].bias.copy_(torch.from_numpy(fc1_bias))
    keras_to_torch(keras_model.get_layer("fc2"), model.classifier[3])
    keras_to_torch(keras_model.get_layer("predictions"), model.classifier[6])
    return Classifier("vgg16_from_keras", model, VGG16_NORMALIZATION, imagenet_classes(), "features.29")


def keras_vgg16_inputs(images: torch.Tensor) -> np.ndarray:
    """labkit images (B, 3, H, W) in [0, 1] -> Keras VGG16 inputs (BGR, 0-255, mean subtracted, NHWC)."""
    return keras.applications.vgg16.preprocess_input(255 * nhwc(images))
