"""How many perturbed copies of an image go through the model at once."""

from __future__ import annotations

import weakref

import torch
from torch import nn

from labkit.guards import model_guard

#: Activation bytes a CPU batch may hold. Measured on 2 cores with EfficientNet-Lite0 at
#: 224 px (about 125 MiB of activations per image, weights channels-last as load_model
#: gives them), 24 copies of an image, best of 5 interleaved rounds: forward passes take
#: 0.22-0.28 s at any batch from 4 to 16 (0.32 s at 2); forward+backward passes 0.67-0.69 s
#: at batch 6 to 12, 0.71 s at 4, 0.81 s at 16 (the activations and their gradients then
#: outgrow the caches). Forward passes get 768 MiB (6 images), gradient passes 2 GiB (8
#: images with their gradients).
CPU_BUDGET_BYTES = 768 * 2**20
CPU_GRADIENT_BUDGET_BYTES = 2 * 2**30
#: Fraction of the free GPU memory (CUDA, or Apple's MPS) a batch may use.
MEMORY_FRACTION = 0.5


#: model -> {(input shape, dtype, device): activation bytes}, measured once per input kind.
_MEASURED: weakref.WeakKeyDictionary[nn.Module, dict[tuple, int]] = weakref.WeakKeyDictionary()


def activation_bytes(model: nn.Module, sample: torch.Tensor) -> int:
    """Bytes of all module outputs in one forward pass of a single input ``sample``
    (measured on the first call for a model and an input shape, then remembered)."""
    key = (tuple(sample.shape[1:]), sample.dtype, sample.device)
    known = _MEASURED.setdefault(model, {})
    if key not in known:
        known[key] = _measure_activation_bytes(model, sample)
    return known[key]


def _measure_activation_bytes(model: nn.Module, sample: torch.Tensor) -> int:
    total = 0

    def count(_module: nn.Module, _inputs: tuple, output: object) -> None:
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * output.element_size()

    with model_guard(model) as hooks, torch.no_grad():
        for module in model.modules():
            hooks.forward(module, count)
        model(sample[:1])
    return total


def free_memory_bytes(device: torch.device) -> int:
    """Free memory on ``device``: the GPU's free memory, or the host's available RAM."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return free
    if device.type == "mps":
        return max(torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory(), 0)
    import psutil

    return psutil.virtual_memory().available


def auto_batch_size(
    model: nn.Module, sample: torch.Tensor, *, with_grad: bool = False, limit: int | None = None
) -> int:
    """A batch size for ``model`` on inputs like ``sample``: budget / bytes per input.

    Bytes per input are measured by one forward pass of ``sample`` (all module outputs,
    doubled when a backward pass is needed: the kept activations plus their gradients).
    The budget is MEMORY_FRACTION of the free GPU memory, or on a CPU the smaller of
    CPU_BUDGET_BYTES (CPU_GRADIENT_BUDGET_BYTES with gradients) and half the available RAM.
    ``limit`` caps the result (e.g. the number of copies there are to run).
    """
    per_input = max(activation_bytes(model, sample) * (2 if with_grad else 1), 1)
    if sample.device.type in ("cuda", "mps"):
        budget = free_memory_bytes(sample.device) * MEMORY_FRACTION
    else:
        cpu_budget = CPU_GRADIENT_BUDGET_BYTES if with_grad else CPU_BUDGET_BYTES
        budget = min(cpu_budget, free_memory_bytes(sample.device) // 2)
    size = int(budget // per_input)
    if limit is not None:
        size = min(size, limit)
    return max(size, 1)


def check_batch_size(batch_size: int | None) -> None:
    """``batch_size`` must be None (chosen automatically) or a whole number >= 1."""
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a whole number >= 1 (or None to choose it), got {batch_size!r}.")


def chosen_batch_size(
    batch_size: int | None, model: nn.Module, sample: torch.Tensor, *, with_grad: bool = False, limit: int | None = None
) -> int:
    """``batch_size`` checked by :func:`check_batch_size`, or :func:`auto_batch_size` when it is None."""
    check_batch_size(batch_size)
    if batch_size is not None:
        return batch_size
    return auto_batch_size(model, sample, with_grad=with_grad, limit=limit)
