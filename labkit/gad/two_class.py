"""A multi-class classifier seen as a two-class one: only the outputs of the two chosen classes.

GAD (Rodrigues et al.) works on a binary problem (cats vs dogs, warblers vs sparrows). The
shapes classifiers shipped with labkit know six classes; restricted to ``GAD_CLASSES``
(circle, triangle) they separate the two almost perfectly, so the course uses the
restriction as GAD's "original model" instead of training a new binary model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from labkit.data.dataset import SHAPES_NORMALIZATION
from labkit.data.shapes import GAD_CLASSES
from labkit.models import Classifier, load_model

#: The shipped classifier GAD explains by default (small and fast enough to fine-tune on a CPU).
GAD_MODEL = "shapes_mobilenet_v2"


class OutputSubset(nn.Module):
    """``model(x)[:, outputs]``: the chosen outputs of ``model``, in the given order."""

    def __init__(self, model: nn.Module, outputs: Sequence[int]) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("outputs", torch.as_tensor(list(outputs), dtype=torch.long), persistent=False)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs).index_select(1, self.outputs)


def two_class_classifier(
    name: str = GAD_MODEL, classes: Sequence[str] = GAD_CLASSES, device: str | torch.device | None = None
) -> Classifier:
    """A shipped shapes classifier restricted to two of its classes (outputs 0 and 1, in ``classes`` order)."""
    if len(classes) != 2:
        raise ValueError(f"GAD distances exactly two classes, got {tuple(classes)}.")
    full = load_model(name, device=device)
    missing = [c for c in classes if c not in full.classes]
    if missing:
        raise ValueError(f"{name} does not know the classes {missing}; it knows {full.classes}.")
    outputs = [full.classes.index(c) for c in classes]
    model = OutputSubset(full.model, outputs).eval().to(full.device)
    layer = f"model.{full.cam_layer}"
    return Classifier(f"{name}[{','.join(classes)}]", model, SHAPES_NORMALIZATION, list(classes), layer)


#: ImageNet classes merged into the two Oxford-IIIT Pet classes: the domestic cats and the dogs.
IMAGENET_CATS = tuple(range(281, 286))
IMAGENET_DOGS = tuple(range(151, 269))


class GroupedOutputs(nn.Module):
    """One output per group of ``model``'s classes: the log-sum-exp of the group's logits.

    log sum_{c in group} exp(z_c) is the logit of "any class of the group" (its softmax over
    the groups equals the summed probabilities, restricted to the groups).
    """

    def __init__(self, model: nn.Module, groups: Sequence[Sequence[int]]) -> None:
        super().__init__()
        self.model = model
        self.groups = [list(group) for group in groups]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        logits = self.model(inputs)
        return torch.stack([logits[:, group].logsumexp(1) for group in self.groups], 1)


def pets_classifier(name: str = "resnet18", device: str | torch.device | None = None) -> Classifier:
    """Cats vs dogs from a torchvision ImageNet model (needs the network once): its cat and dog classes merged.

    The paper fine-tunes a binary classifier; merging ImageNet's five domestic-cat classes and
    118 dog classes (:class:`GroupedOutputs`) gives a two-output model without training.
    """
    full = load_model(name, device=device)
    model = GroupedOutputs(full.model, [IMAGENET_CATS, IMAGENET_DOGS]).eval()
    return Classifier(f"{name}[cat,dog]", model, full.preprocess, ["cat", "dog"], f"model.{full.cam_layer}")
