"""Lab 3's usual mistakes (CAM: weighted sum, score identity, upsampling)."""

from tests.labs.mistakes import VISIBLE

CALLS_LABKIT_WEIGHTED_MAPS = (
    "def class_activation_map(features, weights, targets):\n"
    "    from labkit.attribution.cam.base import weighted_maps\n"
    "    return weighted_maps(weights[targets][:, :, None, None], features, relu=False)\n"
)

CALLS_LABKIT_SCORES_FROM_CAM = (
    "def cam_score(cam_maps, bias):\n"
    "    from labkit.attribution.cam.identity import scores_from_cam\n"
    "    return scores_from_cam(cam_maps, bias)\n"
)

CALLS_LABKIT_UPSAMPLE_MAPS = (
    "def upsample_cam(cam_maps, size):\n"
    "    from labkit.attribution.cam import upsample_maps\n"
    "    return upsample_maps(cam_maps.clamp(min=0), size)\n"
)

NORMALISED = (
    "import torch.nn.functional as F\n\n\n"
    "def upsample_cam(cam_maps, size):\n"
    "    up = F.interpolate(cam_maps.clamp(min=0)[:, None], size=size, mode='bilinear', align_corners=False)[:, 0]\n"
    "    low = up.flatten(1).amin(dim=1)[:, None, None]\n"
    "    high = up.flatten(1).amax(dim=1)[:, None, None]\n"
    "    return (up - low) / (high - low + 1e-12)\n"
)

UPSAMPLED_THEN_RELU = (
    "positive = cam_maps.clamp(min=0)\n"
    '    return F.interpolate(positive[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]'
)

CALLS_LABKIT_HEAD = (
    "def train_head(pooled, labels, n_classes, steps, lr):\n"
    "    from labkit.attribution.cam.learned_head import fit_gap_head\n"
    "    return fit_gap_head(pooled, labels, n_classes, steps=steps, lr=lr)\n"
)
MSE_HEAD = (
    "def train_head(pooled, labels, n_classes, steps, lr):\n"
    "    weights, bias = torch.zeros(n_classes, pooled.shape[1]), torch.zeros(n_classes)\n"
    "    target = torch.nn.functional.one_hot(labels, n_classes).float()\n"
    "    for _ in range(steps):\n"
    "        weights.requires_grad_(True)\n"
    "        bias.requires_grad_(True)\n"
    "        loss = ((pooled @ weights.T + bias).softmax(dim=1) - target).pow(2).mean()\n"
    "        grad_w, grad_b = torch.autograd.grad(loss, (weights, bias))\n"
    "        weights, bias = (weights - lr * grad_w).detach(), (bias - lr * grad_b).detach()\n"
    "    return weights, bias\n"
)

MISTAKES: dict[str, list[tuple[str, str | None, str]]] = {
    "class_activation_map": [
        (
            "weights of the predicted class instead of the target",
            "weights[torch.as_tensor(targets)]",
            "weights[(features.mean(dim=(2, 3)) @ weights.T).argmax(dim=1)]",
        ),
        (
            "weight matrix transposed (a column instead of a row)",
            "weights[torch.as_tensor(targets)]",
            "weights[:, torch.as_tensor(targets)].T",
        ),
        ("ReLU on the raw map", ".sum(dim=1)\n", ".sum(dim=1).clamp(min=0)\n"),
        (
            "the first image's target for the whole batch",
            "weights[torch.as_tensor(targets)]",
            "weights[torch.as_tensor(targets)[:1]]",
        ),
        ("mean over the channels instead of the weighted sum", ".sum(dim=1)\n", ".mean(dim=1)\n"),
        ("calls labkit's weighted_maps", None, CALLS_LABKIT_WEIGHTED_MAPS),
    ],
    "cam_score": [
        ("sums instead of averaging (forgets Z)", "cam_maps.sum(dim=(1, 2)) / z", "cam_maps.sum(dim=(1, 2))"),
        ("ReLU before the identity", "cam_maps.sum(dim=(1, 2)) / z", "cam_maps.clamp(min=0).sum(dim=(1, 2)) / z"),
        ("forgets the bias", "/ z + bias", "/ z"),
        ("one mean over the whole batch", "cam_maps.sum(dim=(1, 2)) / z", "cam_maps.mean()"),
        (
            "Z from the height only (square maps only)",
            "z = cam_maps.shape[-2] * cam_maps.shape[-1]",
            "z = cam_maps.shape[-2] ** 2",
        ),
        ("calls labkit's scores_from_cam", None, CALLS_LABKIT_SCORES_FROM_CAM),
    ],
    "upsample_cam": [
        ("nearest-neighbour upsampling", 'mode="bilinear", align_corners=False', 'mode="nearest"'),
        ("align_corners=True", "align_corners=False", "align_corners=True"),
        ("size given as (width, height)", "size=size,", "size=tuple(size)[::-1],"),
        ("no ReLU", "positive = cam_maps.clamp(min=0)", "positive = cam_maps", VISIBLE),
        (
            "ReLU after upsampling",
            UPSAMPLED_THEN_RELU,
            'up = F.interpolate(cam_maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]\n'
            "    return up.clamp(min=0)",
        ),
        ("min-max normalised (labkit's CAM is not)", None, NORMALISED),
        ("calls labkit's upsample_maps", None, CALLS_LABKIT_UPSAMPLE_MAPS),
    ],
    "train_head": [
        ("sums the loss over the images", "bias, labels)", "bias, labels, reduction='sum')"),
        ("never updates the bias", "(bias - lr * grad_b).detach()", "bias.detach()"),
        ("gradient ascent", "weights - lr * grad_w", "weights + lr * grad_w"),
        (
            "one row per class seen in the labels",
            "torch.zeros(n_classes, pooled.shape[1]",
            "torch.zeros(int(labels.max()) + 1, pooled.shape[1]",
        ),
        (
            "random initial weights",
            "weights = torch.zeros(n_classes, pooled.shape[1], dtype=pooled.dtype, device=pooled.device)",
            "weights = 0.01 * torch.randn(n_classes, pooled.shape[1])",
        ),
        ("squared error on the probabilities instead of the cross-entropy", None, MSE_HEAD),
        ("calls labkit's fit_gap_head", None, CALLS_LABKIT_HEAD),
    ],
}
