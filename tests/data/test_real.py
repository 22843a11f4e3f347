import urllib.error

import pytest
import torch
import torchvision

from labkit.data import cifar100, oxford_pets


@pytest.mark.parametrize("load", [cifar100, oxford_pets])
def test_offline_without_files_says_what_to_do(tmp_path, load):
    with pytest.raises(FileNotFoundError, match=r"download=True .*ShapesDataset"):
        load(root=tmp_path)


def test_failed_download_names_the_offline_dataset(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", no_network)
    with pytest.raises(RuntimeError, match=r"needs the network; offline, use labkit.data.ShapesDataset"):
        cifar100(root=tmp_path, download=True)


def test_bad_split():
    with pytest.raises(ValueError, match="'train' and 'test'"):
        cifar100("val")
    with pytest.raises(ValueError, match="'trainval' and 'test'"):
        oxford_pets("train")


def test_pet_items_have_the_trimap_as_mask():
    import numpy as np
    from PIL import Image

    from labkit.data.real import _PetsWithMasks

    trimap = np.full((10, 20), 2, dtype=np.uint8)  # background
    trimap[2:8, 5:15] = 1  # pet
    trimap[2, 5:15] = 3  # its border
    fake = [(Image.new("RGB", (20, 10), (255, 0, 0)), (1, Image.fromarray(trimap)))]
    image, label, mask = _PetsWithMasks(fake, size=10)[0]
    assert image.shape == (3, 10, 10) and label == 1 and image[0].min() == 1
    assert mask.shape == (10, 10) and mask.dtype == torch.bool
    assert mask.sum() == 6 * 5 and mask[2:8, 2:7].all()
