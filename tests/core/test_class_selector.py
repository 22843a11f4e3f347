"""The class/method dropdowns of labs 4 and 5 redraw on change and reuse their cache."""

import pytest
import torch

import labkit
from labkit.attribution import grad_cam, guided_backprop
from labkit.widgets.class_selector import class_explorer


def test_class_dropdown_recomputes_for_the_chosen_class_and_caches(classifier):
    calls = []

    def counting(model, inputs, target):
        calls.append(int(target))
        return grad_cam(model, inputs, target)

    explorer = class_explorer(
        classifier, labkit.sample_image("cat_and_coffee"), {"Grad-CAM": counting, "guided": guided_backprop}, k=5
    )
    first = explorer.output.outputs[0]["data"]["image/png"]
    classes = [value for _label, value in explorer.sliders["target"].options]
    assert len(classes) == 5 and 285 in classes and 967 in classes and calls == [classes[0]]
    explorer.sliders["target"].value = 967
    assert calls[-1] == 967 and explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.sliders["method"].value = "guided"
    assert len(calls) == 2  # the other method ran, not this one
    explorer.sliders["method"].value = "Grad-CAM"
    explorer.sliders["target"].value = classes[0]  # seen before: from the cache
    assert len(calls) == 2 and explorer.output.outputs[0]["data"]["image/png"] == first


def test_class_explorer_needs_a_method(classifier):
    with pytest.raises(ValueError, match="at least one method"):
        class_explorer(classifier, torch.rand(3, 32, 32), {})
