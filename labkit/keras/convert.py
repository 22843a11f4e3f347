"""Weights across frameworks, one layer at a time, both ways (PyTorch <-> Keras).

The same numbers, stored in different layouts:

    layer            PyTorch                        Keras 3
    convolution      weight (O, I, kH, kW)  OIHW    kernel (kH, kW, I, O)  HWIO
    depthwise conv   weight (C, 1, kH, kW)          depthwise_kernel (kH, kW, C, 1)
    dense / linear   weight (out, in)               kernel (in, out)
    batch norm       weight, bias, running_mean,    gamma, beta, moving_mean, moving_variance
                     running_var, eps (1e-5)        epsilon (default 1e-3!)

Images are NCHW in PyTorch and NHWC in Keras. Both frameworks compute a cross-correlation
(no kernel flip), so a kernel only changes layout: ``w_keras[h, w, i, o] = w_torch[o, i, h, w]``.
Batch norm computes ``gamma * (x - mean) / sqrt(var + eps) + beta`` in both; the epsilon is copied
explicitly (a silent default of 1e-3 against 1e-5 changes every logit in the third decimal).
Padding is a property of the layer, not of its weights: see :mod:`labkit.keras.models`.
"""

from __future__ import annotations

import keras
import numpy as np
import torch
from torch import nn

from labkit.grader.references import reference


@reference
def conv_kernel_to_keras(weight: torch.Tensor) -> np.ndarray:
    """PyTorch OIHW -> Keras HWIO: ``kernel[h, w, i, o] = weight[o, i, h, w]``."""
    return weight.detach().cpu().permute(2, 3, 1, 0).numpy()


def conv_kernel_to_torch(kernel: np.ndarray) -> torch.Tensor:
    """Keras HWIO -> PyTorch OIHW (the inverse of :func:`conv_kernel_to_keras`)."""
    return torch.from_numpy(np.ascontiguousarray(np.asarray(kernel).transpose(3, 2, 0, 1)))


def depthwise_kernel_to_keras(weight: torch.Tensor) -> np.ndarray:
    """PyTorch depthwise (C, 1, kH, kW) -> Keras (kH, kW, C, 1)."""
    return weight.detach().cpu().permute(2, 3, 0, 1).numpy()


def depthwise_kernel_to_torch(kernel: np.ndarray) -> torch.Tensor:
    """Keras depthwise (kH, kW, C, 1) -> PyTorch (C, 1, kH, kW)."""
    return torch.from_numpy(np.ascontiguousarray(np.asarray(kernel).transpose(2, 3, 0, 1)))


def is_depthwise(conv: nn.Conv2d) -> bool:
    """One filter per input channel (``groups == in_channels == out_channels``)."""
    return conv.groups == conv.in_channels == conv.out_channels and conv.groups > 1


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _expect(layer: keras.layers.Layer, kind: type, module: nn.Module) -> None:
    if not isinstance(layer, kind):
        raise TypeError(
            f"Cannot copy {type(module).__name__} weights into Keras layer {layer.name!r} "
            f"({type(layer).__name__}); it needs a {kind.__name__}."
        )


def _check_conv(module: nn.Conv2d, layer: keras.layers.Layer) -> None:
    kind = keras.layers.DepthwiseConv2D if is_depthwise(module) else keras.layers.Conv2D
    _expect(layer, kind, module)
    if module.groups > 1 and not is_depthwise(module):
        raise ValueError(f"Grouped convolutions (groups={module.groups}) other than depthwise are not converted.")
    if tuple(layer.strides) != tuple(module.stride):
        raise ValueError(f"{layer.name}: strides {tuple(layer.strides)} in Keras, {tuple(module.stride)} in PyTorch.")
    if (module.bias is not None) != layer.use_bias:
        raise ValueError(f"{layer.name}: one side has a bias and the other has not.")


@reference
def torch_to_keras(module: nn.Module, layer: keras.layers.Layer) -> None:
    """Copy the weights of one PyTorch module into the matching Keras layer (in place).

    Handles ``nn.Conv2d`` -> ``Conv2D`` / ``DepthwiseConv2D``, ``nn.BatchNorm2d`` ->
    ``BatchNormalization`` (epsilon must already agree: a ValueError says if not) and
    ``nn.Linear`` -> ``Dense``.
    """
    if isinstance(module, nn.Conv2d):
        _check_conv(module, layer)
        convert = depthwise_kernel_to_keras if is_depthwise(module) else conv_kernel_to_keras
        weights = [convert(module.weight)]
        if module.bias is not None:
            weights.append(_numpy(module.bias))
    elif isinstance(module, nn.BatchNorm2d):
        _expect(layer, keras.layers.BatchNormalization, module)
        if not np.isclose(layer.epsilon, module.eps, rtol=1e-6, atol=0):
            raise ValueError(
                f"{layer.name}: batch-norm epsilon {layer.epsilon} in Keras, {module.eps} in PyTorch; build the "
                f"Keras layer with epsilon={module.eps} (Keras's default is 1e-3, PyTorch's 1e-5)."
            )
        weights = [_numpy(t) for t in (module.weight, module.bias, module.running_mean, module.running_var)]
    elif isinstance(module, nn.Linear):
        _expect(layer, keras.layers.Dense, module)
        weights = [_numpy(module.weight).T]
        if module.bias is not None:
            weights.append(_numpy(module.bias))
    else:
        raise TypeError(f"No weight conversion for {type(module).__name__} (Conv2d, BatchNorm2d and Linear have one).")
    layer.set_weights(weights)


@torch.no_grad()
def keras_to_torch(layer: keras.layers.Layer, module: nn.Module) -> None:
    """Copy the weights of one Keras layer into the matching PyTorch module (in place): the
    inverse of :func:`torch_to_keras`, with the same checks."""
    weights = layer.get_weights()
    if isinstance(module, nn.Conv2d):
        _check_conv(module, layer)
        convert = depthwise_kernel_to_torch if is_depthwise(module) else conv_kernel_to_torch
        tensors = [convert(weights[0])] + [torch.from_numpy(w) for w in weights[1:]]
        parameters = [module.weight, module.bias][: len(tensors)]
    elif isinstance(module, nn.BatchNorm2d):
        _expect(layer, keras.layers.BatchNormalization, module)
        module.eps = float(layer.epsilon)
        tensors = [torch.from_numpy(w) for w in weights]
        parameters = [module.weight, module.bias, module.running_mean, module.running_var]
    elif isinstance(module, nn.Linear):
        _expect(layer, keras.layers.Dense, module)
        tensors = [torch.from_numpy(np.ascontiguousarray(weights[0].T))] + [torch.from_numpy(w) for w in weights[1:]]
        parameters = [module.weight, module.bias][: len(tensors)]
    else:
        raise TypeError(f"No weight conversion for {type(module).__name__} (Conv2d, BatchNorm2d and Linear have one).")
    for parameter, tensor in zip(parameters, tensors):
        if parameter.shape != tensor.shape:
            raise ValueError(
                f"{layer.name}: shape {tuple(tensor.shape)} from Keras, {tuple(parameter.shape)} in PyTorch."
            )
        parameter.copy_(tensor)
