import pytest
import torch

from labkit.guards import hook_count
from labkit.images import Normalization
from labkit.metrics import confidence_scores, explanation_inputs, minmax


def test_hand_computed_scores(mean_red, images, identity):
    x = images([[0.8, 0.4], [0.2, 0.6]], [[0.1, 0.3], [0.5, 0.3]])  # Y = 0.5 and 0.3
    maps = torch.tensor([[[1.0, 0.0], [0.0, 0.5]], [[2.0, 4.0], [0.0, 0.0]]])
    # image 0: s = [[1, 0], [0, 0.5]] -> O = (0.8 + 0.3) / 4 = 0.275: drop 0.225 / 0.5
    # image 1: s = [[0.5, 1], [0, 0]] -> O = (0.05 + 0.3) / 4 = 0.0875: drop 0.2125 / 0.3
    result = confidence_scores(mean_red, x, maps, targets=0, preprocess=identity)
    torch.testing.assert_close(result.original, torch.tensor([0.5, 0.3]))
    torch.testing.assert_close(result.explained, torch.tensor([0.275, 0.0875]))
    assert result.average_drop == pytest.approx((0.225 / 0.5 + 0.2125 / 0.3) / 2 * 100)
    assert result.average_increase == 0
    assert result.average_gain == 0
    assert result.target_source == "given"


def test_increase_and_gain_by_hand(mean_red, images, identity):
    x = images([[0.9, 0.1], [0.1, 0.1]])  # Y for class 1 = 1 - 0.3 = 0.7
    maps = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])  # keeps only the 0.9 pixel: O_1 = 1 - 0.225
    result = confidence_scores(mean_red, x, maps, targets=[1], preprocess=identity)
    assert result.average_increase == 100
    assert result.average_drop == 0
    assert result.average_gain == pytest.approx((0.775 - 0.7) / 0.3 * 100)


def test_predicted_class_is_recorded(mean_red, images, identity):
    x = images([[0.9, 0.9], [0.9, 0.9]], [[0.1, 0.1], [0.1, 0.1]])
    result = confidence_scores(mean_red, x, torch.rand(2, 2, 2), preprocess=identity)
    assert result.target_source == "predicted"
    assert result.targets.tolist() == [0, 1]


@pytest.mark.parametrize("maps", [torch.zeros(1, 2, 2), torch.full((1, 2, 2), 3.0)], ids=["all-zero", "constant"])
def test_constant_maps_keep_the_image(mean_red, images, maps, identity):
    result = confidence_scores(mean_red, images([[0.8, 0.4], [0.2, 0.6]]), maps, targets=0, preprocess=identity)
    torch.testing.assert_close(result.explained, result.original)
    assert result.as_dict() == {"AD": 0, "AI": 0, "AG": 0}


def test_ties_and_one_pixel_map(mean_red, images, identity):
    x = images([[0.8, 0.4], [0.2, 0.6]])
    one_pixel = torch.tensor([[[0.0, 0.0], [0.0, 7.0]]])
    result = confidence_scores(mean_red, x, one_pixel, targets=0, preprocess=identity)
    torch.testing.assert_close(result.explained, torch.tensor([0.15]))
    torch.testing.assert_close(
        minmax(torch.tensor([[[1.0, 1.0], [3.0, 3.0]]])), torch.tensor([[[0.0, 0.0], [1.0, 1.0]]])
    )


def test_masking_happens_in_pixel_space():
    norm = Normalization(mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.4))
    image, saliency = torch.rand(1, 3, 5, 5), torch.rand(1, 5, 5)
    explained = explanation_inputs(norm(image), saliency, norm)
    torch.testing.assert_close(norm.inverse(explained), image * minmax(saliency)[:, None])


def test_shape_errors_and_nothing_left_behind(mean_red, images, identity):
    x = images([[0.8, 0.4], [0.2, 0.6]])
    with pytest.raises(ValueError, match=r"maps of shape \(1, 2, 2\).*got maps of shape \(1, 3, 3\).*Upsample"):
        confidence_scores(mean_red, x, torch.rand(1, 3, 3), preprocess=identity)
    with pytest.raises(ValueError, match=r"got maps of shape \(2, 2, 2\)"):
        confidence_scores(mean_red, x, torch.rand(2, 2, 2), preprocess=identity)
    with pytest.raises(ValueError, match="NaN"):
        confidence_scores(mean_red, x, torch.full((1, 2, 2), float("nan")), preprocess=identity)
    assert hook_count(mean_red) == 0
    assert all(p.requires_grad for p in mean_red.parameters())
