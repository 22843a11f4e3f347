"""Lab 9's usual mistakes (GAD: artificial targets, GAD's mask, the sensitivity ratio).

``VISIBLE`` marks those the release's visible test cell alone must fail; the others (an answer that calls
labkit, a size rounded up) only the hidden tests catch.
"""

from tests.labs.mistakes import VISIBLE

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
KEEP = "keep = max(1, round(fraction * height * width))"
OCCLUDE = "occluded = x * (1 - masks[:, None])"
RS = "return (before - after).abs() / masks.flatten(1).sum(dim=1)\n"
SQUEEZED = "return ((before - after).abs() / masks.flatten(1).sum(dim=1)).squeeze()\n"

MISTAKES: dict[str, list[tuple]] = {
    "artificial_targets": [
        (
            "subtracts alpha from the sample's own class",
            BOTH_TARGETS,
            "    targets[labels == class_a, class_a] -= alpha\n    targets[labels == class_b, class_b] -= alpha\n",
            VISIBLE,
        ),
        ("adds alpha instead of subtracting it", BOTH_TARGETS, BOTH_TARGETS.replace("-=", "+="), VISIBLE),
        ("changes the logits in place", "logits.detach().clone()", "logits.detach()", VISIBLE),
        ("forgets the samples of class b", BOTH_TARGETS, "    targets[labels == class_a, class_b] -= alpha\n", VISIBLE),
        ("calls labkit's artificial_targets", None, CALLS_LABKIT_TARGETS),
    ],
    "gad_mask": [
        ("union instead of intersection", "important.all(dim=0)", "important.any(dim=0)", VISIBLE),
        (
            "keeps the least important pixels",
            "flat.topk(keep, dim=2)",
            "flat.topk(keep, dim=2, largest=False)",
            VISIBLE,
        ),
        ("a threshold on the values instead of the top fraction of pixels", None, VALUE_THRESHOLD, VISIBLE),
        ("only the original model's map", "important.all(dim=0)", "important[0]", VISIBLE),
        # the size k: a small fraction must still keep one pixel
        ("truncates k: a small fraction keeps 0 pixels", KEEP, "keep = int(fraction * height * width)", VISIBLE),
        ("no lower bound of one pixel on k", KEEP, "keep = round(fraction * height * width)", VISIBLE),
        ("truncates k but keeps at least one pixel", KEEP, "keep = max(1, int(fraction * height * width))"),
        ("rounds k up", KEEP, "keep = max(1, -int(-fraction * height * width // 1))"),
        ("calls labkit's important_pixels", None, CALLS_LABKIT_IMPORTANT_PIXELS),
    ],
    "sensitivity_ratio": [
        ("no absolute value", "(before - after).abs()", "(before - after)", VISIBLE),
        ("divides by the image's area", "masks.flatten(1).sum(dim=1)", "masks[0].numel()", VISIBLE),
        ("divides by the masked pixels of the whole batch", "masks.flatten(1).sum(dim=1)", "masks.sum()", VISIBLE),
        ("occludes everything but the mask", OCCLUDE, "occluded = x * masks[:, None]", VISIBLE),
        (
            "occludes the red channel only",
            OCCLUDE,
            "occluded = x.clone()\n    occluded[:, 0] = x[:, 0] * (1 - masks)",
            VISIBLE,
        ),
        (
            "probabilities instead of the raw output",
            "before = model(x)[rows, outputs]\n        after = model(occluded)[rows, outputs]",
            "before = model(x).softmax(1)[rows, outputs]\n        after = model(occluded).softmax(1)[rows, outputs]",
            VISIBLE,
        ),
        ("squeezes a batch of one to a scalar", RS, SQUEEZED),
        ("calls labkit's sensitivity_ratio", None, CALLS_LABKIT_RS),
    ],
}
