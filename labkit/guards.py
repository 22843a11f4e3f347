"""Leave the model as it was found: modes, ``requires_grad`` and hooks, even on error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from torch import nn
from torch.utils.hooks import RemovableHandle

_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
)


def hook_count(model: nn.Module) -> int:
    """How many module hooks are registered anywhere in ``model``."""
    return sum(len(getattr(module, name)) for module in model.modules() for name in _HOOK_DICTS)


class Hooks:
    """Registers module hooks and removes every one of them in :meth:`remove`."""

    def __init__(self) -> None:
        self._handles: list[RemovableHandle] = []

    def forward(self, module: nn.Module, hook: Callable, *, always_call: bool = False) -> None:
        """``always_call``: the hook also runs when the forward raises."""
        self._handles.append(module.register_forward_hook(hook, always_call=always_call))

    def forward_pre(self, module: nn.Module, hook: Callable) -> None:
        self._handles.append(module.register_forward_pre_hook(hook))

    def full_backward(self, module: nn.Module, hook: Callable) -> None:
        self._handles.append(module.register_full_backward_hook(hook))

    def remove(self) -> None:
        while self._handles:
            self._handles.pop().remove()


@contextmanager
def model_guard(model: nn.Module, *, eval_mode: bool = True, freeze: bool = True) -> Iterator[Hooks]:
    """Run code on ``model`` and restore it afterwards, also when an exception is raised.

    Inside the block the model is in eval mode (``eval_mode``) and its parameters do not
    require gradients (``freeze``: attributions need gradients w.r.t. inputs only, which
    saves memory). The yielded :class:`Hooks` registers hooks that are all removed on exit;
    each module's ``training`` flag and each parameter's ``requires_grad`` are restored.
    """
    modes = {module: module.training for module in model.modules()}
    grads = {parameter: parameter.requires_grad for parameter in model.parameters()}
    hooks = Hooks()
    try:
        if eval_mode:
            model.eval()
        if freeze:
            for parameter in grads:
                parameter.requires_grad_(False)
        yield hooks
    finally:
        hooks.remove()
        for module, training in modes.items():
            module.training = training
        for parameter, requires_grad in grads.items():
            parameter.requires_grad_(requires_grad)
