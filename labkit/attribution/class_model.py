"""Class model visualisation (Simonyan et al., "Deep Inside Convolutional Networks:
Visualising Image Classification Models and Saliency Maps", ICLR 2014 workshop).

Gradient ascent on an input image I for the class score with an L2 penalty,

    I* = argmax_I  S_c(I) - lambda ||I||^2,     I <- I + lr * (dS_c/dI - 2 lambda I),

starting from the zero image (the mean image: medium gray after preprocessing). The score
is the unnormalised logit, as in the paper (the softmax would also push other classes down).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from labkit.device import model_device
from labkit.grader.references import reference
from labkit.guards import model_guard
from labkit.targets import targets_from_outputs


@reference
def class_model(
    model: nn.Module,
    targets: int | Sequence[int] | torch.Tensor,
    *,
    size: tuple[int, int] = (224, 224),
    steps: int = 200,
    lr: float = 1.0,
    l2: float = 1e-3,
    initial: torch.Tensor | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Images (N, 3, H, W), in preprocessed units, that maximise S_c - ``l2`` ||I||^2 for each class in ``targets``.

    One image per target, all optimised together in one batch (``steps`` plain gradient
    ascent steps of size ``lr``); ``initial`` (N, 3, H, W) replaces the zero start.
    Map back to [0, 1] with ``Classifier.preprocess.inverse`` (and clip) to show them.
    """
    if not (steps >= 1 and lr > 0 and l2 >= 0):  # also NaN
        raise ValueError(f"Need steps >= 1, lr > 0 and l2 >= 0; got steps={steps}, lr={lr}, l2={l2}.")
    device = model_device(model)
    classes = torch.as_tensor(targets, device=device).reshape(-1)
    if initial is None:
        image = torch.zeros(len(classes), 3, *size, device=device)
    else:
        image = torch.as_tensor(initial, dtype=torch.float32, device=device).clone()
        if image.shape[0] != len(classes) or image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(
                f"initial must be ({len(classes)}, 3, H, W), one image per target; got {tuple(image.shape)}."
            )
    with model_guard(model):
        with torch.no_grad():
            classes = targets_from_outputs(model(image[:1]).expand(len(classes), -1), classes)
        for _ in tqdm(range(steps), desc="class_model", disable=not progress, leave=False):
            leaf = image.requires_grad_()
            with torch.enable_grad():
                scores = model(leaf).gather(1, classes[:, None]).sum()
                (gradient,) = torch.autograd.grad(scores, leaf)
            image = (image.detach() + lr * (gradient - 2 * l2 * image.detach())).detach()
    return image
