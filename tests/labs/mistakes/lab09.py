"""Lab 9's usual mistakes (GAD: artificial targets, GAD's mask, the sensitivity ratio)."""

CALLS_LABKIT_TARGETS = (
    "def artificial_targets(logits, labels, class_a, class_b, alpha):\n"
    "    import labkit.gad\n"
    "    return labkit.gad.artificial_targets(logits, labels, class_a, class_b, alpha)\n"
)

CALLS_LABKIT_IMPORTANT_PIXELS = (
    "def gad_mask(maps, fraction):\n"
    "    from labkit.metrics import important_pixels\n"
    "    return torch.stack([important_pixels(m, fraction=fraction) for m in maps]).all(dim=0)\n"
)

VALUE_THRESHOLD = (
    "def gad_mask(maps, fraction):\n    return (maps >= fraction * maps.amax(dim=(2, 3), keepdim=True)).all(dim=0)\n"
)

CALLS_LABKIT_RS = (
    "def sensitivity_ratio(model, x, masks, outputs):\n"
    "    import labkit\n"
    "    return labkit.metrics.sensitivity_ratio(model, x, masks, outputs)\n"
)

BOTH_TARGETS = "    targets[labels == class_a, class_b] -= alpha\n    targets[labels == class_b, class_a] -= alpha\n"

MISTAKES: dict[str, list[tuple[str, str | None, str]]] = {
    "artificial_targets": [
        (
            "subtracts alpha from the sample's own class",
            BOTH_TARGETS,
            "    targets[labels == class_a, class_a] -= alpha\n    targets[labels == class_b, class_b] -= alpha\n",
        ),
        ("adds alpha instead of subtracting it", BOTH_TARGETS, BOTH_TARGETS.replace("-=", "+=")),
        ("changes the logits in place", "logits.detach().clone()", "logits.detach()"),
        ("forgets the samples of class b", BOTH_TARGETS, "    targets[labels == class_a, class_b] -= alpha\n"),
        ("calls labkit's artificial_targets", None, CALLS_LABKIT_TARGETS),
    ],
    "gad_mask": [
        ("union instead of intersection", "important.all(dim=0)", "important.any(dim=0)"),
        ("keeps the least important pixels", "flat.topk(keep, dim=2)", "flat.topk(keep, dim=2, largest=False)"),
        ("a threshold on the values instead of the top fraction of pixels", None, VALUE_THRESHOLD),
        ("only the original model's map", "important.all(dim=0)", "important[0]"),
        ("calls labkit's important_pixels", None, CALLS_LABKIT_IMPORTANT_PIXELS),
    ],
    "sensitivity_ratio": [
        ("no absolute value", "(before - after).abs()", "(before - after)"),
        ("divides by the image's area", "masks.flatten(1).sum(dim=1)", "masks[0].numel()"),
        ("occludes everything but the mask", "x * (1 - masks[:, None])", "x * masks[:, None]"),
        (
            "probabilities instead of the raw output",
            "before = model(x)[rows, outputs]\n        after = model(occluded)[rows, outputs]",
            "before = model(x).softmax(1)[rows, outputs]\n        after = model(occluded).softmax(1)[rows, outputs]",
        ),
        ("calls labkit's sensitivity_ratio", None, CALLS_LABKIT_RS),
    ],
}
