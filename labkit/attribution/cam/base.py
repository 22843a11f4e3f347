"""The CAM family's one mechanism: a weighted sum of a layer's feature maps.

Every variant computes

    M_c = ReLU( sum_k w_k^c * A_k )        (A_k: the layer's K feature maps, h x w)

and differs only in the weights ``w`` (one per channel, (B, K, 1, 1), or one per channel
and position, (B, K, h, w), as LayerCAM). The map is upsampled bilinearly (half-pixel
centres, ``align_corners=False``) to the input size; ``upsample=False`` gives the raw
layer-resolution map (B, h, w) and ``relu=False`` the map before the ReLU.

The layer is a name (``"layer4"``) or a module; ``None`` picks
:func:`labkit.layers.default_layer` (``Classifier.cam_layer`` for the models labkit loads).
A variant is written as a function of a :class:`LayerState` returning the weights and
turned into the public method by :func:`cam_method`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from labkit.attribution.layer_capture import LayerRecorder, layer_state, resolve_layer
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.targets import Targets

Weights = Callable[..., torch.Tensor]


@reference
def upsample_maps(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear upsampling of (B, h, w) maps to (B, *size), half-pixel centres."""
    return F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]


@reference
def weighted_maps(weights: torch.Tensor, activations: torch.Tensor, relu: bool) -> torch.Tensor:
    """sum_k w_k A_k (B, h, w), ReLU'd if ``relu``."""
    maps = (weights * activations).sum(dim=1)
    return maps.clamp(min=0) if relu else maps


def cam_method(*, gradients: bool) -> Callable[[Weights], Callable[..., torch.Tensor]]:
    """Decorator: a weights function ``f(state, **options)`` becomes the public CAM method.

    ``gradients`` says whether the variant needs dS/dA (one backward pass down to the layer).
    The method's signature (``help``, ``inspect.signature``) lists the common arguments and
    then the variant's own options (see :func:`_method_signature`).
    """

    def decorate(weights: Weights) -> Callable[..., torch.Tensor]:
        def method(
            model: nn.Module,
            inputs: torch.Tensor,
            targets: Targets = None,
            *,
            layer: str | nn.Module | None = None,
            upsample: bool = True,
            relu: bool = True,
            batch_size: int | None = None,
            progress: bool = False,
            **options: object,
        ) -> torch.Tensor:
            inputs = as_batch(inputs).to(model_device(model))
            with model_guard(model) as hooks:
                module, name = resolve_layer(model, layer, inputs)
                recorder = LayerRecorder(hooks, module, name, gradients=gradients)
                state = layer_state(model, inputs, targets, recorder, batch_size=batch_size, progress=progress)
                with torch.no_grad():
                    maps = weighted_maps(weights(state, **options), state.activations, relu)
            return upsample_maps(maps, tuple(inputs.shape[-2:])) if upsample else maps

        method.__name__ = method.__qualname__ = weights.__name__
        method.__module__ = weights.__module__
        method.__doc__ = (weights.__doc__ or "") + _COMMON_DOC
        method.__signature__ = _method_signature(method, weights)
        return reference(method)

    return decorate


def _method_signature(method: Callable, weights: Weights) -> inspect.Signature:
    """``method``'s signature with its ``**options`` replaced by the options of ``weights``
    (its parameters after ``state``, keyword-only), as the call passes them on."""
    common = inspect.signature(method)
    kept = [p for p in common.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    options = list(inspect.signature(weights).parameters.values())[1:]
    return common.replace(parameters=kept + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in options])


_COMMON_DOC = """
    Call: ``method(model, inputs, targets=None, *, layer=None, upsample=True, relu=True,
    batch_size=None, progress=False, <the variant's options>) -> (B, H, W)`` maps on the model's device
    ((B, h, w) with ``upsample=False``). ``inputs`` are preprocessed (B, 3, H, W); ``targets``
    one class per image (default: the predicted class); scores are logits.
"""
