"""The shipped reference classifiers: names, files, and loading them as a ``Classifier``."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from labkit.paths import MODELS
from labkit.reference.architectures import ARCHITECTURES


def reference_name(arch: str, shortcut: bool = False) -> str:
    """``shapes_<arch>`` or ``shapes_<arch>_shortcut``."""
    return f"shapes_{arch}" + ("_shortcut" if shortcut else "")


REFERENCE_NAMES: tuple[str, ...] = (
    reference_name("resnet18"),
    reference_name("mobilenet_v2"),
    reference_name("mobilenet_v2", shortcut=True),
)


def reference_record(name: str, directory: Path = MODELS) -> dict:
    """The JSON record written next to checkpoint ``name`` by ``python -m labkit.reference.train``."""
    path = Path(directory) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"No record for {name!r} at {path}. Train it with "
            f"`python -m labkit.reference.train` (see its --help), or check out the assets/ folder."
        )
    return json.loads(path.read_text())


def load_reference_model(name: str, directory: Path = MODELS) -> tuple[nn.Module, dict, str]:
    """(model in float32 on the CPU, its record, its default CAM layer) for a checkpoint in ``directory``."""
    if name not in REFERENCE_NAMES:
        raise ValueError(f"Unknown reference classifier {name!r}; choose one of {', '.join(REFERENCE_NAMES)}.")
    record = reference_record(name, directory)
    builder, cam_layer = ARCHITECTURES[record["arch"]]
    model = builder(len(record["classes"]))
    state = torch.load(Path(directory) / f"{name}.pt", map_location="cpu", weights_only=True)
    model.load_state_dict({key: value.float() if value.is_floating_point() else value for key, value in state.items()})
    return model.eval(), record, cam_layer
