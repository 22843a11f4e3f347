"""Every metric refuses maps with NaN or infinite values instead of ranking or scoring them."""

from __future__ import annotations

import pytest
import torch

from labkit import metrics

MASKS = torch.zeros(2, 8, 8, dtype=torch.bool)
MASKS[:, 2:5, 2:5] = True
INPUTS = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))

#: name -> call(maps, model, preprocess)
CALLS = {
    "minmax": lambda maps, *_: metrics.minmax(maps),
    "saliency_ranks": lambda maps, *_: metrics.saliency_ranks(maps),
    "important_pixels": lambda maps, *_: metrics.important_pixels(maps, fraction=0.5),
    "convex_hulls": lambda maps, *_: metrics.convex_hulls(maps, threshold=0.1),
    "complexity_ratio": lambda maps, *_: metrics.complexity_ratio(maps, torch.rand(2, 8, 8)),
    "pointing_game": lambda maps, *_: metrics.pointing_game(maps, MASKS),
    "energy_pointing_game": lambda maps, *_: metrics.energy_pointing_game(maps, MASKS),
    "insertion": lambda maps, model, _: metrics.insertion(model, INPUTS, maps, pixels_per_step=16),
    "deletion": lambda maps, model, _: metrics.deletion(model, INPUTS, maps, pixels_per_step=16),
    "confidence_scores": lambda maps, model, pre: metrics.confidence_scores(model, INPUTS, maps, preprocess=pre),
}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("name", list(CALLS))
def test_non_finite_maps_are_refused(name, bad, mean_red, identity):
    maps = torch.rand(2, 8, 8, generator=torch.Generator().manual_seed(0))
    maps[1, 3, 4] = bad
    with pytest.raises(ValueError, match="maps contain NaN or infinite values"):
        CALLS[name](maps, mean_red, identity)
