"""Lab 4's usual mistakes (Grad-CAM by hand, AD / AI / AG)."""

from tests.labs.mistakes import VISIBLE
from tests.labs.mistakes.lab01 import mode_mistakes

CALLS_LABKIT_GRAD_CAM = (
    "def grad_cam(model, layer, x, target):\n    return labkit.attribution.grad_cam(model, x, target, layer=layer)\n"
)

CALLS_LABKIT_CONFIDENCE = (
    "def confidence_metrics(y, o):\n"
    "    from labkit.metrics.confidence import confidence_metrics as reference\n"
    "    return reference(y, o)\n"
)

MISTAKES: dict[str, list[tuple]] = {
    "grad_cam": [
        ("no ReLU", ".sum(dim=1).clamp(min=0)", ".sum(dim=1)", VISIBLE),
        (
            "averages the activations instead of the gradients",
            "alpha = gradients.mean(dim=(2, 3), keepdim=True)",
            "alpha = activations.mean(dim=(2, 3), keepdim=True)",
            VISIBLE,
        ),
        (
            "sums the gradients instead of averaging them",
            "gradients.mean(dim=(2, 3)",
            "gradients.sum(dim=(2, 3)",
            VISIBLE,
        ),
        (
            "no upsampling",
            'F.interpolate(maps[:, None], size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]',
            "maps",
            VISIBLE,
        ),
        ("nearest instead of bilinear upsampling", 'mode="bilinear", align_corners=False', 'mode="nearest"', VISIBLE),
        ("leaves the hook on the model", "        handle.remove()\n", "        pass\n", VISIBLE),
        ("one target for the whole batch", ".gather(1, target[:, None])", "[:, target[0]:target[0] + 1]", VISIBLE),
        (
            "one alpha per channel from the first position only (right only where the gradient is constant)",
            "alpha = gradients.mean(dim=(2, 3), keepdim=True)",
            "alpha = gradients[:, :, :1, :1]",
            VISIBLE,
        ),
        (
            "upsampled to a square of the height",
            "size=x.shape[-2:]",
            "size=(x.shape[-2], x.shape[-2])",
            VISIBLE,
        ),
        *mode_mistakes("    "),
        (
            "squeezes the maps (a batch of 1 loses its dimension)",
            "align_corners=False)[:, 0].detach()",
            "align_corners=False).squeeze().detach()",
            VISIBLE,
        ),
        ("calls labkit's grad_cam", None, CALLS_LABKIT_GRAD_CAM),
    ],
    "confidence_metrics": [
        ("AD without max(0, .)", "drop = (y - o).clamp(min=0) / y", "drop = (y - o) / y", VISIBLE),
        ("AD not divided by Y", "drop = (y - o).clamp(min=0) / y", "drop = (y - o).clamp(min=0)", VISIBLE),
        ("AG divided by Y instead of 1 - Y", "/ (1 - y)", "/ y", VISIBLE),
        ("fractions instead of percent", "float(drop.mean()) * 100", "float(drop.mean())", VISIBLE),
        ("AI counts ties (O >= Y)", "(o > y)", "(o >= y)", VISIBLE),
        (
            "AD on the mean probabilities (one ratio for the batch)",
            "float(drop.mean()) * 100",
            "float(((y - o).clamp(min=0)).mean() / y.mean()) * 100",
            VISIBLE,
        ),
        ("calls labkit's confidence_metrics", None, CALLS_LABKIT_CONFIDENCE),
    ],
}
