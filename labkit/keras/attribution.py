"""The lab deck's gradient methods the Keras way (TensorFlow backend), batched.

Inputs are preprocessed NHWC batches (B, H, W, 3) (numpy or tf); targets one class per image
(``None``: the predicted class); maps come back as tf tensors (B, H, W), like labkit's PyTorch
maps of the same methods (:mod:`labkit.attribution`), which they equal to float tolerance on the
same network. The score S_c is the class's logit (the model's output, no softmax).

- Saliency (Simonyan et al., ICLR 2014 workshop): M_ij = max_c |dS_c/dx_ij,c|, the gradient taken
  with ``tf.GradientTape``.
- Grad-CAM (Selvaraju et al., ICCV 2017): alpha_k = 1/Z sum_ij dS_c/dA_ij,k, M = ReLU(sum_k alpha_k A_k),
  upsampled bilinearly (half-pixel centres) to the input size. :func:`grad_cam` splits the model
  as the lab deck does (a feature model up to the layer, a head model after it, :func:`split_model`);
  :func:`grad_cam_one_model` uses one model with two outputs, ``Model(inputs, [A, logits])``, as
  the Keras Grad-CAM example does (but averages each image's gradients separately: the example's
  ``reduce_mean(grads, axis=(0, 1, 2))`` also averages over the batch).
- Guided backpropagation (Springenberg et al., ICLR 2015 workshop): at every ReLU-like activation
  the backward pass becomes ReLU(g) * 1[0 < x < max] (max = 6 for ReLU6, none for ReLU), written with
  ``tf.custom_gradient`` in a clone of the model (:func:`guided_model`); M = max_c |R_c|.

Everything runs on a GPU when TensorFlow sees one (its default device placement).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from labkit.grader.references import reference

Targets = int | np.ndarray | tf.Tensor | list[int] | None


def _targets(logits: tf.Tensor, targets: Targets) -> tf.Tensor:
    """One class index per image: the predicted one if ``targets`` is None, one int for all, or (B,)."""
    batch, classes = int(logits.shape[0]), int(logits.shape[1])
    if targets is None:
        return tf.argmax(logits, axis=1, output_type=tf.int32)
    resolved = tf.cast(tf.reshape(tf.convert_to_tensor(targets), [-1]), tf.int32)
    if int(tf.size(resolved)) == 1:
        resolved = tf.fill([batch], resolved[0])
    if int(tf.size(resolved)) != batch:
        raise ValueError(f"Give one target per image: {batch} images, {int(tf.size(resolved))} targets.")
    if int(tf.reduce_min(resolved)) < 0 or int(tf.reduce_max(resolved)) >= classes:
        raise ValueError(f"Targets must be class indices in [0, {classes}), got {resolved.numpy().tolist()}.")
    return resolved


def _scores(logits: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """S = logits[b, targets[b]] for each image b (B,)."""
    return tf.gather(logits, targets, axis=1, batch_dims=1)


def _input_gradients(model: Callable, inputs: np.ndarray | tf.Tensor, targets: Targets) -> tf.Tensor:
    """dS/dx (B, H, W, C), one forward and one backward pass (the images do not interact: the
    gradient of the sum of the scores is each image's own gradient)."""
    x = tf.convert_to_tensor(inputs, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model(x, training=False)
        scores = _scores(logits, _targets(logits, targets))
    return tape.gradient(scores, x)


@reference
def saliency(model: keras.Model, inputs: np.ndarray | tf.Tensor, targets: Targets = None) -> tf.Tensor:
    """Saliency maps (B, H, W): max over the colour channels of |dS_c/dx|."""
    return tf.reduce_max(tf.abs(_input_gradients(model, inputs, targets)), axis=-1)


def split_model(model: keras.Model, layer: str) -> tuple[keras.Model, keras.Model]:
    """(feature model: inputs -> the layer's output A, head model: A -> logits), the lab deck's
    ``modelA`` and ``modelP``. The head is the rest of the functional graph, from the layer's output on."""
    features = model.get_layer(layer).output
    feature_model = keras.Model(model.input, features, name=f"{model.name}_features")
    head_input = keras.Input(features.shape[1:], name=f"{layer}_maps")
    head_model = keras.Model(model.get_layer(layer).output, model.output)
    head = keras.Model(head_input, head_model(head_input), name=f"{model.name}_head")
    return feature_model, head


@reference
def grad_cam_weights(maps: tf.Tensor, gradients: tf.Tensor, size: tuple[int, int], relu: bool = True) -> tf.Tensor:
    """ReLU(sum_k alpha_k A_k), alpha_k = mean over positions of dS/dA_k, upsampled bilinearly to ``size``.

    ``maps`` and ``gradients`` are (B, h, w, K); each image has its own alphas (axis 1, 2: not the batch)."""
    alpha = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.reduce_sum(alpha * maps, axis=-1)
    if relu:
        cam = tf.nn.relu(cam)
    return tf.image.resize(cam[..., None], size, method="bilinear")[..., 0]


@reference
def grad_cam(
    feature_model: keras.Model,
    head_model: keras.Model,
    inputs: np.ndarray | tf.Tensor,
    targets: Targets = None,
    *,
    relu: bool = True,
) -> tf.Tensor:
    """Grad-CAM maps (B, H, W) from the split model (see :func:`split_model`): A = feature_model(x) is
    watched by the tape, S = head_model(A)[c]."""
    x = tf.convert_to_tensor(inputs, dtype=tf.float32)
    maps = feature_model(x, training=False)
    with tf.GradientTape() as tape:
        tape.watch(maps)
        logits = head_model(maps, training=False)
        scores = _scores(logits, _targets(logits, targets))
    return grad_cam_weights(maps, tape.gradient(scores, maps), tuple(x.shape[1:3]), relu)


@reference
def grad_cam_one_model(
    model: keras.Model, layer: str, inputs: np.ndarray | tf.Tensor, targets: Targets = None, *, relu: bool = True
) -> tf.Tensor:
    """Grad-CAM maps (B, H, W) with one model of two outputs, ``Model(inputs, [A, logits])``."""
    grad_model = keras.Model(model.input, [model.get_layer(layer).output, model.output])
    x = tf.convert_to_tensor(inputs, dtype=tf.float32)
    with tf.GradientTape() as tape:
        maps, logits = grad_model(x, training=False)
        scores = _scores(logits, _targets(logits, targets))
    return grad_cam_weights(maps, tape.gradient(scores, maps), tuple(x.shape[1:3]), relu)


def guided_relu(max_value: float | None = None) -> Callable[[tf.Tensor], tf.Tensor]:
    """A ReLU (ReLU6 for ``max_value=6``) whose backward is the guided rule ReLU(g) * 1[0 < x < max]."""

    @tf.custom_gradient
    def activation(x: tf.Tensor) -> tuple[tf.Tensor, Callable]:
        upper = np.inf if max_value is None else max_value
        passing = tf.cast((x > 0) & (x < upper), x.dtype)

        def backward(g: tf.Tensor) -> tf.Tensor:
            return tf.nn.relu(g) * passing

        return tf.clip_by_value(x, 0, upper) if max_value is not None else tf.nn.relu(x), backward

    return activation


def _guided_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    """``layer`` rebuilt with its ReLU (inside a Conv2D/Dense, or a ReLU layer) replaced by the guided one."""
    config = layer.get_config()
    if isinstance(layer, keras.layers.ReLU):
        if config.get("negative_slope") or config.get("threshold"):
            raise ValueError(f"{layer.name}: leaky or thresholded ReLUs have no guided rule here.")
        return keras.layers.Activation(guided_relu(config.get("max_value")), name=layer.name)
    activation = config.get("activation")
    if activation in ("relu", "relu6"):
        config["activation"] = guided_relu(6.0 if activation == "relu6" else None)
        return type(layer).from_config(config)
    if activation not in (None, "linear", "softmax"):
        raise ValueError(f"{layer.name}: activation {activation!r} has no guided rule here (ReLU and ReLU6 have).")
    return layer.__class__.from_config(config)


def guided_model(model: keras.Model) -> keras.Model:
    """A clone of ``model`` (same weights) whose ReLU-like activations backpropagate the guided rule."""
    clone = keras.models.clone_model(model, clone_function=_guided_layer)
    clone.set_weights(model.get_weights())
    return clone


@reference
def guided_backprop(
    model: keras.Model, inputs: np.ndarray | tf.Tensor, targets: Targets = None, *, guided: keras.Model | None = None
) -> tf.Tensor:
    """Guided backpropagation maps (B, H, W): max over colours of |R|, R the input "gradient" with the
    guided rule at every activation. Pass ``guided=guided_model(model)`` to reuse the clone between calls.
    The targets (when None) are the model's predictions."""
    guided = guided or guided_model(model)
    if targets is None:
        targets = _targets(model(tf.convert_to_tensor(inputs, dtype=tf.float32), training=False), None)
    return tf.reduce_max(tf.abs(_input_gradients(guided, inputs, targets)), axis=-1)
