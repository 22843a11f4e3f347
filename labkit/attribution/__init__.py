"""Attribution methods: maps of how much each pixel matters for a class score.

Every method has the same call shape: ``method(model, inputs, targets=None, **options)``
with preprocessed inputs (B, 3, H, W), one target class per image (default: the predicted
class), and returns a tensor of maps (B, H, W) on the model's device.
"""

from labkit.attribution.occlusion import occlusion, occlusion_positions, occlusion_scores

__all__ = ["occlusion", "occlusion_positions", "occlusion_scores"]
