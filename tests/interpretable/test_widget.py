"""Lab 8's method selector: changing the map kind redraws; a kind already seen comes from the cache."""

import torch

import labkit.widgets.interpretable as explorer_module
from labkit.data.dataset import SHAPES_NORMALIZATION
from labkit.guards import hook_count
from labkit.toy_models import tiny_train_cnn
from labkit.widgets.interpretable import model_comparison_explorer, model_maps


def test_selector_redraws_and_reuses_the_cache(monkeypatch):
    models = {"a": tiny_train_cnn(0).train(), "b": tiny_train_cnn(1)}
    images, targets = torch.rand(3, 3, 8, 8), torch.tensor([0, 1, 2])
    calls = []
    original = explorer_module.model_maps
    monkeypatch.setattr(explorer_module, "model_maps", lambda *args: calls.append(args[3]) or original(*args))
    explorer = model_comparison_explorer(models, images, targets, preprocess=SHAPES_NORMALIZATION, layer="3")
    first = explorer.output.outputs[0]["data"]["image/png"]
    explorer.sliders["kind"].value = "Grad-CAM"
    assert explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.sliders["kind"].value = "gradient"
    assert explorer.output.outputs[0]["data"]["image/png"] == first
    assert calls == ["gradient", "gradient", "Grad-CAM", "Grad-CAM"]
    assert models["a"].training and hook_count(models["a"]) == 0


def test_guided_maps_are_non_negative_and_sized_like_the_images():
    maps = model_maps(tiny_train_cnn(), torch.randn(2, 3, 8, 8), torch.tensor([0, 1]), "guided gradient", "3")
    assert maps.shape == (2, 8, 8) and bool((maps >= 0).all())
