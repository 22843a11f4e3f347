import pytest
import torch

from labkit.metrics import energy_pointing_game, pointing_game


def object_mask() -> torch.Tensor:
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, :2, :2] = True  # the top-left quarter
    return mask


def test_hits_and_misses():
    maps = torch.zeros(2, 4, 4)
    maps[0, 1, 1] = 1.0  # on the object
    maps[1, 3, 3] = 1.0  # far from it
    assert pointing_game(maps, object_mask().expand(2, -1, -1)).tolist() == [1.0, 0.0]


def test_tolerance_reaches_nearby_peaks():
    maps = torch.zeros(1, 4, 4)
    maps[0, 2, 2] = 1.0  # diagonal neighbour of the object
    assert pointing_game(maps, object_mask()).item() == 0
    assert pointing_game(maps, object_mask(), tolerance=1).item() == 0  # sqrt(2) > 1
    assert pointing_game(maps, object_mask(), tolerance=2).item() == 1
    with pytest.raises(ValueError, match="tolerance"):
        pointing_game(maps, object_mask(), tolerance=-1)


def test_ties_count_as_a_random_pick():
    assert pointing_game(torch.zeros(1, 4, 4), object_mask()).item() == pytest.approx(0.25)
    maps = torch.zeros(1, 4, 4)
    maps[0, 0, 0] = maps[0, 3, 3] = 2.0
    assert pointing_game(maps, object_mask()).item() == pytest.approx(0.5)


def test_energy_by_hand():
    maps = torch.tensor([[[4.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    assert energy_pointing_game(maps, object_mask()).item() == pytest.approx(6 / 8)
    shifted = maps - 1.0  # min-max normalisation makes negative maps usable and shift-free
    assert energy_pointing_game(shifted, object_mask()).item() == pytest.approx(6 / 8)


@pytest.mark.parametrize("maps", [torch.zeros(1, 4, 4), torch.full((1, 4, 4), 3.0)], ids=["all-zero", "constant"])
def test_constant_maps_score_the_area(maps):
    assert energy_pointing_game(maps, object_mask()).item() == pytest.approx(0.25)


def test_one_pixel_map():
    maps = torch.zeros(1, 4, 4)
    maps[0, 0, 1] = 1.0
    assert energy_pointing_game(maps, object_mask()).item() == 1
    assert pointing_game(maps, object_mask()).item() == 1


def test_errors():
    with pytest.raises(ValueError, match=r"masks \(1, 4, 4\) must match the maps \(1, 8, 8\)"):
        pointing_game(torch.rand(1, 8, 8), object_mask())
    with pytest.raises(ValueError, match="empty"):
        energy_pointing_game(torch.rand(1, 4, 4), torch.zeros(1, 4, 4))
    with pytest.raises(ValueError, match=r"shape \(B, H, W\)"):
        energy_pointing_game(torch.rand(4, 4), object_mask()[0])
    with pytest.raises(ValueError, match="NaN"):
        pointing_game(torch.full((1, 4, 4), float("inf")), object_mask())
