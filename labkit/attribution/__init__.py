"""Attribution methods: maps of how much each pixel matters for a class score.

Every method has the same call shape: ``method(model, inputs, targets=None, **options)``
with preprocessed inputs (B, 3, H, W), one target class per image (default: the predicted
class), and returns a tensor of maps (B, H, W) on the model's device. Pixel-space methods
take ``reduce`` (how the RGB channels become one map; ``"none"`` keeps (B, 3, H, W)); the
CAM family takes ``layer`` (name or module; default :func:`labkit.layers.default_layer`)
and ``upsample=False`` for the layer-resolution map. :func:`class_model` is the exception:
it makes images for classes, ``class_model(model, targets, **options) -> (N, 3, H, W)``.
"""

from labkit.attribution.backward_rules import deconvnet, guided_backprop
from labkit.attribution.cam import (
    ablation_cam,
    cam,
    grad_cam,
    grad_cam_pp,
    layer_cam,
    score_cam,
    xgrad_cam,
)
from labkit.attribution.class_model import class_model
from labkit.attribution.deeplift import deeplift, deeplift_shap
from labkit.attribution.gradients import gradient_x_input, saliency, smoothgrad
from labkit.attribution.guided_grad_cam import guided_grad_cam
from labkit.attribution.integrated_gradients import integrated_gradients
from labkit.attribution.lrp import lrp
from labkit.attribution.occlusion import occlusion, occlusion_positions, occlusion_scores

__all__ = [
    "ablation_cam",
    "cam",
    "class_model",
    "deconvnet",
    "deeplift",
    "deeplift_shap",
    "grad_cam",
    "grad_cam_pp",
    "gradient_x_input",
    "guided_backprop",
    "guided_grad_cam",
    "integrated_gradients",
    "layer_cam",
    "lrp",
    "occlusion",
    "occlusion_positions",
    "occlusion_scores",
    "saliency",
    "score_cam",
    "smoothgrad",
    "xgrad_cam",
]
