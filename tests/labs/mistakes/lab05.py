"""Lab 5's usual mistakes (ReLU backward rules, guided backprop with hooks, Guided Grad-CAM)."""

from tests.labs.mistakes import VISIBLE
from tests.labs.mistakes.lab01 import mode_mistakes

CALLS_LABKIT_RULE = (
    "def relu_backward(f, grad_out, rule):\n"
    "    from torch import nn\n"
    "    from labkit.attribution.backward_rules import passing\n"
    "    forward_mask = passing(nn.ReLU(), f.clamp(min=0))\n"
    "    backward_mask = (grad_out > 0).to(grad_out.dtype)\n"
    "    masks = {'backprop': forward_mask, 'deconvnet': backward_mask, 'guided': forward_mask * backward_mask}\n"
    "    return grad_out * masks[rule]\n"
)


CALLS_LABKIT_GUIDED = (
    "def guided_backprop(model, x, target):\n"
    "    return labkit.attribution.guided_backprop(model, x, target, reduce='none')\n"
)

CALLS_LABKIT_UPSAMPLE = (
    "def guided_grad_cam(guided, cam):\n"
    "    from labkit.attribution.cam import upsample_maps\n"
    "    return guided * upsample_maps(cam, tuple(guided.shape[-2:]))[:, None]\n"
)

MISTAKES: dict[str, list[tuple]] = {
    "relu_backward": [
        (
            "guided by the forward sign only (= the gradient)",
            "grad_out * forward_mask * backward_mask",
            "grad_out * forward_mask",
            VISIBLE,
        ),
        (
            "guided by the backward sign only (= deconvnet)",
            "grad_out * forward_mask * backward_mask",
            "grad_out * backward_mask",
            VISIBLE,
        ),
        (
            "deconvnet masked by the forward sign",
            'if rule == "deconvnet":\n        return grad_out * backward_mask',
            'if rule == "deconvnet":\n        return grad_out * forward_mask',
            VISIBLE,
        ),
        ("backprop passes at f = 0", "(f > 0)", "(f >= 0)", VISIBLE),
        (
            "no error for an unknown rule",
            "    raise ValueError(f\"unknown rule {rule!r}: use 'backprop', 'deconvnet' or 'guided'\")",
            "    return grad_out",
            VISIBLE,
        ),
        (
            "returns a flat tensor (right only for 1-D inputs)",
            "return grad_out * forward_mask * backward_mask",
            "return (grad_out * forward_mask * backward_mask).flatten()",
        ),
        ("calls labkit's rules", None, CALLS_LABKIT_RULE),
    ],
    "guided_backprop": [
        (
            "forward sign only (= the plain gradient)",
            "return (grad_input[0].clamp(min=0),)",
            "return grad_input",
            VISIBLE,
        ),
        (
            "backward sign only (= deconvnet)",
            "return (grad_input[0].clamp(min=0),)",
            "return (grad_output[0].clamp(min=0),)",
            VISIBLE,
        ),
        ("does not handle the batch", ".gather(1, target[:, None]).sum()", "[:, target].sum()", VISIBLE),
        (
            "the first image's target for the whole batch",
            ".gather(1, target[:, None]).sum()",
            "[:, target[0]].sum()",
            VISIBLE,
        ),
        ("forgets ReLU6", "isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))", "isinstance(m, torch.nn.ReLU)", VISIBLE),
        ("leaves the hooks on the model", "            handle.remove()\n", "            pass\n", VISIBLE),
        ("does not restore the inplace flags", "            module.inplace = flag\n", "            pass\n", VISIBLE),
        ("keeps the in-place ReLUs", "            module.inplace = False\n", "", VISIBLE),
        *mode_mistakes("        "),
        ("calls labkit's guided_backprop", None, CALLS_LABKIT_GUIDED),
    ],
    "guided_grad_cam": [
        (
            "multiplies without broadcasting over the channels",
            "guided * upsampled",
            "guided * upsampled[:, 0]",
            VISIBLE,
        ),
        ("nearest instead of bilinear upsampling", 'mode="bilinear", align_corners=False', 'mode="nearest"', VISIBLE),
        ("size given as (width, height)", "size=guided.shape[-2:]", "size=guided.shape[-2:][::-1]", VISIBLE),
        ("reduces the channels", "return guided * upsampled", "return guided.abs().amax(1) * upsampled[:, 0]", VISIBLE),
        ("calls labkit's upsample_maps", None, CALLS_LABKIT_UPSAMPLE),
    ],
}
