"""CAM with a learned head: a GAP + linear softmax layer trained on a frozen backbone's feature maps.

Zhou et al. ("Learning Deep Features for Discriminative Localization", CVPR 2016) remove the
fully connected top of a pretrained CNN, add global average pooling and one dense softmax layer,
and train only that layer. With the pooled features f = GAP(A) (N, K) of the frozen backbone,
the head's logits are S = f W^T + b, and it is fitted by full-batch gradient descent on the mean
cross-entropy, from W = 0 and b = 0 (so that the result is deterministic):

    P = softmax(f W^T + b),   G = (P - onehot(y)) / N,
    W <- W - lr * G^T f,      b <- b - lr * sum_n G_n.

The class activation map of class c is then M_c = sum_k W[c, k] A_k (labkit.attribution.cam on
the assembled network, or by hand).
"""

from __future__ import annotations

import torch

from labkit.grader.references import reference


@reference
def fit_gap_head(
    pooled: torch.Tensor, labels: torch.Tensor, n_classes: int, *, steps: int = 200, lr: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weights (C, K), bias (C,)) of a softmax layer fitted to ``pooled`` (N, K) features and ``labels`` (N,).

    ``steps`` full-batch gradient descent steps of size ``lr`` on the mean cross-entropy, from zeros.
    """
    if pooled.ndim != 2:
        raise ValueError(f"pooled features must be (N, K) (one GAP vector per image), got {tuple(pooled.shape)}.")
    if labels.shape != pooled.shape[:1] or labels.dtype not in (torch.int64, torch.int32):
        raise ValueError(
            f"labels must be (N,) integer class indices, one per image; got shape {tuple(labels.shape)}, "
            f"dtype {labels.dtype} for {len(pooled)} images."
        )
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1} for n_classes={n_classes}.")
    if steps < 0 or lr <= 0:
        raise ValueError(f"steps must be >= 0 and lr > 0, got steps={steps}, lr={lr}.")
    pooled = pooled.detach()
    onehot = torch.nn.functional.one_hot(labels.long(), n_classes).to(pooled.dtype)
    weights = torch.zeros(n_classes, pooled.shape[1], dtype=pooled.dtype, device=pooled.device)
    bias = torch.zeros(n_classes, dtype=pooled.dtype, device=pooled.device)
    for _ in range(steps):
        residual = ((pooled @ weights.T + bias).softmax(dim=1) - onehot) / len(pooled)
        weights = weights - lr * residual.T @ pooled
        bias = bias - lr * residual.sum(dim=0)
    return weights, bias
