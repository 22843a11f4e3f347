import pytest
import torch

from labkit.guards import hook_count
from labkit.metrics import blurred, deletion, insertion, saliency_ranks

RED = [[0.4, 0.3], [0.2, 0.1]]


def test_deletion_by_hand(mean_red, images):
    # pixels deleted in the order 0.4, 0.3, 0.2, 0.1: p_0 = (what is left) / 4
    curves = deletion(mean_red, images(RED), torch.tensor([RED]), targets=0, pixels_per_step=1)
    expected = torch.tensor([[1.0, 0.6, 0.3, 0.1, 0.0]]) / 4
    torch.testing.assert_close(curves.fractions, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    torch.testing.assert_close(curves.scores, expected)
    auc = sum((expected[0, k] + expected[0, k + 1]) / 2 * 0.25 for k in range(4))
    torch.testing.assert_close(curves.auc, auc.reshape(1))
    assert curves.target_source == "given"


def test_a_better_map_deletes_faster(mean_red, images):
    good = deletion(mean_red, images(RED), torch.tensor([RED]), targets=0, pixels_per_step=1)
    bad = deletion(mean_red, images(RED), -torch.tensor([RED]), targets=0, pixels_per_step=1)
    assert good.auc < bad.auc


def test_pixels_per_step_that_does_not_divide(mean_red, images):
    curves = deletion(mean_red, images(RED), torch.tensor([RED]), targets=0, pixels_per_step=3)
    torch.testing.assert_close(curves.fractions, torch.tensor([0.0, 0.75, 1.0]))
    torch.testing.assert_close(curves.scores, torch.tensor([[0.25, 0.025, 0.0]]))


def test_insertion_by_hand(mean_red, images):
    red = torch.arange(16.0).view(4, 4) / 20
    x = images(red.tolist())
    start = blurred(x, 1.0)[0, 0].flatten()  # the blurred red channel, raster order
    assert not torch.allclose(start, red.flatten())
    curves = insertion(mean_red, x, red[None], targets=0, pixels_per_step=8, blur_sigma=1.0)
    # step 1 puts back the 8 most salient pixels: the bottom half
    expected = torch.stack([start.mean(), (start[:8].sum() + red[2:].sum()) / 16, red.mean()])
    torch.testing.assert_close(curves.scores[0], expected)
    torch.testing.assert_close(curves.auc[0], (expected[0] + 2 * expected[1] + expected[2]) / 4)


@pytest.mark.parametrize(
    ("maps", "order"),
    [
        (torch.zeros(1, 2, 2), [0, 1, 2, 3]),  # all-zero: raster order
        (torch.full((1, 2, 2), 5.0), [0, 1, 2, 3]),  # constant: raster order
        (torch.tensor([[[1.0, 2.0], [2.0, 1.0]]]), [1, 2, 0, 3]),  # ties keep raster order
        (torch.tensor([[[0.0, 0.0], [0.0, 1.0]]]), [3, 0, 1, 2]),  # one pixel first
    ],
    ids=["all-zero", "constant", "ties", "one-pixel"],
)
def test_order_of_pixels(mean_red, images, maps, order):
    ranks = saliency_ranks(maps)
    assert ranks[0].argsort().tolist() == order
    curves = deletion(mean_red, images(RED), maps, targets=0, pixels_per_step=1)
    red = torch.tensor(RED).flatten()
    left = [red.sum() - red[order[:k]].sum() for k in range(5)]
    torch.testing.assert_close(curves.scores[0], torch.stack(left) / 4)


def test_batched_over_images_and_steps(mean_red):
    x = torch.rand(3, 3, 8, 8)
    maps = torch.rand(3, 8, 8)
    together = insertion(mean_red, x, maps, pixels_per_step=5, batch_size=64)
    one_by_one = insertion(mean_red, x, maps, pixels_per_step=5, batch_size=1)
    single = insertion(mean_red, x[1:2], maps[1:2], pixels_per_step=5)
    torch.testing.assert_close(together.scores, one_by_one.scores)
    torch.testing.assert_close(together.scores[1:2], single.scores)
    assert together.scores.shape == (3, 14) and together.target_source == "predicted"


def test_errors_and_nothing_left_behind(mean_red, images):
    x = images(RED)
    with pytest.raises(ValueError, match="pixels_per_step must be between 1 and 4"):
        deletion(mean_red, x, torch.rand(1, 2, 2), pixels_per_step=0)
    with pytest.raises(ValueError, match=r"got maps of shape \(1, 4, 4\)"):
        insertion(mean_red, x, torch.rand(1, 4, 4))
    with pytest.raises(ValueError, match=r"Reduce the channels"):
        deletion(mean_red, x, torch.rand(1, 3, 2, 2))
    with pytest.raises(ValueError, match="blur_sigma must be positive"):
        insertion(mean_red, x, torch.rand(1, 2, 2), blur_sigma=0)
    with pytest.raises(ValueError, match="out of range"):
        deletion(mean_red, x, torch.rand(1, 2, 2), targets=2)
    assert hook_count(mean_red) == 0
    assert all(p.requires_grad for p in mean_red.parameters())
