import urllib.error

import pytest
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
