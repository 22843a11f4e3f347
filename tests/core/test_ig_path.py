"""The straight path of Integrated Gradients (labkit.attribution.ig_path), its alpha slider and map display."""

import pytest
import torch

import labkit
from labkit.attribution import integrated_gradients
from labkit.attribution.ig_path import (
    completeness_gap,
    completeness_gaps,
    path_alphas,
    path_points,
    path_profile,
    path_scores,
)
from labkit.guards import hook_count
from labkit.models import LITE_NORMALIZATION, Classifier
from labkit.toy_models import toy_classifier
from labkit.viz.pixel_maps import clipped_magnitude
from labkit.widgets.alpha_path import alpha_explorer

RULES = ["riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"]


@pytest.fixture()
def toy_case():
    model = toy_classifier(3)
    generator = torch.Generator().manual_seed(3)
    return model, torch.randn(3, 10, 12, generator=generator), torch.randn(3, 10, 12, generator=generator)


def test_path_points_run_from_the_baseline_to_the_input(toy_case):
    _model, x, baseline = toy_case
    points = path_points(x, baseline, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.equal(points[0], baseline) and torch.allclose(points[2], x)
    assert torch.allclose(points[1], (x + baseline) / 2)
    assert torch.equal(path_points(x, 0.0, torch.tensor([0.25]))[0], x / 4)
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        path_points(x[None], baseline, torch.tensor([0.5]))


@pytest.mark.parametrize("n_steps", [2, 5])
def test_profile_gaps_equal_the_gaps_of_integrated_gradients(toy_case, n_steps):
    model, x, baseline = toy_case
    profile = path_profile(model, x, 1, path_alphas(RULES, [n_steps]), baseline=baseline, batch_size=3)
    gaps = completeness_gaps(profile, RULES, [n_steps])
    for rule in RULES:
        _maps, gap = integrated_gradients(
            model, x[None], 1, baseline=baseline, n_steps=n_steps, method=rule, return_gap=True
        )
        assert gaps.loc[n_steps, rule] == pytest.approx(float(gap), abs=1e-4)
    assert hook_count(model) == 0 and all(p.requires_grad for p in model.parameters())


def test_profile_scores_match_the_forward_pass_and_the_slope_is_the_derivative(toy_case):
    model, x, baseline = toy_case
    alphas = torch.tensor([0.3, 0.3 + 1e-3], dtype=torch.float64)
    profile = path_profile(model, x, 2, alphas, baseline=baseline)
    scores, probabilities = path_scores(model, x, 2, alphas, baseline=baseline)
    assert torch.allclose(profile.scores, scores, atol=1e-5)
    assert torch.allclose(profile.probabilities, probabilities, atol=1e-6)
    finite_difference = (scores[1] - scores[0]) / 1e-3
    assert float(profile.slopes[0]) == pytest.approx(float(finite_difference), rel=1e-2, abs=1e-3)


def test_profile_refuses_rules_it_was_not_computed_for(toy_case):
    model, x, baseline = toy_case
    profile = path_profile(model, x, 0, path_alphas(["riemann_right"], [4]), baseline=baseline)
    with pytest.raises(ValueError, match="not in this profile"):
        profile.gap("riemann_middle", 4)
    with pytest.raises(ValueError, match="one preprocessed input"):
        path_profile(model, torch.stack([x, x]), 0, torch.tensor([0.5]))


def test_completeness_gap_is_zero_for_exact_attributions_of_a_linear_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    x, baseline = torch.randn(2, 3, 2, 2), torch.randn(2, 3, 2, 2)
    exact = (x - baseline) * model[1].weight[[2, 0]].detach().view(2, 3, 2, 2)
    assert torch.allclose(completeness_gap(model, x, baseline, torch.tensor([2, 0]), exact), torch.zeros(2), atol=1e-5)


def test_alpha_slider_redraws_and_reuses_the_cache(monkeypatch):
    classifier = Classifier("toy", toy_classifier(4), LITE_NORMALIZATION, ["a", "b", "c", "d"], "3")
    calls = []
    original = labkit.widgets.alpha_path.path_scores

    def counting(*args, **kwargs):
        calls.append(args[3])
        return original(*args, **kwargs)

    monkeypatch.setattr(labkit.widgets.alpha_path, "path_scores", counting)
    explorer = alpha_explorer(classifier, torch.rand(3, 16, 16), step=0.25, alpha=0.5)
    first = explorer.output.outputs[0]["data"]["image/png"]
    assert len(calls) == 1 and torch.allclose(calls[0], torch.tensor([0.0, 0.25, 0.5]))
    explorer.sliders["alpha"].value = 1.0  # only the points not seen yet
    assert len(calls) == 2 and torch.allclose(calls[1], torch.tensor([0.75, 1.0]))
    assert explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.sliders["alpha"].value = 0.25  # a new figure, all its points known: no forward pass
    assert len(calls) == 2 and explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.sliders["alpha"].value = 0.5  # seen before: from the cache
    assert len(calls) == 2 and explorer.output.outputs[0]["data"]["image/png"] == first
    with pytest.raises(ValueError, match="step"):
        alpha_explorer(classifier, torch.rand(3, 16, 16), step=0)


def test_clipped_magnitude_is_in_the_unit_interval():
    saliency = torch.linspace(-100, 1, 101).reshape(1, 101).expand(3, 101)
    shown = clipped_magnitude(saliency, percentile=90)
    assert shown.shape == (3, 101) and float(shown.max()) == 1.0 and float(shown.min()) >= 0
    assert torch.equal(clipped_magnitude(torch.zeros(2, 2)), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="one \\(h, w\\) map"):
        clipped_magnitude(torch.zeros(3, 2, 2))
