import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from labkit.guards import hook_count
from labkit.metrics import cascading_randomization, spearman, top_down_layers


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 3),
    )


def gradient(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """|d logit / d input|, max over channels."""
    inputs = inputs.clone().requires_grad_(True)
    model(inputs).gather(1, targets[:, None]).sum().backward()
    return inputs.grad.abs().amax(1)


def image_only(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """A map that ignores the model entirely: what the sanity check must expose."""
    return inputs.abs().sum(1)


def test_spearman_matches_scipy_with_ties():
    first = torch.tensor([[[1.0, 2.0], [2.0, 0.0]], [[0.0, 0.0], [1.0, 3.0]]])
    second = torch.tensor([[[3.0, 1.0], [1.0, 1.0]], [[2.0, 1.0], [1.0, 5.0]]])
    expected = [spearmanr(a.flatten(), b.flatten()).statistic for a, b in zip(first, second)]
    np.testing.assert_allclose(spearman(first, second), expected)
    assert np.isnan(spearman(torch.ones(1, 2, 2), first[:1])[0])  # constant map: undefined


def test_model_independent_maps_pass_unchanged_and_gradients_decay():
    model = small_cnn()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    inputs = torch.rand(4, 3, 12, 12)
    table = cascading_randomization(model, inputs, {"gradient": gradient, "input": image_only}, targets=0)
    assert top_down_layers(model) == ["6", "2", "0"]
    assert list(table.layer.unique()) == ["trained", "6", "2", "0"]
    mean = table.groupby(["layer", "method"], sort=False).spearman.mean()
    assert mean["trained", "gradient"] == pytest.approx(1.0)
    for layer in ("6", "2", "0"):
        assert mean[layer, "input"] == pytest.approx(1.0)
    assert mean["0", "gradient"] < 0.5
    assert len(table) == 4 * 2 * 4  # (trained + 3 layers) x 2 methods x 4 images
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert hook_count(model) == 0


def test_chosen_layers_and_seed_make_it_reproducible():
    model = small_cnn()
    inputs = torch.rand(2, 3, 12, 12)
    first = cascading_randomization(model, inputs, {"gradient": gradient}, layers=["6"], seed=3)
    again = cascading_randomization(model, inputs, {"gradient": gradient}, layers=["6"], seed=3)
    np.testing.assert_allclose(first.spearman, again.spearman)
    assert list(first.layer.unique()) == ["trained", "6"]


def test_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        cascading_randomization(model, torch.rand(1, 3, 8, 8), {"gradient": gradient}, layers=["nope"])
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        cascading_randomization(model, torch.rand(1, 3, 8, 8), {"bad": lambda m, x, t: x})
