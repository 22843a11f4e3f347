"""Shipped support models: each one's change from the original model, in 8 bits, with a JSON record.

A support model is the original fine-tuned for a few epochs at a small learning rate, so its
weights differ from the original's by little (at most about 5e-3 for the shipped ones). The
change of each floating-point tensor is stored as int8 with one scale per tensor,

    delta = w_support - w_original  ~  scale * q,   q = round(delta / scale) in [-127, 127],
    scale = max |delta| / 127,

an error of at most scale / 2 per weight (about 2e-5; float16 weights err by about as much), in
an LZMA-compressed ``<name>_alpha<k>.npz`` (:func:`write_npz`; a third of the float16 weights' size). Tensors that are
not floating point (BatchNorm's batch counters) are stored as they are. ``<name>.json``
records the command that trained them, the alphas, the losses, and a fingerprint of the
original's weights: the changes only make sense added to the same original, so loading them
onto another one (a re-trained ``shapes_*`` checkpoint) raises an error that says to re-train.
"""

from __future__ import annotations

import copy
import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from labkit.gad.support import SupportModel
from labkit.paths import MODELS

#: Where the support models of the recorded experiments are stored.
SUPPORT_DIR = MODELS / "gad"


def _path(directory: Path, name: str, alpha: float) -> Path:
    return Path(directory) / f"{name}_alpha{alpha:g}.npz"


def fingerprint(model: nn.Module) -> str:
    """SHA-256 of ``model``'s state (names and float32 values): which original the stored changes belong to."""
    digest = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def quantised_change(support: nn.Module, original: nn.Module) -> dict[str, np.ndarray]:
    """The arrays stored for ``support``: ``<key>|q`` (int8) and ``<key>|scale`` per floating-point tensor of the
    state, the tensor itself under ``<key>`` otherwise."""
    base = original.state_dict()
    arrays = {}
    for key, value in support.state_dict().items():
        if not value.is_floating_point():
            arrays[key] = value.cpu().numpy()
            continue
        delta = value.detach().float().cpu() - base[key].detach().float().cpu()
        scale = float(delta.abs().max()) / 127
        q = torch.round(delta / scale) if scale > 0 else torch.zeros_like(delta)
        arrays[f"{key}|q"] = q.to(torch.int8).numpy()
        arrays[f"{key}|scale"] = np.float32(scale)
    return arrays


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with LZMA instead of deflate (about 9 % smaller on these int8 changes); ``np.load``
    reads it as any ``.npz``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w") as file:
                np.lib.format.write_array(file, np.asanyarray(value), allow_pickle=False)


def restored(original: nn.Module, arrays: dict[str, np.ndarray]) -> nn.Module:
    """A copy of ``original`` with the stored changes added (the inverse of :func:`quantised_change`)."""
    copied = copy.deepcopy(original).cpu()
    state = {}
    for key, value in copied.state_dict().items():
        if value.is_floating_point():
            change = torch.from_numpy(arrays[f"{key}|q"].astype(np.float32)) * float(arrays[f"{key}|scale"])
            state[key] = (value.float() + change).to(value.dtype)
        else:
            state[key] = torch.from_numpy(arrays[key])
    copied.load_state_dict(state)
    return copied.eval().to(next(original.parameters()).device)


def save_support_models(
    supports: list[SupportModel], original: nn.Module, name: str, record: dict, directory: str | Path = SUPPORT_DIR
) -> Path:
    """Write each support model's change from ``original`` and ``<name>.json`` (``record`` plus alphas, losses,
    seconds and the original's fingerprint)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for support in supports:
        write_npz(_path(directory, name, support.alpha), quantised_change(support.model, original))
    record = {
        **record,
        "original_fingerprint": fingerprint(original),
        "alphas": [s.alpha for s in supports],
        "losses": {f"{s.alpha:g}": [round(x, 5) for x in s.losses] for s in supports},
        "seconds": {f"{s.alpha:g}": round(s.seconds, 1) for s in supports},
    }
    path = directory / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def load_support_models(model: nn.Module, name: str, directory: str | Path = SUPPORT_DIR) -> list[SupportModel]:
    """The shipped support models of ``name``: copies of ``model`` (the original they were trained from) with the
    stored changes added."""
    record_path = Path(directory) / f"{name}.json"
    retrain = f"`python -m labkit.gad.experiments train --model {name}`"
    if not record_path.is_file():
        raise FileNotFoundError(
            f"No support models named {name!r} in {directory}. Train them with {retrain}, "
            "or check out the assets/ folder."
        )
    record = json.loads(record_path.read_text())
    if record.get("original_fingerprint") != fingerprint(model):
        raise ValueError(
            f"The support models {name!r} in {directory} were trained from other weights than this model's "
            f"(the {name} checkpoint changed since). Re-train them with {retrain}."
        )
    supports = []
    for alpha in record["alphas"]:
        with np.load(_path(directory, name, alpha), allow_pickle=False) as stored:
            copied = restored(model, dict(stored))
        key = f"{alpha:g}"
        supports.append(SupportModel(float(alpha), copied, record["losses"][key], record["seconds"][key]))
    return supports
