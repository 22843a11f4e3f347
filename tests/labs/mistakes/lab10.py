"""Lab 10's usual mistakes (a convolution's weights across frameworks, Grad-CAM from the split models)."""

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

MISTAKES: dict[str, list[tuple[str, str | None, str]]] = {
    "conv_to_keras": [
        ("transposed kernel (kW, kH instead of kH, kW)", ".permute(2, 3, 1, 0)", ".permute(3, 2, 1, 0)"),
        ("in and out channels swapped", ".permute(2, 3, 1, 0)", ".permute(2, 3, 0, 1)"),
        (
            "reshape instead of a permutation",
            ".permute(2, 3, 1, 0).numpy()",
            ".numpy().reshape(conv.weight.shape[2:] + conv.weight.shape[1::-1])",
        ),
        ("drops the bias", "return [kernel, conv.bias.detach().cpu().numpy()]", "return [kernel]"),
        ("calls labkit's conversion", None, CALLS_LABKIT_CONVERSION),
    ],
    "grad_cam_split": [
        (
            "no ReLU",
            "cam = tf.nn.relu(tf.reduce_sum(alpha * maps, axis=-1))",
            "cam = tf.reduce_sum(alpha * maps, axis=-1)",
        ),
        (
            "gradients of the probability instead of the score",
            "logits = head_model(maps, training=False)",
            "logits = tf.nn.softmax(head_model(maps, training=False))",
        ),
        ("pools the gradients over the batch axis too", "axis=(1, 2), keepdims=True", "axis=(0, 1, 2), keepdims=True"),
        ("sums the gradients instead of averaging them", "tf.reduce_mean(gradients", "tf.reduce_sum(gradients"),
        ("nearest instead of bilinear resizing", 'method="bilinear"', 'method="nearest"'),
        ("calls labkit's Grad-CAM", None, CALLS_LABKIT_GRAD_CAM),
    ],
}
