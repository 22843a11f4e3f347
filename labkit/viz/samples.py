"""A picture of dataset samples with their ground-truth masks, in one call."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch.utils.data import Dataset

from labkit.viz.maps import to_numpy_image


def show_samples(dataset: Dataset, n: int = 8, *, start: int = 0) -> Figure:
    """Images ``start`` to ``start + n`` of a dataset of (image, label, mask) items, masks outlined.

    >>> show_samples(labkit.data.ShapesDataset("train"))
    """
    n = min(n, len(dataset) - start)
    if n < 1:
        raise ValueError(f"Nothing to show: the dataset has {len(dataset)} items, start={start}.")
    classes = getattr(dataset, "classes", None)
    figure, axes = plt.subplots(1, n, figsize=(1.6 * n, 1.9), squeeze=False)
    for ax, index in zip(axes[0], range(start, start + n)):
        image, label, mask = dataset[index]
        ax.imshow(to_numpy_image(image))
        ax.contour(mask.float().cpu().numpy(), levels=[0.5], colors="white", linewidths=1)
        ax.set_title(classes[int(label)] if classes else str(int(label)), fontsize=9)
        ax.axis("off")
    figure.tight_layout()
    return figure
