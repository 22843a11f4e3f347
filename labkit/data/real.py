"""Real datasets for students with a network: CIFAR-100 and Oxford-IIIT Pet (cats vs dogs).

Both come through torchvision and are downloaded only when asked (``download=True``);
without the files and without a network the error says so and names the offline
alternative, :class:`labkit.data.ShapesDataset`. Items follow the shapes dataset's
convention: images are (3, H, W) floats in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from labkit.paths import DATA_CACHE

#: Oxford-IIIT Pet's binary labels.
PET_CLASSES = ("cat", "dog")


def _open(name: str, build, root: Path, download: bool):
    """Build a torchvision dataset, turning "not found" and download failures into clear errors."""
    try:
        return build(root=str(root), download=download)
    except RuntimeError as error:
        if download:
            raise RuntimeError(
                f"Could not download {name} into {root} ({error}). It needs the network; offline, use "
                "labkit.data.ShapesDataset (generated, with ground-truth masks)."
            ) from error
        raise FileNotFoundError(
            f"{name} is not in {root}. Call again with download=True (needs the network, once), or pass "
            "root= where it is stored; offline, use labkit.data.ShapesDataset."
        ) from error
    except OSError as error:  # URLError and connection errors
        raise RuntimeError(
            f"Could not download {name} into {root} ({error}). It needs the network; offline, use "
            "labkit.data.ShapesDataset (generated, with ground-truth masks)."
        ) from error


def cifar100(split: str = "train", *, root: str | Path = DATA_CACHE, download: bool = False) -> Dataset:
    """CIFAR-100 (Krizhevsky, 2009): 32 x 32 images of 100 classes, items (image, label).

    ``split`` is ``"train"`` (50 000 images) or ``"test"`` (10 000).
    """
    from torchvision import datasets, transforms

    if split not in ("train", "test"):
        raise ValueError(f"CIFAR-100's splits are 'train' and 'test', got {split!r}.")

    def build(root: str, download: bool) -> Dataset:
        return datasets.CIFAR100(root, train=split == "train", transform=transforms.ToTensor(), download=download)

    return _open("CIFAR-100", build, Path(root), download)


class _PetsWithMasks(Dataset):
    """Oxford-IIIT Pet items as (image, label, mask), the trimap's pet and border pixels as the mask."""

    def __init__(self, pets: Dataset, size: int) -> None:
        from torchvision import transforms

        self.pets = pets
        self.classes = list(PET_CLASSES)
        self.image = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor()])
        self.trimap = transforms.Resize((size, size), interpolation=transforms.InterpolationMode.NEAREST)

    def __len__(self) -> int:
        return len(self.pets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, torch.Tensor]:
        image, (label, trimap) = self.pets[index]
        trimap = torch.from_numpy(np.array(self.trimap(trimap)))
        return self.image(image.convert("RGB")), label, trimap != 2  # 1 pet, 2 background, 3 border


def oxford_pets(
    split: str = "trainval", *, size: int = 224, root: str | Path = DATA_CACHE, download: bool = False
) -> Dataset:
    """Oxford-IIIT Pet (Parkhi et al., CVPR 2012) as cats (0) vs dogs (1), for GAD, with pet masks.

    Items are (image (3, size, size), label, mask (size, size) bool); ``split`` is
    ``"trainval"`` (3 680 images) or ``"test"`` (3 669).
    """
    from torchvision import datasets

    if split not in ("trainval", "test"):
        raise ValueError(f"Oxford-IIIT Pet's splits are 'trainval' and 'test', got {split!r}.")

    def build(root: str, download: bool) -> Dataset:
        return datasets.OxfordIIITPet(
            root, split=split, target_types=("binary-category", "segmentation"), download=download
        )

    return _PetsWithMasks(_open("Oxford-IIIT Pet", build, Path(root), download), size)
