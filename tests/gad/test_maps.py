import pytest
import torch

from labkit.attribution import gradient_x_input, saliency
from labkit.gad import gad, gad_mask, importance_maps, train_support_models
from labkit.gad.maps import agreement_map
from labkit.guards import hook_count
from labkit.metrics import important_pixels


def test_gad_mask_is_the_intersection_of_the_top_halves():
    maps = torch.tensor(
        [
            [[[4.0, 3.0], [2.0, 1.0]]],  # top half: the first row
            [[[4.0, 1.0], [3.0, 2.0]]],  # top half: the first column
        ]
    )
    assert gad_mask(maps).tolist() == [[[True, False], [False, False]]]
    assert gad_mask(maps, agreement=1).tolist() == [[[True, True], [True, False]]]  # the union
    assert gad_mask(maps, 0.75).tolist() == [[[True, False], [True, False]]]
    # threshold: >= 0.5 x max after min-max normalisation (values >= 2.5 here)
    assert gad_mask(maps, threshold=0.5).tolist() == [[[True, False], [False, False]]]
    assert gad_mask(list(maps)).tolist() == gad_mask(maps).tolist()


def test_gad_mask_errors():
    with pytest.raises(ValueError, match=r"\(M, B, H, W\)"):
        gad_mask(torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="agreement must be between 1 and the number of maps"):
        gad_mask(torch.zeros(2, 1, 3, 3), agreement=3)
    with pytest.raises(ValueError, match="either fraction or threshold"):
        gad_mask(torch.zeros(2, 1, 3, 3), 0.5, threshold=0.5)


@pytest.fixture()
def supports(two_class_model, small_batch):
    inputs, labels = small_batch
    trained = train_support_models(
        two_class_model, inputs, labels, alphas=(2.0, 4.0), epochs=2, lr=1e-2, progress=False
    )
    return [s.model for s in trained]


def test_gad_pixels_are_a_subset_of_the_original_important_pixels(two_class_model, supports, small_batch):
    inputs, _labels = small_batch
    result = gad(gradient_x_input, two_class_model, supports, inputs, 1, alphas=[2, 4])
    assert result.alphas == [0.0, 2.0, 4.0] and result.maps.shape == (3, 8, 10, 10)
    assert result.targets.tolist() == [1] * 8
    assert not (result.mask & ~result.original_mask).any()
    assert result.mask.sum() < result.original_mask.sum()  # the support models disagree somewhere
    expected_original = gradient_x_input(two_class_model, inputs, 1).abs()
    torch.testing.assert_close(result.original, expected_original)  # importance: the absolute map
    assert torch.equal(result.original_mask, important_pixels(expected_original, fraction=0.5))
    torch.testing.assert_close(result.gad_maps, expected_original * result.mask)
    for model in (two_class_model, *supports):
        assert hook_count(model) == 0


def test_gad_rule_and_threshold_are_configurable(two_class_model, supports, small_batch):
    inputs, _labels = small_batch
    strict = gad(saliency, two_class_model, supports, inputs, 0)
    loose = gad(saliency, two_class_model, supports, inputs, 0, agreement=2)
    assert not (strict.mask & ~loose.mask).any() and loose.mask.sum() >= strict.mask.sum()
    wide = gad(saliency, two_class_model, supports, inputs, 0, fraction=0.8)
    assert wide.original_mask.sum() == 8 * 80
    thresholded = gad(saliency, two_class_model, supports, inputs, 0, threshold=0.3)
    assert torch.equal(thresholded.original_mask, important_pixels(strict.original, threshold=0.3))


def test_gad_explains_the_original_prediction_in_every_model(two_class_model, supports, small_batch):
    inputs, _labels = small_batch
    result = gad(saliency, two_class_model, supports, inputs)
    predicted = two_class_model(inputs).argmax(1)
    assert torch.equal(result.targets, predicted)
    torch.testing.assert_close(result.maps[1], importance_maps(saliency, [supports[0]], inputs, predicted)[0])
    with pytest.raises(ValueError, match="at least one support model"):
        gad(saliency, two_class_model, [], inputs)


def test_the_half_procedure_keeps_the_top_half_of_gads_own_map():
    maps = torch.tensor(
        [
            [[[4.0, 3.0], [2.0, 0.0]]],  # normalised: 1, 0.75, 0.5, 0
            [[[0.0, 2.0], [2.0, 4.0]]],  # normalised: 0, 0.5, 0.5, 1
        ]
    )
    # min over the models: 0, 0.5, 0.5, 0: GAD's top half is the anti-diagonal, which is
    # NOT inside the original's top half (the first row); the intersection is the top-right pixel
    torch.testing.assert_close(agreement_map(maps), torch.tensor([[[0.0, 0.5], [0.5, 0.0]]]))
    assert important_pixels(agreement_map(maps), fraction=0.5).tolist() == [[[False, True], [True, False]]]
    assert gad_mask(maps).tolist() == [[[False, True], [False, False]]]


def test_gad_with_the_half_procedure(two_class_model, supports, small_batch):
    inputs, _labels = small_batch
    half = gad(saliency, two_class_model, supports, inputs, 0, procedure="half")
    assert half.procedure == "half" and half.mask.flatten(1).sum(1).tolist() == [50] * 8  # its own top half
    assert torch.equal(half.mask, important_pixels(agreement_map(half.maps), fraction=0.5))
    intersection = gad(saliency, two_class_model, supports, inputs, 0)
    assert torch.equal(half.original_mask, intersection.original_mask)  # the original side is the same
    with pytest.raises(ValueError, match="Unknown procedure"):
        gad(saliency, two_class_model, supports, inputs, 0, procedure="union")
    with pytest.raises(ValueError, match="agreement"):
        gad(saliency, two_class_model, supports, inputs, 0, procedure="half", agreement=2)
