import pytest
import torch

import labkit
from labkit.grader.references import ReferenceUsedError, forbid
from labkit.guards import hook_count
from labkit.viz import show_heatmap, show_maps, show_topk
from labkit.widgets import SliderPlot, occlusion_explorer


def test_occlusion_sliders_redraw_and_reuse_the_cache(classifier, monkeypatch):
    calls = []
    original = labkit.widgets.occlusion.occlusion

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(labkit.widgets.occlusion, "occlusion", counting)
    explorer = occlusion_explorer(classifier, labkit.sample_image("coffee"), patch=112, stride=56)
    first = explorer.output.outputs
    assert len(calls) == 1 and first and "image/png" in first[0]["data"]
    explorer.sliders["stride"].value = 48
    assert len(calls) == 2 and calls[-1]["stride"] == 48
    assert explorer.output.outputs[0]["data"]["image/png"] != first[0]["data"]["image/png"]
    explorer.sliders["stride"].value = 56  # back to a value already seen: from the cache
    assert len(calls) == 2 and explorer.output.outputs[0]["data"]["image/png"] == first[0]["data"]["image/png"]
    assert all(not s.continuous_update for s in explorer.sliders.values())


def test_slider_plot_passes_slider_values():
    import ipywidgets
    import matplotlib.pyplot as plt

    seen = []

    def draw(result, a):
        seen.append((result, a))
        return plt.figure()

    plot = SliderPlot(lambda a: a * 10, draw, a=ipywidgets.IntSlider(1, min=0, max=5))
    plot.sliders["a"].value = 3
    assert seen == [(10, 1), (30, 3)]


def test_forbid_blocks_the_reference_however_it_was_imported(toy_model):
    from labkit.attribution.occlusion import occlusion as imported_directly

    def student_answer(model, x):
        return imported_directly(model, x, patch=8, stride=8)

    x = torch.randn(1, 3, 16, 16)
    expected = student_answer(toy_model, x)
    with forbid(labkit.occlusion), pytest.raises(ReferenceUsedError, match="write the method yourself"):
        student_answer(toy_model, x)
    assert torch.equal(student_answer(toy_model, x), expected)  # allowed again afterwards
    assert hook_count(toy_model) == 0


def test_plots_draw_without_error():
    import matplotlib.pyplot as plt

    image = labkit.sample_image("rocket")
    show_heatmap(image, torch.rand(7, 7), title="map", colorbar=True)
    figure = show_maps(image, [torch.rand(7, 7), torch.rand(224, 224)], ["a", "b"])
    assert len(figure.axes) == 2
    show_topk([(657, "missile", 0.3), (744, "projectile", 0.16)], title="top")
    with pytest.raises(ValueError, match="one \\(h, w\\) map"):
        show_heatmap(image, torch.rand(1, 7, 7))
    plt.close("all")
