"""labkit: the code behind the course's labs on explaining CNN image classifiers.

The names below load on first use (PEP 562), so that tools importing only a light part of labkit (the grading
preprocessors, which run in nbgrader's process) do not pay for importing PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it.
_HOMES = {
    "occlusion": "labkit.attribution",
    "occlusion_scores": "labkit.attribution",
    "default_device": "labkit.device",
    "SAMPLE_NAMES": "labkit.images",
    "Normalization": "labkit.images",
    "load_image": "labkit.images",
    "sample_batch": "labkit.images",
    "sample_image": "labkit.images",
    "get_layer": "labkit.layers",
    "layer_names": "labkit.layers",
    "DEFAULT_MODEL": "labkit.models",
    "MODEL_NAMES": "labkit.models",
    "Classifier": "labkit.models",
    "load_model": "labkit.models",
    "REFERENCE_NAMES": "labkit.reference.registry",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    try:  # a subpackage used as an attribute (labkit.attribution after `import labkit`)
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module 'labkit' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
