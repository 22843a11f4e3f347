"""GAD's complexity and sensitivity per image (Rodrigues et al., Section 5), from :class:`GADMaps`.

The important pixels of the original map and GAD's pixels are wrapped in their convex
hulls (masks M_orig and M_GAD, :func:`labkit.metrics.convex_hulls`); then

    RC           = A(CH_GAD) / A(CH_orig)                       (0 < RC < 1: GAD's region is smaller)
    RS(GAD)      = RS(I, M_GAD, a)                              (:func:`labkit.metrics.sensitivity_ratio`)
    RS(Sup.)     = RS(I, M_orig - M_GAD, a)                     (the supplementary region)

with a the explained output and N_a the ORIGINAL model's raw output (logit). With the
``intersection`` procedure GAD's pixels are a subset of the original's important pixels, so
M_GAD lies inside M_orig; with ``half`` (GAD's own map) it need not. An empty
supplementary region (GAD kept the whole hull) gives RS(Sup.) = NaN; an empty GAD
selection gives an empty hull, RC = 0 and RS(GAD) = NaN (not a win for GAD: the paper's wins
are 0 < RC < 1, and :func:`labkit.gad.tables.left_out` counts such images).

:func:`hulls_by_method` scores every method on a few images (the paper's Figures 4 and 6), and
:func:`least_activated` picks the images Figure 6 shows: those each class's own output rates lowest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from labkit.gad.maps import METHODS, GADMaps, check_procedure, gad, importance_maps, method_options, select
from labkit.gad.support import SupportModel
from labkit.metrics.hull import Hulls, convex_hulls, sensitivity_ratio


def mask_hulls(masks: torch.Tensor) -> Hulls:
    """The convex hull of each (H, W) bool mask of ``masks`` (B, H, W); an empty mask has an empty hull."""
    hulls = convex_hulls(masks.float(), threshold=1.0)  # a binary map's pixels >= its maximum: the mask itself
    empty = ~masks.flatten(1).any(1)
    hulls.masks[empty] = False
    hulls.areas[empty] = 0
    return Hulls(hulls.masks, hulls.areas, masks)


@dataclass
class GADScores:
    """Per image (B,): hull areas, RC, and RS of GAD's hull and of the supplementary region."""

    original_area: torch.Tensor
    gad_area: torch.Tensor
    complexity_ratio: torch.Tensor
    rs_gad: torch.Tensor
    rs_supplementary: torch.Tensor
    original_hull: torch.Tensor
    gad_hull: torch.Tensor


def gad_scores(model: nn.Module, inputs: torch.Tensor, result: GADMaps) -> GADScores:
    """RC and RS for each image of ``inputs`` (preprocessed, as given to :func:`labkit.gad.gad`)."""
    original, selected = mask_hulls(result.original_mask), mask_hulls(result.mask)
    supplementary = original.masks & ~selected.masks
    rs_gad = sensitivity_ratio(model, inputs, selected.masks, result.targets)
    rs_sup = sensitivity_ratio(model, inputs, supplementary, result.targets)
    return GADScores(
        original.areas.cpu(),
        selected.areas.cpu(),
        (selected.areas.float() / original.areas.float()).cpu(),
        rs_gad.cpu(),
        rs_sup.cpu(),
        original.masks.cpu(),
        selected.masks.cpu(),
    )


def hulls_by_method(
    model: nn.Module,
    supports: Sequence[SupportModel],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    methods: Sequence[str] = tuple(METHODS),
    ig_steps: int = 16,
    **rule,
) -> dict[str, tuple[GADMaps, GADScores]]:
    """GAD's maps and scores of each method of :data:`METHODS` (by abbreviation) for ``inputs`` and ``targets``;
    ``rule`` (``fraction``, ``threshold``, ``procedure``, ``agreement``) goes to :func:`labkit.gad.gad`."""
    models, alphas = [s.model for s in supports], [s.alpha for s in supports]
    results = {}
    for name in methods:
        options = method_options(name, ig_steps)
        result = gad(METHODS[name], model, models, inputs, targets, alphas=alphas, **rule, **options)
        results[name] = (result, gad_scores(model, inputs, result))
    return results


def scores_by_procedure(
    model: nn.Module,
    supports: Sequence[SupportModel],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    method: str,
    procedures: Sequence[str],
    *,
    ig_steps: int = 16,
    **rule,
) -> dict[str, tuple[GADMaps, GADScores]]:
    """GAD's maps and scores of ``method`` (an abbreviation of :data:`METHODS`) for each of ``procedures``, from
    ONE set of importance maps (the costly part): the same as :func:`hulls_by_method` once per procedure.
    ``rule`` (``fraction``, ``threshold``) goes to :func:`labkit.gad.maps.select`."""
    for procedure in procedures:
        check_procedure(procedure)
    models = [model, *(s.model for s in supports)]
    maps = importance_maps(METHODS[method], models, inputs, targets, **method_options(method, ig_steps))
    alphas = [0.0, *(s.alpha for s in supports)]
    results = {}
    for procedure in procedures:
        result = select(maps, targets, alphas, procedure=procedure, **rule)
        results[procedure] = (result, gad_scores(model, inputs, result))
    return results


def least_activated(logits: torch.Tensor, labels: torch.Tensor, per_class: int = 2) -> torch.Tensor:
    """Indices of the ``per_class`` images of each class (in class order) whose own-class output in ``logits``
    (N, K) is lowest, least activated first: the images the paper's Figure 6 explains."""
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        shapes = f"{tuple(logits.shape)} and {tuple(labels.shape)}"
        raise ValueError(f"Expected (N, K) logits and (N,) labels, got {shapes}.")
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}.")
    own = logits.gather(1, labels[:, None].long())[:, 0]
    chosen = []
    for label in labels.unique(sorted=True):
        members = (labels == label).nonzero()[:, 0]
        chosen.append(members[own[members].argsort()[:per_class]])
    return torch.cat(chosen)
