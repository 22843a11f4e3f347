"""GAD's maps (Rodrigues et al., Section 4.3): keep only the pixels every model agrees on.

A pixel gradient method (saliency, deconvnet, gradient x input, guided backprop, Integrated
Gradients: any ``method(model, inputs, targets) -> (B, H, W)``) explains the same target
output of the original model (alpha = 0) and of every support model. Each map's importance
is its absolute value (as Captum's default visualisation, so that gradient x input and IG,
which are signed, rank pixels by magnitude), and its important pixels are the most
important ``fraction`` of them (the paper's experiments, Section 6: "we filtered out 50 % of
the pixels, retaining only the most important half", :data:`labkit.metrics.GAD_FRACTION`; ties
in a fixed random order, :func:`labkit.metrics.important_pixels`), or those reaching
``threshold`` times the map's maximum (its Figure 4 uses 10 %).

``"intersection"`` (the default) is the paper's stated rule: GAD's map holds the features
present in ALL the maps, the original's and every support model's (Figure 3: "the final
attribution map includes only features present in all five attribution maps"; Section 4:
GAD "must not introduce new crucial pixels that were absent in the original explanation";
Section 4.3: "the consistently important features across all networks"). ``agreement`` relaxes
"all" to "at least that many". GAD's pixels are then a subset of the original's, so RC <= 1.

``"half"`` is an alternative reading that the paper does not state, which the lab tests: GAD's
result treated as an explanation of its own whose most important half is hulled like the
original's. GAD's map is the per-pixel minimum of the min-max normalised maps of all the models
(a pixel counts for GAD as much as for the model that finds it least important), and GAD's
pixels are that map's most important ``fraction`` (or those reaching ``threshold``). They need
not lie inside the original's, so GAD's hull can be larger (RC > 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from labkit.attribution import deconvnet, gradient_x_input, guided_backprop, integrated_gradients, saliency
from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.images import as_batch
from labkit.metrics.common import minmax
from labkit.metrics.hull import GAD_FRACTION, important_pixels
from labkit.targets import Method, Targets, targets_from_outputs

#: The paper's five methods, by the abbreviations of its tables.
METHODS: dict[str, Method] = {
    "S": saliency,
    "D": deconvnet,
    "GxI": gradient_x_input,
    "GB": guided_backprop,
    "IG": integrated_gradients,
}


def method_options(name: str, ig_steps: int = 16) -> dict:
    """Extra options of a method of :data:`METHODS` (IG's number of steps)."""
    return {"n_steps": ig_steps} if name == "IG" else {}


#: How GAD's pixels are chosen: in every model's important set, or the important set of GAD's own map.
PROCEDURES = ("intersection", "half")


def agreement_map(maps: torch.Tensor) -> torch.Tensor:
    """(B, H, W): GAD's own map for the ``"half"`` procedure, min over the M models of each (M, B, H, W)
    map min-max normalised to [0, 1]."""
    if maps.ndim != 4:
        raise ValueError(f"Expected maps of shape (M, B, H, W) (one stack of maps per model), got {tuple(maps.shape)}.")
    return minmax(maps.flatten(0, 1)).view_as(maps).amin(0)


def important_stack(maps: torch.Tensor, fraction: float | None = None, threshold: float | None = None) -> torch.Tensor:
    """(M, B, H, W) bool: each map's important pixels (:func:`labkit.metrics.important_pixels`; default: top half)."""
    if maps.ndim != 4:
        raise ValueError(f"Expected maps of shape (M, B, H, W) (one stack of maps per model), got {tuple(maps.shape)}.")
    if fraction is None and threshold is None:
        fraction = GAD_FRACTION
    return torch.stack([important_pixels(m, fraction=fraction, threshold=threshold) for m in maps])


def agreed(important: torch.Tensor, agreement: int | None = None) -> torch.Tensor:
    """(B, H, W) bool: pixels important in at least ``agreement`` of the M maps (default: all of them)."""
    needed = len(important) if agreement is None else agreement
    if not 1 <= needed <= len(important):
        raise ValueError(f"agreement must be between 1 and the number of maps ({len(important)}), got {agreement}.")
    return important.sum(0) >= needed


@reference
def gad_mask(
    maps: torch.Tensor | Sequence[torch.Tensor],
    fraction: float | None = None,
    *,
    threshold: float | None = None,
    agreement: int | None = None,
) -> torch.Tensor:
    """(B, H, W) bool: the pixels important in at least ``agreement`` of the maps (default: all).

    ``maps`` (M, B, H, W) are importance maps (larger = more important), one per model; a
    pixel is important in a map when it is among the ``fraction`` most important (default
    :data:`GAD_FRACTION`, one half) or, with ``threshold``, reaches ``threshold`` x max after
    min-max normalisation. With the default rule the result is the intersection of the maps'
    important pixels.
    """
    stack = maps if isinstance(maps, torch.Tensor) else torch.stack(list(maps))
    return agreed(important_stack(stack, fraction, threshold), agreement)


@dataclass
class GADMaps:
    """The maps of the original model and of each support model, and GAD's selection.

    ``alphas`` (M,) with 0 for the original first; ``maps`` (M, B, H, W) the importance
    (absolute) maps; ``important`` (M, B, H, W) each map's important pixels; ``mask`` (B, H, W)
    GAD's important pixels (chosen by ``procedure``, one of :data:`PROCEDURES`); ``targets`` (B,)
    the explained output.
    """

    alphas: list[float]
    maps: torch.Tensor
    important: torch.Tensor
    mask: torch.Tensor
    targets: torch.Tensor
    procedure: str = "intersection"

    @property
    def original(self) -> torch.Tensor:
        """The original model's importance maps (B, H, W)."""
        return self.maps[0]

    @property
    def original_mask(self) -> torch.Tensor:
        """The original map's important pixels (B, H, W) bool."""
        return self.important[0]

    @property
    def gad_maps(self) -> torch.Tensor:
        """GAD's attribution maps (B, H, W): the original importance on GAD's pixels, 0 elsewhere."""
        return self.original * self.mask

    @property
    def agreement(self) -> torch.Tensor:
        """GAD's own map (B, H, W), whose important pixels the ``"half"`` procedure keeps."""
        return agreement_map(self.maps)


def importance_maps(
    method: Method, models: Sequence[nn.Module], inputs: torch.Tensor, targets: torch.Tensor, **options
) -> torch.Tensor:
    """(M, B, H, W): |method(model, inputs, targets)| for each model, on the CPU."""
    return torch.stack(
        [method(model, inputs.to(model_device(model)), targets, **options).detach().abs().cpu() for model in models]
    )


def gad(
    method: Method,
    model: nn.Module,
    supports: Sequence[nn.Module],
    inputs: torch.Tensor,
    targets: Targets = None,
    *,
    alphas: Sequence[float] | None = None,
    fraction: float | None = None,
    threshold: float | None = None,
    agreement: int | None = None,
    procedure: str = "intersection",
    **options,
) -> GADMaps:
    """GAD's maps for ``method`` on preprocessed ``inputs`` (B, 3, H, W): original, support models, selection.

    ``targets`` are the outputs to explain (default: the original model's predicted class,
    used for every model); ``alphas`` label the support models (for plots); ``options`` go to
    ``method`` (e.g. ``n_steps`` for IG). With ``procedure="intersection"`` the rule
    (``fraction``/``threshold``/``agreement``) is :func:`gad_mask`'s; with ``"half"`` GAD's pixels
    are the important pixels (``fraction``/``threshold``) of :func:`agreement_map`.
    """
    check_procedure(procedure, agreement)
    if not supports:
        raise ValueError("GAD needs at least one support model (see labkit.gad.train_support_models).")
    labels = [0.0, *(alphas if alphas is not None else range(1, len(supports) + 1))]
    if len(labels) != len(supports) + 1:
        raise ValueError(f"Got {len(labels) - 1} alphas for {len(supports)} support models.")
    inputs = as_batch(inputs)
    with model_guard(model), torch.no_grad():
        targets = targets_from_outputs(model(inputs.to(model_device(model))), targets)
    maps = importance_maps(method, [model, *supports], inputs, targets, **options)
    return select(
        maps, targets, labels, procedure=procedure, fraction=fraction, threshold=threshold, agreement=agreement
    )


def check_procedure(procedure: str, agreement: int | None = None) -> None:
    """A ValueError that says what to choose if ``procedure`` is unknown or ``agreement`` does not belong to it."""
    if procedure not in PROCEDURES:
        raise ValueError(f"Unknown procedure {procedure!r}; choose one of {', '.join(PROCEDURES)}.")
    if procedure == "half" and agreement is not None:
        raise ValueError("agreement (how many maps must agree) belongs to the 'intersection' procedure.")


def select(
    maps: torch.Tensor,
    targets: torch.Tensor,
    alphas: Sequence[float],
    *,
    procedure: str = "intersection",
    fraction: float | None = None,
    threshold: float | None = None,
    agreement: int | None = None,
) -> GADMaps:
    """GAD's selection from the importance ``maps`` (M, B, H, W) of the original (first, alpha 0 in ``alphas``)
    and the support models, by ``procedure`` and its rule (see :func:`gad`): one set of maps, several procedures."""
    check_procedure(procedure, agreement)
    important = important_stack(maps, fraction, threshold)
    if procedure == "half":
        mask = important_stack(agreement_map(maps)[None], fraction, threshold)[0]
    else:
        mask = agreed(important, agreement)
    return GADMaps([float(a) for a in alphas], maps, important, mask, targets.cpu(), procedure)
