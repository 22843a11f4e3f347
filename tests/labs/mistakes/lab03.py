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

MISTAKES: dict[str, list[tuple]] = {
    "class_activation_map": [
        (
            "weights of the predicted class instead of the target",
            "weights[torch.as_tensor(targets)]",
            "weights[(features.mean(dim=(2, 3)) @ weights.T).argmax(dim=1)]",
            VISIBLE,
        ),
        (
            "weight matrix transposed (a column instead of a row)",
            "weights[torch.as_tensor(targets)]",
            "weights[:, torch.as_tensor(targets)].T",
            VISIBLE,
        ),
        ("ReLU on the raw map", ".sum(dim=1)\n", ".sum(dim=1).clamp(min=0)\n", VISIBLE),
        (
            "the first image's target for the whole batch",
            "weights[torch.as_tensor(targets)]",
            "weights[torch.as_tensor(targets)[:1]]",
            VISIBLE,
        ),
        ("mean over the channels instead of the weighted sum", ".sum(dim=1)\n", ".mean(dim=1)\n", VISIBLE),
        (
            "squeezes the result (a batch of 1 or 1 x 1 maps loses dimensions)",
            "features).sum(dim=1)\n",
            "features).sum(dim=1).squeeze()\n",
            VISIBLE,
        ),
        ("calls labkit's weighted_maps", None, CALLS_LABKIT_WEIGHTED_MAPS),
    ],
    "cam_score": [
        ("sums instead of averaging (forgets Z)", "cam_maps.sum(dim=(1, 2)) / z", "cam_maps.sum(dim=(1, 2))", VISIBLE),
        (
            "ReLU before the identity",
            "cam_maps.sum(dim=(1, 2)) / z",
            "cam_maps.clamp(min=0).sum(dim=(1, 2)) / z",
            VISIBLE,
        ),
        ("forgets the bias", "/ z + bias", "/ z", VISIBLE),
        ("one mean over the whole batch", "cam_maps.sum(dim=(1, 2)) / z", "cam_maps.mean()", VISIBLE),
        (
            "Z from the height only (square maps only)",
            "z = cam_maps.shape[-2] * cam_maps.shape[-1]",
            "z = cam_maps.shape[-2] ** 2",
            VISIBLE,
        ),
        ("calls labkit's scores_from_cam", None, CALLS_LABKIT_SCORES_FROM_CAM),
    ],
    "upsample_cam": [
        ("nearest-neighbour upsampling", 'mode="bilinear", align_corners=False', 'mode="nearest"', VISIBLE),
        ("align_corners=True", "align_corners=False", "align_corners=True", VISIBLE),
        ("size given as (width, height)", "size=size,", "size=tuple(size)[::-1],", VISIBLE),
        ("no ReLU", "positive = cam_maps.clamp(min=0)", "positive = cam_maps", VISIBLE),
        (
            "ReLU after upsampling",
            UPSAMPLED_THEN_RELU,
            'up = F.interpolate(cam_maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]\n'
            "    return up.clamp(min=0)",
            VISIBLE,
        ),
        ("min-max normalised (labkit's CAM is not)", None, NORMALISED, VISIBLE),
        (
            "a scale factor from the integer ratio of the sizes",
            "size=size,",
            "scale_factor=(size[0] // cam_maps.shape[-2], size[1] // cam_maps.shape[-1]),",
            VISIBLE,
        ),
        ("calls labkit's upsample_maps", None, CALLS_LABKIT_UPSAMPLE_MAPS),
    ],
    "train_head": [
        ("sums the loss over the images", "bias, labels)", "bias, labels, reduction='sum')", VISIBLE),
        ("never updates the bias", "(bias - lr * grad_b).detach()", "bias.detach()", VISIBLE),
        ("gradient ascent", "weights - lr * grad_w", "weights + lr * grad_w", VISIBLE),
        (
            "one row per class seen in the labels",
            "torch.zeros(n_classes, pooled.shape[1]",
            "torch.zeros(int(labels.max()) + 1, pooled.shape[1]",
            VISIBLE,
        ),
        (
            "random initial weights",
            "weights = torch.zeros(n_classes, pooled.shape[1], dtype=pooled.dtype, device=pooled.device)",
            "weights = 0.01 * torch.randn(n_classes, pooled.shape[1])",
            VISIBLE,
        ),
        ("squared error on the probabilities instead of the cross-entropy", None, MSE_HEAD, VISIBLE),
        ("calls labkit's fit_gap_head", None, CALLS_LABKIT_HEAD),
    ],
}
