"""Scores for explanations: confidence (AD/AI/AG), insertion/deletion, GAD's RC/RS, pointing, sanity,
weakly supervised localisation (Simonyan et al.'s boxes, IoU).

Every metric takes maps as a (B, H, W) tensor (one per image, the image's size), so it
works with any attribution method; the sanity check takes the methods themselves, called
as ``method(model, inputs, targets) -> (B, H, W)``.
"""

from labkit.metrics.common import minmax
from labkit.metrics.confidence import ConfidenceScores, confidence_scores, explanation_inputs
from labkit.metrics.hull import (
    GAD_FRACTION,
    Hulls,
    complexity_ratio,
    convex_hulls,
    important_pixels,
    sensitivity_ratio,
)
from labkit.metrics.insertion_deletion import Curves, blurred, deletion, insertion, saliency_ranks
from labkit.metrics.localisation import box_iou, centre_boxes, localisation_accuracy, localise, mask_boxes
from labkit.metrics.pointing import energy_pointing_game, pointing_game
from labkit.metrics.sanity import cascading_randomization, spearman, top_down_layers

__all__ = [
    "GAD_FRACTION",
    "ConfidenceScores",
    "Curves",
    "Hulls",
    "blurred",
    "box_iou",
    "cascading_randomization",
    "centre_boxes",
    "complexity_ratio",
    "confidence_scores",
    "convex_hulls",
    "deletion",
    "energy_pointing_game",
    "explanation_inputs",
    "important_pixels",
    "insertion",
    "localisation_accuracy",
    "localise",
    "mask_boxes",
    "minmax",
    "pointing_game",
    "saliency_ranks",
    "sensitivity_ratio",
    "spearman",
    "top_down_layers",
]
