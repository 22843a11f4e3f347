"""The CAM family: class activation maps from a layer's feature maps (see :mod:`.base`)."""

from labkit.attribution.cam.ablation_cam import ablation_cam
from labkit.attribution.cam.base import upsample_maps
from labkit.attribution.cam.cam import cam
from labkit.attribution.cam.grad_cam import grad_cam
from labkit.attribution.cam.grad_cam_pp import grad_cam_pp
from labkit.attribution.cam.layer_cam import layer_cam
from labkit.attribution.cam.score_cam import score_cam
from labkit.attribution.cam.xgrad_cam import xgrad_cam

__all__ = [
    "ablation_cam",
    "cam",
    "grad_cam",
    "grad_cam_pp",
    "layer_cam",
    "score_cam",
    "upsample_maps",
    "xgrad_cam",
]
