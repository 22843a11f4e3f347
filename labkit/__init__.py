"""labkit: the code behind the course's labs on explaining CNN image classifiers."""

from labkit.attribution import occlusion, occlusion_scores
from labkit.device import default_device
from labkit.images import SAMPLE_NAMES, Normalization, load_image, sample_batch, sample_image
from labkit.layers import get_layer, layer_names
from labkit.models import DEFAULT_MODEL, MODEL_NAMES, Classifier, load_model
from labkit.reference.registry import REFERENCE_NAMES

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_NAMES",
    "REFERENCE_NAMES",
    "SAMPLE_NAMES",
    "Classifier",
    "Normalization",
    "default_device",
    "get_layer",
    "layer_names",
    "load_image",
    "load_model",
    "occlusion",
    "occlusion_scores",
    "sample_batch",
    "sample_image",
]
