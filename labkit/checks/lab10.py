"""Checks behind lab 10's autograded exercises (a convolution's weights across frameworks; Grad-CAM with
``tf.GradientTape`` from the two split models).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the labkit
reference forbidden inside the call, and compares with the reference. The cases include the boundary sizes (a
1x1 kernel with one channel in and out, a batch of one, one-pixel feature maps) and, for Grad-CAM, models with
batch normalisation and dropout, whose answer changes when they are called in training mode.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from labkit.checks.common import call_student
from labkit.keras import keras  # through labkit.keras: TensorFlow must load after torchvision (see there)
from labkit.keras.attribution import grad_cam, grad_cam_one_model, grad_cam_weights, split_model
from labkit.keras.convert import conv_kernel_to_keras, torch_to_keras

#: (in channels, out channels, kernel size, bias): non-square kernels and in != out catch transposes.
CONV_CASES = [(3, 5, (3, 3), True), (4, 2, (5, 3), False), (2, 7, (1, 4), True), (1, 1, (1, 1), False)]
#: (batch, height, width): odd and non-square sizes; the layer's maps are 4x smaller (rounded up): 1x1 for the
#: last two.
GRAD_CAM_CASES = [(3, 19, 23), (2, 16, 16), (1, 13, 9), (2, 4, 3), (1, 2, 2)]


def _close(got: object, expected: np.ndarray, what: str, hint: str, atol: float) -> None:
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == expected.shape, f"{what}: expected shape {expected.shape}, got {got.shape}. {hint}"
    error = float(np.abs(got - expected).max()) if got.size else 0.0
    assert error <= atol, f"{what}: values differ from the reference by up to {error:.3g}. {hint}"


def check_conv_to_keras(student: Callable) -> None:
    """``student(conv: nn.Conv2d)`` -> the weights of the matching Keras ``Conv2D``: [kernel] or [kernel, bias]."""
    for seed, (cin, cout, size, bias) in enumerate(CONV_CASES):
        torch.manual_seed(100 + seed)
        conv = nn.Conv2d(cin, cout, size, bias=bias)
        original = {k: v.clone() for k, v in conv.state_dict().items()}
        expected = [conv_kernel_to_keras(conv.weight)] + ([conv.bias.detach().numpy()] if bias else [])
        got = call_student(student, (conv,), (conv_kernel_to_keras, torch_to_keras))
        assert all(torch.equal(v, conv.state_dict()[k]) for k, v in original.items()), (
            "Your function changed the PyTorch convolution's weights; read them, do not modify them."
        )
        what = f"conv {cin}->{cout}, kernel {size}, bias={bias}"
        assert isinstance(got, list | tuple) and len(got) == len(expected), (
            f"{what}: return a list with the kernel{' and the bias' if bias else ' only (no bias)'}, "
            f"got {type(got).__name__} of length {len(got) if isinstance(got, list | tuple) else '?'}."
        )
        _close(
            got[0],
            expected[0],
            f"{what}: kernel",
            "Keras kernels are (kH, kW, in, out): weight[o, i, h, w] "
            "goes to kernel[h, w, i, o], i.e. weight.permute(2, 3, 1, 0).",
            0,
        )
        if bias:
            _close(got[1], expected[1], f"{what}: bias", "The bias keeps its layout (out,).", 0)
        layer = keras.layers.Conv2D(cout, size, use_bias=bias)
        layer.build((None, 8, 9, cin))
        layer.set_weights([np.asarray(w, dtype=np.float32) for w in got])


def toy_keras_classifier(seed: int, classes: int = 4) -> keras.Model:
    """A small random Keras CNN that downsamples by 4, with batch normalisation and dropout: two stride-2 "same"
    convolutions, each followed by a BatchNormalization (random moving statistics), ReLU then ReLU6 named
    ``maps``; GAP; Dropout(0.5); dense logits. Its layer ``maps`` gives the feature maps Grad-CAM weights; called
    with ``training=True`` (batch statistics, dropout) it gives other maps."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same")(inputs)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(x)
    x = keras.layers.ReLU(max_value=6.0, name="maps")(keras.layers.BatchNormalization()(x))
    pooled = keras.layers.Dropout(0.5)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, keras.layers.Dense(classes)(pooled), name=f"toy{seed}")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            size = layer.gamma.shape[0]
            gamma, beta = rng.uniform(0.5, 1.5, size), rng.uniform(-0.2, 0.4, size)
            mean, variance = rng.uniform(-0.3, 0.3, size), rng.uniform(0.5, 2.0, size)
            layer.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, variance)])
    return model


def check_grad_cam_split(student: Callable) -> None:
    """``student(feature_model, head_model, x (B, H, W, 3), targets (B,))`` -> (B, H, W) Grad-CAM maps."""
    for seed, (batch, height, width) in enumerate(GRAD_CAM_CASES):
        feature_model, head_model = split_model(toy_keras_classifier(20 + seed), "maps")
        x = np.random.default_rng(seed).normal(size=(batch, height, width, 3)).astype(np.float32)
        targets = np.arange(batch) % 4
        expected = grad_cam(feature_model, head_model, x, targets).numpy()
        arguments = (feature_model, head_model, x.copy(), targets.copy())
        got = call_student(student, arguments, (grad_cam, grad_cam_weights, grad_cam_one_model))
        _close(
            got,
            expected,
            f"Grad-CAM for {batch} image(s) of {height}x{width}",
            "Take the gradient of each image's LOGIT (not its softmax probability) with respect to A = "
            "feature_model(x); alpha = mean of the gradients over the positions of EACH image (axis=(1, 2), not "
            "the batch axis 0); map = ReLU(sum_k alpha_k A_k), resized bilinearly to (H, W); call both models "
            "with training=False (batch norm and dropout).",
            1e-5 * max(float(np.abs(expected).max()), 1.0),
        )
