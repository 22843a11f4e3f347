"""Data with ground truth: the synthetic shapes dataset (offline) and real datasets (online)."""

from labkit.data.dataset import SHAPES_NORMALIZATION, SPLIT_SIZES, ShapesDataset, gad_dataset
from labkit.data.real import PET_CLASSES, cifar100, oxford_pets
from labkit.data.shapes import CLASSES, GAD_CLASSES, ShapesBatch, cue_boxes, generate_shapes

__all__ = [
    "CLASSES",
    "GAD_CLASSES",
    "PET_CLASSES",
    "SHAPES_NORMALIZATION",
    "SPLIT_SIZES",
    "ShapesBatch",
    "ShapesDataset",
    "cifar100",
    "cue_boxes",
    "gad_dataset",
    "generate_shapes",
    "oxford_pets",
]
