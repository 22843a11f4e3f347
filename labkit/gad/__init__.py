"""GAD, Gradient Artificial Distancing (Rodrigues et al., "Transforming gradient-based techniques
into interpretable methods"): support models trained on distanced logits, and gradient maps that
keep only the pixels every model agrees on.

    targets  = artificial_targets(logits, labels, class_a, class_b, alpha)     # Section 4.1
    supports = train_support_models(model, inputs, labels)                      # Section 4.2
    result   = gad(saliency, model, [s.model for s in supports], x, targets)   # Section 4.3
    scores   = gad_scores(model, x, result)                                     # RC, RS (Section 5)
"""

from labkit.gad.evaluation import GADScores, gad_scores, mask_hulls
from labkit.gad.maps import METHODS, GADMaps, gad, gad_mask, importance_maps
from labkit.gad.support import ALPHAS, EPOCHS, LEARNING_RATE, SupportModel, fit_regression, train_support_models
from labkit.gad.targets import artificial_targets
from labkit.gad.two_class import GAD_MODEL, OutputSubset, two_class_classifier

__all__ = [
    "ALPHAS",
    "EPOCHS",
    "GAD_MODEL",
    "LEARNING_RATE",
    "METHODS",
    "GADMaps",
    "GADScores",
    "OutputSubset",
    "SupportModel",
    "artificial_targets",
    "fit_regression",
    "gad",
    "gad_mask",
    "gad_scores",
    "importance_maps",
    "mask_hulls",
    "train_support_models",
    "two_class_classifier",
]
