"""Lab 10's usual mistakes (a convolution's weights across frameworks, Grad-CAM from the split models)."""

from tests.labs.mistakes import VISIBLE

CALLS_LABKIT_CONVERSION = (
    "def conv_to_keras(conv):\n"
    "    from labkit.keras.convert import conv_kernel_to_keras\n"
    "    bias = [] if conv.bias is None else [conv.bias.detach().numpy()]\n"
    "    return [conv_kernel_to_keras(conv.weight)] + bias\n"
)

CALLS_LABKIT_GRAD_CAM = (
    "def grad_cam_split(feature_model, head_model, x, targets):\n"
    "    import labkit.keras\n"
    "    return labkit.keras.grad_cam(feature_model, head_model, x, targets)\n"
)

MISTAKES: dict[str, list[tuple]] = {
    "conv_to_keras": [
        ("transposed kernel (kW, kH instead of kH, kW)", ".permute(2, 3, 1, 0)", ".permute(3, 2, 1, 0)", VISIBLE),
        ("in and out channels swapped", ".permute(2, 3, 1, 0)", ".permute(2, 3, 0, 1)", VISIBLE),
        (
            "reshape instead of a permutation",
            ".permute(2, 3, 1, 0).numpy()",
            ".numpy().reshape(conv.weight.shape[2:] + conv.weight.shape[1::-1])",
            VISIBLE,
        ),
        ("drops the bias", "return [kernel, conv.bias.detach().cpu().numpy()]", "return [kernel]", VISIBLE),
        ("a None bias in the list", "return [kernel]\n", "return [kernel, None]\n", VISIBLE),
        (
            "squeezes the kernel (1x1 kernels and single channels lose their axes)",
            ".permute(2, 3, 1, 0).numpy()",
            ".permute(2, 3, 1, 0).numpy().squeeze()",
            VISIBLE,
        ),
        ("calls labkit's conversion", None, CALLS_LABKIT_CONVERSION),
    ],
    "grad_cam_split": [
        (
            "no ReLU",
            "cam = tf.nn.relu(tf.reduce_sum(alpha * maps, axis=-1))",
            "cam = tf.reduce_sum(alpha * maps, axis=-1)",
            VISIBLE,
        ),
        (
            "gradients of the probability instead of the score",
            "logits = head_model(maps, training=False)",
            "logits = tf.nn.softmax(head_model(maps, training=False))",
            VISIBLE,
        ),
        (
            "calls the head model in training mode",
            "head_model(maps, training=False)",
            "head_model(maps, training=True)",
            VISIBLE,
        ),
        (
            "calls the feature model in training mode",
            "feature_model(x, training=False)",
            "feature_model(x, training=True)",
            VISIBLE,
        ),
        (
            "squeezes the maps (a batch of one loses its axis)",
            'return tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0]',
            'return tf.squeeze(tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear"))',
            VISIBLE,
        ),
        (
            "pools the gradients over the batch axis too",
            "axis=(1, 2), keepdims=True",
            "axis=(0, 1, 2), keepdims=True",
            VISIBLE,
        ),
        (
            "sums the gradients instead of averaging them",
            "tf.reduce_mean(gradients",
            "tf.reduce_sum(gradients",
            VISIBLE,
        ),
        ("nearest instead of bilinear resizing", 'method="bilinear"', 'method="nearest"', VISIBLE),
        ("calls labkit's Grad-CAM", None, CALLS_LABKIT_GRAD_CAM),
    ],
}
