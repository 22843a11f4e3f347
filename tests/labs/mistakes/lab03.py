"""Lab 3's usual mistakes (CAM: weighted sum, score identity, upsampling)."""

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
        ("no ReLU", "positive = cam_maps.clamp(min=0)", "positive = cam_maps"),
        (
            "ReLU after upsampling",
            UPSAMPLED_THEN_RELU,
            'up = F.interpolate(cam_maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]\n'
            "    return up.clamp(min=0)",
        ),
        ("min-max normalised (labkit's CAM is not)", None, NORMALISED),
        ("calls labkit's upsample_maps", None, CALLS_LABKIT_UPSAMPLE_MAPS),
    ],
}
