"""What every metric needs: checked maps, min-max normalisation, batched class scores."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from labkit.batching import chosen_batch_size
from labkit.device import model_device
from labkit.guards import model_guard
from labkit.images import as_batch, check_finite
from labkit.targets import Targets, select_score, targets_from_outputs


def check_maps(maps: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """``maps`` as a float (B, H, W) tensor on the inputs' device, after checking it fits (B, 3, H, W) inputs."""
    inputs = as_batch(inputs)
    if not isinstance(maps, torch.Tensor):
        raise TypeError(f"Expected the maps as a tensor of shape (B, H, W), got {type(maps).__name__}.")
    if maps.ndim == 2 and inputs.shape[0] == 1:
        maps = maps.unsqueeze(0)
    expected = (inputs.shape[0], *inputs.shape[-2:])
    if tuple(maps.shape) != expected:
        hint = ""
        if maps.ndim == 4:
            hint = " Reduce the channels first (e.g. maps.abs().amax(1))."
        elif maps.ndim == 3 and maps.shape[0] == expected[0]:
            hint = " Upsample the maps to the image size first (bilinear, e.g. torch.nn.functional.interpolate)."
        raise ValueError(
            f"Expected one (H, W) map per image, i.e. maps of shape {expected} for inputs of shape "
            f"{tuple(inputs.shape)}; got maps of shape {tuple(maps.shape)}.{hint}"
        )
    maps = maps.detach().to(inputs.device, torch.float32)
    check_finite_maps(maps)
    return maps


def check_finite_maps(maps: torch.Tensor) -> None:
    """A ValueError when ``maps`` hold NaN or infinite values."""
    check_finite(maps, "The maps", "fix the method that made them")


def minmax(maps: torch.Tensor) -> torch.Tensor:
    """Each (H, W) map rescaled to [0, 1] by (m - min) / (max - min); a constant map becomes all ones.

    A constant map ranks no pixel above another, so it keeps the whole image (ones).
    """
    check_finite_maps(maps)
    flat = maps.flatten(1)
    low, high = flat.amin(1), flat.amax(1)
    span = (high - low)[:, None, None]
    scaled = (maps - low[:, None, None]) / span.clamp_min(torch.finfo(maps.dtype).tiny)
    return torch.where(span > 0, scaled, torch.ones_like(maps))


def target_source(targets: Targets) -> str:
    """``"given"`` when the caller named the classes, ``"predicted"`` when they are the argmax."""
    return "predicted" if targets is None else "given"


def scores_of(
    model: nn.Module,
    build: Callable[[torch.Tensor], torch.Tensor],
    targets: torch.Tensor,
    *,
    score: str = "probability",
    batch_size: int | None = None,
    progress: bool = False,
    desc: str = "scoring",
) -> torch.Tensor:
    """Scores (N,) of ``targets[i]`` on the input ``build(index)`` returns for items ``index``.

    ``build`` maps a (b,) long tensor of item indices to the (b, 3, H, W) inputs for them;
    the N = len(targets) items run ``batch_size`` at a time (default: as many as fit).
    """
    n = len(targets)
    device = targets.device
    batch_size = chosen_batch_size(batch_size, model, build(torch.zeros(1, dtype=torch.long, device=device)), limit=n)
    scores = torch.empty(n, device=device)
    with model_guard(model), torch.no_grad():
        for start in tqdm(range(0, n, batch_size), desc=desc, disable=not progress, leave=False):
            index = torch.arange(start, min(start + batch_size, n), device=device)
            scores[index] = select_score(model(build(index)), targets[index], score).float()
    return scores


def resolved(model: nn.Module, inputs: torch.Tensor, targets: Targets, score: str = "probability"):
    """(inputs on the model's device, targets (B,), scores of the unperturbed inputs (B,))."""
    inputs = as_batch(inputs).to(model_device(model))
    with model_guard(model), torch.no_grad():
        outputs = model(inputs)
    classes = targets_from_outputs(outputs, targets)
    return inputs, classes, select_score(outputs, classes, score).float()
