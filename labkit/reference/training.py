"""Training a small classifier on the shapes dataset: seeded, on the best device, with progress."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from labkit.data.dataset import SHAPES_NORMALIZATION, ShapesDataset
from labkit.images import Normalization


@dataclass
class TrainingLog:
    """What happened: per-epoch seconds, loss and validation accuracy."""

    epoch_seconds: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)


@torch.no_grad()
def accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = 256,
    preprocess: Normalization = SHAPES_NORMALIZATION,
) -> float:
    """Fraction of ``images`` (in [0, 1]) that ``model`` classifies as ``labels`` (eval mode, ``preprocess`` first)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    correct = torch.zeros((), device=device)
    for start in range(0, len(labels), batch_size):
        inputs = preprocess(images[start : start + batch_size].to(device))
        correct += (model(inputs).argmax(1) == labels[start : start + batch_size].to(device)).sum()
    model.train(was_training)
    return float(correct) / len(labels)


def train(
    model: nn.Module,
    train_set: ShapesDataset,
    val_set: ShapesDataset,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
) -> TrainingLog:
    """Train ``model`` in place with AdamW and a one-cycle learning rate, cross-entropy loss.

    Batches are drawn in a seeded order; the model stays on its device and so do the batches.
    """
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    steps = epochs * ((len(train_set) + batch_size - 1) // batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    log = TrainingLog()
    for epoch in range(epochs):
        model.train()
        start, total = time.perf_counter(), torch.zeros((), device=device)
        order = torch.randperm(len(train_set), generator=generator)
        batches = order.split(batch_size)
        for batch in tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False):
            inputs = SHAPES_NORMALIZATION(train_set.images[batch].to(device))
            loss = F.cross_entropy(model(inputs), train_set.labels[batch].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.detach() * len(batch)
        log.epoch_seconds.append(time.perf_counter() - start)
        log.train_loss.append(float(total) / len(train_set))
        log.val_accuracy.append(accuracy(model, val_set.images, val_set.labels))
        if progress:
            tqdm.write(
                f"epoch {epoch + 1}: loss {log.train_loss[-1]:.3f}, val accuracy {log.val_accuracy[-1]:.3f}, "
                f"{log.epoch_seconds[-1]:.0f} s"
            )
    model.eval()
    return log
