"""Which device labkit computes on."""

import torch


def mps_available() -> bool:
    """Whether torch offers Apple's Metal (MPS) backend here (Apple silicon, a torch built with it)."""
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def default_device() -> torch.device:
    """CUDA when a GPU is visible, else Apple's MPS where torch offers it, else the CPU.

    Every method computes in the inputs' dtype (float32): MPS has no float64, so labkit keeps
    float64 (quadrature nodes, tables) on the CPU and converts before moving tensors over.
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    if mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a parameter-free model)."""
    for parameter in model.parameters():
        return parameter.device
    return torch.device("cpu")
