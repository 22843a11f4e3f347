"""Which device labkit computes on."""

import torch


def default_device() -> torch.device:
    """CUDA when a GPU is visible, the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a parameter-free model)."""
    for parameter in model.parameters():
        return parameter.device
    return torch.device("cpu")
