import pytest
import torch

import labkit
from labkit.widgets.method_selector import method_explorer


def test_method_dropdown_redraws_and_reuses_the_cache(classifier):
    calls = []

    def constant(value):
        def method(model, inputs, targets):
            calls.append((value, targets))
            return torch.full((len(inputs), 7, 7), value) + torch.eye(7) * value

        return method

    images = {"coffee": labkit.sample_image("coffee", size=64), "rocket": labkit.sample_image("rocket", size=64)}
    explorer = method_explorer(classifier, images, {"one": constant(1.0), "two": constant(2.0)})
    first = explorer.output.outputs[0]["data"]["image/png"]
    assert calls == [(1.0, [int(classifier.probabilities(images["coffee"]).argmax())])]
    explorer.sliders["method"].value = "two"
    assert len(calls) == 2 and explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.sliders["image"].value = "rocket"
    assert len(calls) == 3
    explorer.sliders["image"].value = "coffee"
    explorer.sliders["method"].value = "one"  # both seen before: from the cache
    assert len(calls) == 3 and explorer.output.outputs[0]["data"]["image/png"] == first


def test_method_explorer_needs_images_and_methods(classifier):
    with pytest.raises(ValueError, match="at least one image and one method"):
        method_explorer(classifier, {}, {"saliency": labkit.attribution.saliency})
