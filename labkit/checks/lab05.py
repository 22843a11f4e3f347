"""Checks behind lab 5's autograded exercises (backward rules of ReLU, guided backprop with hooks, Guided Grad-CAM).

Each ``check_*`` runs the student's function on inputs the notebook never shows, with the
labkit reference forbidden inside the call, and compares with the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labkit.attribution.backward_rules import deconvnet, guided_backprop, passing
from labkit.attribution.cam import upsample_maps
from labkit.attribution.guided_grad_cam import guided_grad_cam
from labkit.checks.common import assert_close, call_student, check_eval_mode_kept, check_raises
from labkit.guards import hook_count
from labkit.toy_models import toy_classifier

RULES = ("backprop", "deconvnet", "guided")


def _expected_rule(f: torch.Tensor, grad_out: torch.Tensor, rule: str) -> torch.Tensor:
    """The seminar deck's table: the forward sign, the backward sign, or both decide."""
    forward = passing(nn.ReLU(), f.clamp(min=0))
    backward = (grad_out > 0).to(grad_out.dtype)
    return grad_out * {"backprop": forward, "deconvnet": backward, "guided": forward * backward}[rule]


def check_relu_backward(student: Callable) -> None:
    """``student(f, grad_out, rule)`` -> the gradient passed to the ReLU's input under ``rule``."""
    for seed, shape in enumerate([(2, 3, 5, 5), (7,), (1, 4, 3, 6), (), (1, 1, 1, 1)]):
        generator = torch.Generator().manual_seed(400 + seed)
        f = torch.randn(shape, generator=generator)
        f[torch.rand(shape, generator=generator) < 0.2] = 0.0  # a ReLU's input is exactly 0 at times
        grad_out = torch.randn(shape, generator=generator)
        for rule in RULES:
            expected = _expected_rule(f, grad_out, rule)
            got = call_student(student, (f, grad_out, rule), (passing,))
            assert_close(
                got,
                expected,
                f"relu_backward(rule={rule!r}) on a tensor of shape {shape}",
                "backprop keeps grad_out where the forward input f > 0 (strictly: the ReLU's derivative at 0 is 0); "
                "deconvnet keeps grad_out where grad_out > 0, whatever f was; guided keeps it where BOTH hold.",
            )
    check_raises(
        student,
        (torch.ones(3), torch.ones(3), "smooth"),
        (passing,),
        ValueError,
        "relu_backward(..., rule='smooth'): only the rules 'backprop', 'deconvnet' and 'guided' exist",
    )


class _ReusedReLU(nn.Module):
    """One ReLU module used twice (as torchvision's ResNet blocks do), and a ReLU6."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 5, 3, padding=1)
        self.conv2 = nn.Conv2d(5, 6, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.relu6 = nn.ReLU6(inplace=True)
        self.head = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv1(x))
        x = self.relu6(self.relu(self.conv2(x)) * 3)
        return self.head(x.mean(dim=(2, 3)))


def _relu6_classifier(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU6(inplace=True),
        nn.Conv2d(6, 8, 3, stride=2, padding=1),
        nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    ).eval()


def _reused_classifier(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return _ReusedReLU().eval()


GUIDED_MODELS = [
    ("a CNN with in-place ReLUs", toy_classifier),
    ("a CNN with ReLU6", _relu6_classifier),
    ("a CNN that uses one ReLU module twice", _reused_classifier),
]


def check_guided_backprop(student: Callable) -> None:
    """``student(model, x (B, 3, H, W), target (B,))`` -> (B, 3, H, W) guided backpropagation gradients."""
    for seed, (what, build) in enumerate(GUIDED_MODELS):
        model = build(20 + seed)
        x = torch.randn(3, 3, 9, 11, generator=torch.Generator().manual_seed(500 + seed))
        target = torch.tensor([seed % 4, (seed + 1) % 4, (seed + 3) % 4])
        expected = guided_backprop(model, x, target, reduce="none")
        flags = {module: module.inplace for module in model.modules() if hasattr(module, "inplace")}
        got = call_student(student, (model, x, target), (guided_backprop, deconvnet, guided_grad_cam, passing))
        assert hook_count(model) == 0, (
            f"Your function left hooks on {what}: remove every handle after the backward pass, "
            "also when an exception is raised (try/finally)."
        )
        assert all(module.inplace == flag for module, flag in flags.items()), (
            f"Your function changed the inplace flags of {what}: restore them after the call."
        )
        assert_close(
            got,
            expected,
            f"guided_backprop on {what}, a batch of 3",
            "At every ReLU and ReLU6 the gradient passes only where the forward input was in the active range "
            "(the ordinary backward: grad_input) AND the incoming gradient is positive (clamp it). Each image uses "
            "its own target: scores = model(x).gather(1, target[:, None]).sum().",
        )
    x = torch.randn(1, 3, 5, 4, generator=torch.Generator().manual_seed(510))  # a batch of 1
    target = torch.tensor([2])
    check_eval_mode_kept(
        lambda model: call_student(student, (model, x, target), (guided_backprop, deconvnet, guided_grad_cam, passing)),
        lambda model: guided_backprop(model, x, target, reduce="none"),
        "guided_backprop",
        assert_close,
    )


def check_guided_grad_cam(student: Callable) -> None:
    """``student(guided (B, 3, H, W), cam (B, h, w))`` -> (B, 3, H, W): guided times the upsampled map."""
    cases = [(3, 12, 12, 3, 3), (2, 17, 13, 5, 4), (1, 8, 8, 8, 8), (2, 5, 7, 1, 1), (1, 9, 4, 3, 2)]
    for seed, (batch, height, width, h, w) in enumerate(cases):
        generator = torch.Generator().manual_seed(600 + seed)
        guided = torch.randn(batch, 3, height, width, generator=generator)
        cam = torch.rand(batch, h, w, generator=generator)
        expected = guided * upsample_maps(cam, (height, width))[:, None]
        got = call_student(student, (guided, cam), (upsample_maps, guided_grad_cam))
        assert_close(
            got,
            expected,
            f"guided_grad_cam for {batch} image(s) of {height}x{width}, maps of {h}x{w}",
            "Upsample each map bilinearly (align_corners=False) to (H, W), then multiply every colour channel "
            "of the guided gradient by it: cam_up[:, None] broadcasts over the channels.",
        )
