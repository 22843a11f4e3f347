"""GAD's artificial targets (Rodrigues et al., "Transforming gradient-based techniques into
interpretable methods", Section 4.1): the original model's pre-softmax outputs, distanced.

For the two chosen classes a and b, with N the original model's logits:

    samples of class a:  y_b = N_b(I) - alpha     (less likely to be taken for a b)
    samples of class b:  y_a = N_a(I) - alpha     (less likely to be taken for an a)

Every other output (the sample's own class, and any class other than a and b in a
multi-class model) keeps the original logit: the paper keeps the whole output vector and
only translates the two classes apart, so that the relations between samples of the same
class are preserved. Samples of other classes keep all their logits.
"""

from __future__ import annotations

import torch

from labkit.grader.references import reference


@reference
def artificial_targets(
    logits: torch.Tensor, labels: torch.Tensor, class_a: int, class_b: int, alpha: float
) -> torch.Tensor:
    """(N, K) regression targets: ``logits`` with ``alpha`` subtracted from the *other* class's logit.

    ``logits`` (N, K) are the original model's pre-softmax outputs, ``labels`` (N,) the true
    classes (output indices). For samples of ``class_a`` the logit of ``class_b`` drops by
    ``alpha``; for samples of ``class_b`` the logit of ``class_a``. ``alpha = 0`` gives the
    original outputs. The result is a new tensor, detached from any graph.
    """
    if logits.ndim != 2:
        raise ValueError(f"Expected logits of shape (N, K), got {tuple(logits.shape)}.")
    labels = torch.as_tensor(labels, device=logits.device).long().reshape(-1)
    if labels.numel() != logits.shape[0]:
        raise ValueError(f"Got {labels.numel()} labels for {logits.shape[0]} rows of logits; give one per sample.")
    n_outputs = logits.shape[1]
    for name, index in (("class_a", class_a), ("class_b", class_b)):
        if not 0 <= index < n_outputs:
            raise ValueError(f"{name}={index} is not an output of a model with {n_outputs} outputs.")
    if class_a == class_b:
        raise ValueError(f"class_a and class_b must differ, both are {class_a}.")
    if alpha < 0:
        raise ValueError(f"alpha is a distance to subtract and must be >= 0, got {alpha}.")
    targets = logits.detach().clone()
    targets[labels == class_a, class_b] -= alpha
    targets[labels == class_b, class_a] -= alpha
    return targets
