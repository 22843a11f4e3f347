"""The fine-tuned classifiers shipped for lab 8: saving (float16, with a JSON record) and loading.

``python -m labkit.interpretable.experiments methods`` writes ``interpretable_<arch>_baseline``
(lambda = 0) and ``interpretable_<arch>_cosine`` to ``assets/models/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from labkit.paths import MODELS
from labkit.reference.architectures import ARCHITECTURES


def shipped_name(arch: str, error: str | None) -> str:
    """``interpretable_<arch>_baseline`` (``error=None``) or ``interpretable_<arch>_<error>``."""
    return f"interpretable_{arch}_{error or 'baseline'}"


def save_shipped(model: nn.Module, record: dict, name: str, directory: Path = MODELS) -> Path:
    """Write ``<name>.pt`` (float16 state dict) and ``<name>.json`` (``record``); return the checkpoint's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {key: value.half() if value.is_floating_point() else value for key, value in model.state_dict().items()}
    torch.save(state, directory / f"{name}.pt")
    (directory / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return directory / f"{name}.pt"


def load_shipped(name: str, directory: Path = MODELS) -> tuple[nn.Module, dict, str]:
    """(model in float32 on the CPU in eval mode, its record, its default CAM layer)."""
    path = Path(directory) / f"{name}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"No checkpoint {name!r} in {directory}. Make it with `python -m labkit.interpretable.experiments methods`."
        )
    record = json.loads((Path(directory) / f"{name}.json").read_text())
    builder, layer = ARCHITECTURES[record["config"]["arch"]]
    model = builder(len(record["classes"]))
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({key: value.float() if value.is_floating_point() else value for key, value in state.items()})
    return model.eval(), record, layer
