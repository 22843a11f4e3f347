"""Find a layer of a model by its name, or accept the module itself."""

from __future__ import annotations

import difflib

import torch
from torch import nn


def layer_names(model: nn.Module) -> list[str]:
    """The dotted names of all sub-modules, as ``model.named_modules()`` gives them."""
    return [name for name, _ in model.named_modules() if name]


def get_layer(model: nn.Module, layer: str | nn.Module) -> nn.Module:
    """The sub-module named ``layer`` (e.g. ``"blocks.3"``), or ``layer`` if it is a module of ``model``."""
    if isinstance(layer, nn.Module):
        if not any(module is layer for module in model.modules()):
            raise ValueError(f"The module {type(layer).__name__} given as layer is not part of the model.")
        return layer
    modules = dict(model.named_modules())
    if not isinstance(layer, str) or not layer or layer not in modules:
        close = difflib.get_close_matches(str(layer), list(modules), n=5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"The model has no layer named {layer!r}.{hint} labkit.layer_names(model) lists them all.")
    return modules[layer]


def last_linear(model: nn.Module) -> nn.Linear | None:
    """The last ``nn.Linear`` of ``model`` in ``model.modules()`` order (its classifier head, usually), or None."""
    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    return linears[-1] if linears else None


def _is_pooling(module: nn.Module) -> bool:
    return "Pool" in type(module).__name__


def default_layer(model: nn.Module, inputs: torch.Tensor | None = None) -> str:
    """The name of the last feature layer before the pooling/head: the default layer of the CAM family.

    Found with one probe forward pass (of ``inputs``, or of a gray 224 x 224 image): among
    the modules in the order they finish, the last one whose output is 4-D (B, C, h, w),
    that is not a pooling layer and does not just pass on a pooling
    layer's output (as a ``Sequential`` ending in max pooling does). For the models
    :func:`labkit.load_model` loads this is ``Classifier.cam_layer``.
    """
    from labkit.device import model_device
    from labkit.guards import model_guard

    names = {module: name for name, module in model.named_modules() if name}
    finished: list[tuple[str, torch.Tensor]] = []
    pooled: list[torch.Tensor] = []

    def record(module: nn.Module, _inputs: tuple, output: object) -> None:
        if not isinstance(output, torch.Tensor) or module not in names:
            return
        if _is_pooling(module):
            pooled.append(output)
        elif output.ndim == 4:
            finished.append((names[module], output))

    if inputs is None:
        inputs = torch.zeros(1, 3, 224, 224, device=model_device(model))
    with model_guard(model) as hooks, torch.no_grad():
        for module in names:
            hooks.forward(module, record)
        model(inputs[:1])
    candidates = [name for name, output in finished if not any(output is p for p in pooled)]
    if not candidates:
        raise ValueError("The model has no layer with a 4-D (B, C, h, w) output; give the layer explicitly.")
    return candidates[-1]
