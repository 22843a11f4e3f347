"""Find a layer of a model by its name, or accept the module itself."""

from __future__ import annotations

import difflib

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
