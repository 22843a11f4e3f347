"""labkit's Keras side (lab 10): the same networks in Keras 3 (TensorFlow backend) and PyTorch.

- :mod:`labkit.keras.convert`: weight layouts converted layer by layer, both ways
  (convolution kernels OIHW <-> HWIO, depthwise kernels (C, 1, H, W) <-> (H, W, C, 1),
  dense matrices, batch norm with its epsilon);
- :mod:`labkit.keras.models`: EfficientNet-Lite0 (the offline default) built in Keras from the
  shipped PyTorch weights; Keras VGG16 (ImageNet weights, online) and its PyTorch twin;
- :mod:`labkit.keras.attribution`: the lab deck's methods the Keras way: saliency with
  ``tf.GradientTape``, Grad-CAM by splitting the model (and the one-model form), guided
  backpropagation with ``tf.custom_gradient``.

Import ``labkit.keras`` before ``keras`` or ``tensorflow``: it loads triton first, since triton (which
torchvision's operators load) crashes the process when it is loaded after TensorFlow.
Importing ``labkit`` never imports TensorFlow: only ``import labkit.keras`` does (a few seconds).
TensorFlow's start-up messages are silenced here (``TF_CPP_MIN_LOG_LEVEL``, and its C++ log lines
written before that setting is read), so students see only what matters.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block (TensorFlow's C++ start-up lines, which
    ``TF_CPP_MIN_LOG_LEVEL`` does not reach); Python exceptions still show after the block."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# triton (which torchvision's operators load, through torch's compiler stack) must be loaded before
# TensorFlow: loaded after it, triton's native library crashes the process (segmentation fault) on import.
# Loading triton itself takes 0.5 s, torchvision 3 s; where triton is not installed there is nothing to load.
try:
    import triton  # noqa: F401
except ImportError:
    pass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # errors and warnings of TF's C++ side: silent
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
with _quiet_stderr():
    import tensorflow as tf

    tf.config.list_physical_devices()  # the CUDA probe logs here: do it while quiet

import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"labkit.keras needs Keras's TensorFlow backend, but KERAS_BACKEND is {keras.backend.backend()!r}. "
        "Unset KERAS_BACKEND (or set it to 'tensorflow') and restart the kernel."
    )
tf.get_logger().setLevel("ERROR")

from labkit.keras.attribution import (  # noqa: E402
    grad_cam,
    grad_cam_one_model,
    guided_backprop,
    guided_model,
    saliency,
    split_model,
)
from labkit.keras.convert import keras_to_torch, torch_to_keras  # noqa: E402
from labkit.keras.models import (  # noqa: E402
    keras_efficientnet_lite0,
    keras_vgg16,
    nchw,
    nhwc,
    torch_from_keras,
    torch_vgg16_from_keras,
)

__all__ = [
    "grad_cam",
    "grad_cam_one_model",
    "guided_backprop",
    "guided_model",
    "keras_efficientnet_lite0",
    "keras_to_torch",
    "keras_vgg16",
    "nchw",
    "nhwc",
    "saliency",
    "split_model",
    "torch_from_keras",
    "torch_to_keras",
    "torch_vgg16_from_keras",
]
