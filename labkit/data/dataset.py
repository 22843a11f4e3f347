"""The shapes dataset as a torch ``Dataset``: (image, label, mask) with train/val/test splits."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from labkit.data.shapes import CLASSES, GAD_CLASSES, SPLITS, generate_shapes
from labkit.images import Normalization

#: What the reference classifiers expect: gray 0.5 maps to 0 (the occlusion/deletion baseline).
SHAPES_NORMALIZATION = Normalization(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
#: Default number of images per split.
SPLIT_SIZES = {"train": 5000, "val": 1000, "test": 1000}


class ShapesDataset(Dataset):
    """One split of the synthetic shapes dataset, generated in memory when constructed.

    Items are ``(image, label, mask)``: a (3, S, S) float image in [0, 1], the class index
    (into ``self.classes``) and the object's (S, S) bool mask. ``shortcut=True`` gives the
    "Clever Hans" variant: the class cue is planted in the *train* split only, so val and
    test stay clean. ``classes`` picks a subset (e.g. ``GAD_CLASSES`` for two classes).

    >>> test = ShapesDataset("test", size=32)
    >>> image, label, mask = test[0]
    """

    def __init__(
        self,
        split: str = "train",
        *,
        size: int = 32,
        n: int | None = None,
        seed: int = 0,
        classes: Sequence[str] = CLASSES,
        shortcut: bool = False,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
        self.split = split
        self.classes = list(classes)
        self.shortcut = shortcut
        batch = generate_shapes(
            SPLIT_SIZES[split] if n is None else n,
            size=size,
            seed=seed,
            split=split,
            classes=classes,
            shortcut=shortcut and split == "train",
        )
        self.images, self.labels, self.masks = batch.images, batch.labels, batch.masks

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index], self.masks[index]


def gad_dataset(split: str = "train", **options) -> ShapesDataset:
    """The two-class subset (``GAD_CLASSES``) used by GAD in lab 9."""
    return ShapesDataset(split, classes=GAD_CLASSES, **options)
