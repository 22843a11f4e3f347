"""Shipped support models: float16 state dicts in ``assets/models/gad/`` with a JSON record.

``<name>_alpha<k>.pt`` holds the fine-tuned copy of the original model for alpha = k, and
``<name>.json`` records the command that trained them, the alphas and the losses.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
from torch import nn

from labkit.gad.support import SupportModel
from labkit.paths import MODELS

#: Where the support models of the recorded experiments are stored.
SUPPORT_DIR = MODELS / "gad"


def _path(directory: Path, name: str, alpha: float) -> Path:
    return Path(directory) / f"{name}_alpha{alpha:g}.pt"


def save_support_models(
    supports: list[SupportModel], name: str, record: dict, directory: str | Path = SUPPORT_DIR
) -> Path:
    """Write each support model (float16) and ``<name>.json`` (``record`` plus alphas and losses)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for support in supports:
        state = {k: v.half() if v.is_floating_point() else v for k, v in support.model.state_dict().items()}
        torch.save(state, _path(directory, name, support.alpha))
    record = {
        **record,
        "alphas": [s.alpha for s in supports],
        "losses": {f"{s.alpha:g}": [round(x, 5) for x in s.losses] for s in supports},
        "seconds": {f"{s.alpha:g}": round(s.seconds, 1) for s in supports},
    }
    path = directory / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def load_support_models(model: nn.Module, name: str, directory: str | Path = SUPPORT_DIR) -> list[SupportModel]:
    """The shipped support models of ``name``: copies of ``model`` (the original) with the stored weights."""
    record_path = Path(directory) / f"{name}.json"
    if not record_path.is_file():
        raise FileNotFoundError(
            f"No support models named {name!r} in {directory}. Train them with "
            "`python -m labkit.gad.experiments run --save-models`, or check out the assets/ folder."
        )
    record = json.loads(record_path.read_text())
    supports = []
    for alpha in record["alphas"]:
        state = torch.load(_path(directory, name, alpha), map_location="cpu", weights_only=True)
        copied = copy.deepcopy(model).cpu()
        copied.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        copied.eval().to(next(model.parameters()).device)
        key = f"{alpha:g}"
        supports.append(SupportModel(float(alpha), copied, record["losses"][key], record["seconds"][key]))
    return supports
