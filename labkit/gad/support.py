"""GAD's support models (Rodrigues et al., Section 4.2): regression copies of the original model.

For each alpha, a copy of the original classifier, initialised with its weights, is
fine-tuned as a *regression*: its outputs are read as they are (a linear output instead of
the softmax) and pulled towards the artificial targets (:func:`artificial_targets`) by the
mean squared error,

    L = 1 / (N K) sum_i || f(I_i) - y_i(alpha) ||^2,

with Adam (lr 4e-5) for 10 epochs in the paper, for alpha in 2, 4, 6, 8 (alpha 0 is the
original model itself). The original model is never modified.

Choices the paper leaves open: the copy is fine-tuned in eval mode (BatchNorm keeps the
original's statistics and dropout is off), so at the start its outputs are exactly the
original's and the initial MSE is alpha^2 / K for K = 2 outputs and balanced classes; the
batches are shuffled by a seeded generator; the targets come from the original model's
logits on the same training images, computed once.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from labkit.device import model_device
from labkit.gad.targets import artificial_targets
from labkit.guards import model_guard

#: The paper's alphas for the support models (0 is the original model).
ALPHAS: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0)
#: The paper's fine-tuning recipe: Adam, learning rate 4e-5, 10 epochs.
LEARNING_RATE = 4e-5
EPOCHS = 10


@dataclass
class SupportModel:
    """A fine-tuned copy for one ``alpha``: the model (eval mode) and its MSE before and after each epoch.

    ``losses[0]`` is the MSE of the untouched copy (the original's outputs), ``losses[e]`` the
    mean training MSE of epoch e; ``seconds`` the fine-tuning time.
    """

    alpha: float
    model: nn.Module
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


@torch.no_grad()
def model_outputs(model: nn.Module, inputs: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """The raw outputs (N, K) of ``model`` on preprocessed ``inputs`` in eval mode, batched, on the CPU."""
    device = model_device(model)
    with model_guard(model):
        batches = inputs.split(batch_size)
        return torch.cat([model(batch.to(device)).cpu() for batch in batches])


def fit_regression(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    epochs: int = EPOCHS,
    lr: float = LEARNING_RATE,
    batch_size: int = 32,
    seed: int = 0,
    progress: bool = True,
    desc: str = "regression",
) -> list[float]:
    """Fine-tune ``model`` IN PLACE so that ``model(inputs)`` approaches ``targets`` (MSE, Adam).

    Returns the MSE before training followed by the mean training MSE of each epoch. The
    model stays in eval mode (see the module's doc) with every parameter trainable.
    """
    if len(inputs) != len(targets):
        raise ValueError(f"Got {len(inputs)} inputs for {len(targets)} targets; give one target row per input.")
    if epochs < 0 or batch_size < 1 or lr <= 0:
        raise ValueError(f"Need epochs >= 0, batch_size >= 1 and lr > 0, got {epochs}, {batch_size}, {lr}.")
    device = model_device(model)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    losses = [float(F.mse_loss(model_outputs(model, inputs), targets.cpu()))]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
    for _epoch in bar:
        total, seen = 0.0, 0
        for batch in torch.randperm(len(inputs), generator=generator).split(batch_size):
            x, y = inputs[batch].to(device), targets[batch].to(device)
            loss = F.mse_loss(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, seen = total + float(loss.detach()) * len(batch), seen + len(batch)
        losses.append(total / seen)
        bar.set_postfix(mse=f"{losses[-1]:.3f}")
    optimizer.zero_grad(set_to_none=True)
    return losses


def train_support_models(
    model: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    class_a: int = 0,
    class_b: int = 1,
    alphas: Sequence[float] = ALPHAS,
    epochs: int = EPOCHS,
    lr: float = LEARNING_RATE,
    batch_size: int = 32,
    seed: int = 0,
    progress: bool = True,
) -> list[SupportModel]:
    """One support model per alpha, each a copy of ``model`` fine-tuned on the artificial targets.

    ``inputs`` are preprocessed training images (N, 3, H, W), ``labels`` (N,) their classes as
    output indices. The targets are the original's logits with alpha subtracted from the other
    class's logit (:func:`labkit.gad.artificial_targets`). ``model`` itself is left untouched
    (a deep copy is trained; its modes and ``requires_grad`` flags are restored).
    """
    if any(alpha <= 0 for alpha in alphas):
        raise ValueError(f"The support models' alphas must be > 0 (alpha 0 is the original model), got {alphas}.")
    logits = model_outputs(model, inputs)
    supports = []
    for index, alpha in enumerate(alphas):
        start = time.perf_counter()
        copied = copy.deepcopy(model)
        targets = artificial_targets(logits, labels.cpu(), class_a, class_b, alpha)
        losses = fit_regression(
            copied,
            inputs,
            targets,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed + index,
            progress=progress,
            desc=f"support model alpha={alpha:g}",
        )
        supports.append(SupportModel(float(alpha), copied.eval(), losses, time.perf_counter() - start))
    return supports


def within_class_rank_correlation(original: torch.Tensor, support: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean over classes of Spearman's rank correlation between the original's and a support model's own-class
    logit on the images of that class: 1 when the support model keeps the ranking of the images within each
    class (the paper's intent: the classes move apart, the order inside a class stays).

    ``original`` and ``support`` (N, K) pre-softmax outputs, ``labels`` (N,) output indices."""
    from scipy.stats import spearmanr  # here: importing scipy.stats costs a second

    if original.shape != support.shape or original.ndim != 2 or len(labels) != len(original):
        raise ValueError(
            f"Expected two (N, K) outputs and (N,) labels, got {tuple(original.shape)}, {tuple(support.shape)} "
            f"and {tuple(labels.shape)}."
        )
    correlations = []
    for label in labels.unique():
        chosen = labels == label
        if chosen.sum() < 2:
            continue
        own = original[chosen, label].detach().cpu().numpy(), support[chosen, label].detach().cpu().numpy()
        correlations.append(spearmanr(*own).statistic)
    return float(sum(correlations) / len(correlations)) if correlations else float("nan")
