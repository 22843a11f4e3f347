import torch

import labkit.widgets.gad as gad_widget
from labkit.attribution import saliency
from labkit.gad import train_support_models
from labkit.images import Normalization
from labkit.models import Classifier


def test_alpha_slider_redraws_and_reuses_the_cache(two_class_model, small_batch, monkeypatch):
    inputs, labels = small_batch
    supports = train_support_models(two_class_model, inputs, labels, alphas=(2.0, 4.0), epochs=1, progress=False)
    classifier = Classifier("toy", two_class_model, Normalization((0.5,) * 3, (0.25,) * 3), ["a", "b"], "0")
    calls = []
    original = gad_widget.importance_maps

    def counting(method, models, *args, **kwargs):
        calls.append(len(models))
        return original(method, models, *args, **kwargs)

    monkeypatch.setattr(gad_widget, "importance_maps", counting)
    explorer = gad_widget.gad_explorer(classifier, supports, torch.rand(3, 10, 10), 1, saliency)
    first = explorer.output.outputs[0]["data"]["image/png"]
    assert calls == [1] and list(explorer.sliders["alpha"].options) == [0.0, 2.0, 4.0]
    explorer.sliders["alpha"].value = 4.0
    assert calls == [1, 3]  # the original and both support models so far
    assert explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.sliders["alpha"].value = 0.0  # already seen: from the cache
    assert calls == [1, 3] and explorer.output.outputs[0]["data"]["image/png"] == first
