"""The training data as tensors: the offline shapes dataset, or CIFAR-100 when online.

Both give images in [0, 1] (N, 3, 32, 32), labels (N,), the class names and the
normalisation the model sees. The shapes dataset also gives the objects' masks (N, H, W),
which the pointing game needs; CIFAR-100 has none (``masks`` is None) and no validation
split (the test split serves for both, as in pytorch-cifar100).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from labkit.data.dataset import SHAPES_NORMALIZATION, ShapesDataset
from labkit.data.real import cifar100
from labkit.data.shapes import CLASSES
from labkit.images import Normalization

#: CIFAR-100's per-channel statistics (as in github.com/weiaicunzai/pytorch-cifar100).
CIFAR100_NORMALIZATION = Normalization(mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762))
DATASETS = ("shapes", "cifar100")


@dataclass
class Split:
    """Images in [0, 1] (N, 3, H, W), labels (N,), and object masks (N, H, W) where known."""

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Data:
    train: Split
    val: Split
    test: Split
    classes: list[str]
    preprocess: Normalization


def _shapes(split: str, n: int | None, seed: int) -> Split:
    dataset = ShapesDataset(split, size=32, n=n, seed=seed)
    return Split(dataset.images, dataset.labels, dataset.masks)


def _cifar(split: str, download: bool) -> tuple[Split, list[str]]:
    dataset = cifar100(split, download=download)
    images = torch.as_tensor(dataset.data).permute(0, 3, 1, 2).float() / 255
    return Split(images, torch.as_tensor(dataset.targets)), list(dataset.classes)


def load_data(
    dataset: str, *, train_size: int | None = None, eval_size: int | None = None, seed: int = 0, download: bool = False
) -> Data:
    """The splits of ``dataset`` ("shapes" or "cifar100"); sizes cut the splits (None: all of them)."""
    if dataset == "shapes":
        splits = [_shapes(split, size, seed) for split, size in (("train", train_size), ("val", eval_size))]
        splits.append(_shapes("test", eval_size, seed))
        return Data(*splits, classes=list(CLASSES), preprocess=SHAPES_NORMALIZATION)
    if dataset == "cifar100":
        train, classes = _cifar("train", download)
        test, _ = _cifar("test", download)
        train = Split(train.images[:train_size], train.labels[:train_size])
        test = Split(test.images[:eval_size], test.labels[:eval_size])
        return Data(train, test, test, classes, CIFAR100_NORMALIZATION)
    raise ValueError(f"Unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")


def augment(images: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """The usual CIFAR augmentation: a random crop after zero padding, and a random horizontal flip."""
    n, _, height, width = images.shape
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    rows = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    cols = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    flips = (torch.rand(n, generator=generator) < 0.5).tolist()
    out = torch.stack([padded[i, :, r : r + height, c : c + width] for i, (r, c) in enumerate(zip(rows, cols))])
    return torch.where(torch.tensor(flips, device=images.device)[:, None, None, None], out.flip(-1), out)
