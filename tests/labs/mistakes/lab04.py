"""Lab 4's usual mistakes (Grad-CAM by hand, AD / AI / AG)."""

CALLS_LABKIT_GRAD_CAM = (
    "def grad_cam(model, layer, x, target):\n    return labkit.attribution.grad_cam(model, x, target, layer=layer)\n"
)

CALLS_LABKIT_CONFIDENCE = (
    "def confidence_metrics(y, o):\n"
    "    from labkit.metrics.confidence import confidence_metrics as reference\n"
    "    return reference(y, o)\n"
)

MISTAKES: dict[str, list[tuple[str, str | None, str]]] = {
    "grad_cam": [
        ("no ReLU", ".sum(dim=1).clamp(min=0)", ".sum(dim=1)"),
        (
            "averages the activations instead of the gradients",
            "alpha = gradients.mean(dim=(2, 3), keepdim=True)",
            "alpha = activations.mean(dim=(2, 3), keepdim=True)",
        ),
        ("sums the gradients instead of averaging them", "gradients.mean(dim=(2, 3)", "gradients.sum(dim=(2, 3)"),
        (
            "no upsampling",
            'F.interpolate(maps[:, None], size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]',
            "maps",
        ),
        ("nearest instead of bilinear upsampling", 'mode="bilinear", align_corners=False', 'mode="nearest"'),
        ("leaves the hook on the model", "        handle.remove()\n", "        pass\n"),
        ("one target for the whole batch", ".gather(1, target[:, None])", "[:, target[0]:target[0] + 1]"),
        (
            "one alpha per channel from the first position only (right only where the gradient is constant)",
            "alpha = gradients.mean(dim=(2, 3), keepdim=True)",
            "alpha = gradients[:, :, :1, :1]",
        ),
        (
            "upsampled to a square of the height",
            "size=x.shape[-2:]",
            "size=(x.shape[-2], x.shape[-2])",
        ),
        ("calls labkit's grad_cam", None, CALLS_LABKIT_GRAD_CAM),
    ],
    "confidence_metrics": [
        ("AD without max(0, .)", "drop = (y - o).clamp(min=0) / y", "drop = (y - o) / y"),
        ("AD not divided by Y", "drop = (y - o).clamp(min=0) / y", "drop = (y - o).clamp(min=0)"),
        ("AG divided by Y instead of 1 - Y", "/ (1 - y)", "/ y"),
        ("fractions instead of percent", "float(drop.mean()) * 100", "float(drop.mean())"),
        ("AI counts ties (O >= Y)", "(o > y)", "(o >= y)"),
        ("calls labkit's confidence_metrics", None, CALLS_LABKIT_CONFIDENCE),
    ],
}
