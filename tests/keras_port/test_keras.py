"""labkit.keras: weight copies both ways, identical logits and maps in Keras and PyTorch, the VGG16 twin,
and a Keras peer (tf-keras-vis). TensorFlow is imported once for the module; the models are shared."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import labkit
from labkit import attribution

lk = pytest.importorskip("labkit.keras")
keras = pytest.importorskip("keras")

from labkit.keras.models import LITE0_CAM_LAYER, keras_vgg16_inputs  # noqa: E402

PHOTOS = ["chelsea", "coffee", "rocket", "cat_and_coffee"]


@pytest.fixture(scope="module")
def lite0(classifier):
    """(PyTorch classifier on the CPU, its Keras twin, preprocessed photos NCHW, the same NHWC)."""
    clf = labkit.load_model(device="cpu")
    x = clf.preprocess(labkit.sample_batch(PHOTOS))
    return clf, lk.keras_efficientnet_lite0(clf.model), x, lk.nhwc(x)


def test_import_labkit_does_not_import_tensorflow():
    code = (
        "import sys, labkit, labkit.attribution; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "module",
    [
        nn.Conv2d(3, 5, (3, 5), stride=(2, 1), bias=True),
        nn.Conv2d(4, 4, 3, groups=4, bias=False),  # depthwise
        nn.Conv2d(6, 2, 1, bias=False),
    ],
    ids=["conv", "depthwise", "pointwise"],
)
def test_conv_copy_both_ways_gives_the_same_outputs(module):
    torch.manual_seed(0)
    nn.init.normal_(module.weight)
    depthwise = module.groups > 1
    layer_type = keras.layers.DepthwiseConv2D if depthwise else keras.layers.Conv2D
    options = {} if depthwise else {"filters": module.out_channels}
    layer = layer_type(
        kernel_size=module.kernel_size, strides=module.stride, use_bias=module.bias is not None, **options
    )
    x = torch.randn(2, module.in_channels, 9, 11)
    layer.build((None, 9, 11, module.in_channels))
    lk.torch_to_keras(module, layer)
    with torch.no_grad():
        expected = module(x)
    np.testing.assert_allclose(lk.nchw(layer(lk.nhwc(x))).numpy(), expected.numpy(), atol=1e-5)
    back = nn.Conv2d(
        module.in_channels,
        module.out_channels,
        module.kernel_size,
        module.stride,
        groups=module.groups,
        bias=module.bias is not None,
    )
    lk.keras_to_torch(layer, back)
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), module.state_dict().values()))


def test_batch_norm_and_dense_copy_both_ways():
    torch.manual_seed(1)
    bn = nn.BatchNorm2d(3, eps=1e-5).eval()
    bn.running_mean.normal_()
    bn.running_var.uniform_(1e-4, 1e-3)  # small variances: the epsilon matters
    keras_bn = keras.layers.BatchNormalization(epsilon=1e-5)
    keras_bn.build((None, 4, 4, 3))
    lk.torch_to_keras(bn, keras_bn)
    x = torch.randn(2, 3, 4, 4)
    with torch.no_grad():
        np.testing.assert_allclose(lk.nchw(keras_bn(lk.nhwc(x), training=False)).numpy(), bn(x).numpy(), atol=1e-4)
    wrong_epsilon = keras.layers.BatchNormalization()  # Keras's default 1e-3
    wrong_epsilon.build((None, 4, 4, 3))
    with pytest.raises(ValueError, match="epsilon=1e-05"):
        lk.torch_to_keras(bn, wrong_epsilon)
    linear, dense = nn.Linear(7, 3), keras.layers.Dense(3)
    dense.build((None, 7))
    lk.torch_to_keras(linear, dense)
    v = torch.randn(4, 7)
    np.testing.assert_allclose(dense(v.numpy()).numpy(), linear(v).detach().numpy(), atol=1e-6)
    back = nn.Linear(7, 3)
    lk.keras_to_torch(dense, back)
    assert torch.equal(back.weight, linear.weight) and torch.equal(back.bias, linear.bias)


def test_lite0_logits_equal_pytorch_on_the_photos(lite0):
    clf, model, x, x_nhwc = lite0
    with torch.no_grad():
        expected = clf.model(x).numpy()
    logits = model(x_nhwc, training=False).numpy()
    assert np.abs(logits - expected).max() < 1e-4  # measured 7e-6 on logits up to 11
    assert (np.argsort(-logits, axis=1)[:, :5] == np.argsort(-expected, axis=1)[:, :5]).all()
    # the layer that pads as TensorFlow does is matched by Keras's "same", the others by explicit padding
    assert model.get_layer("conv_stem").padding == "same" and model.get_layer("blocks.1.1.conv_dw.pad")


def test_lite0_weights_copy_back_into_pytorch(lite0):
    import timm

    clf, model, _, _ = lite0
    fresh = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    lk.torch_from_keras(model, fresh)
    for (name, a), b in zip(fresh.state_dict().items(), clf.model.state_dict().values()):
        assert torch.equal(a, b.contiguous()), name


def test_maps_equal_labkit_pytorch_maps(lite0):
    clf, model, x, x_nhwc = lite0
    x, x_nhwc = x[[0, 3]], x_nhwc[[0, 3]]
    targets = torch.tensor([285, 967])  # the cat of chelsea, the espresso of the two-object photo
    feature_model, head_model = lk.split_model(model, LITE0_CAM_LAYER)
    split = lk.grad_cam(feature_model, head_model, x_nhwc, targets.numpy()).numpy()
    one = lk.grad_cam_one_model(model, LITE0_CAM_LAYER, x_nhwc, targets.numpy()).numpy()
    expected = attribution.grad_cam(clf.model, x, targets).numpy()
    assert np.abs(split - expected).max() < 1e-5 * expected.max() + 1e-6 and np.array_equal(split, one)
    for keras_method, torch_method in [
        (lk.saliency, attribution.saliency),
        (lk.guided_backprop, attribution.guided_backprop),
    ]:
        got = keras_method(model, x_nhwc, targets.numpy()).numpy()
        want = torch_method(clf.model, x, targets).numpy()
        difference = np.abs(got - want)
        # gradients through ReLU6 gates flip where an activation sits at 0 or 6 within float rounding: a few
        # pixels differ by up to ~2 % of the maximum (PyTorch float32 against float64 differs as much)
        assert difference.max() < 0.05 * want.max() and difference.mean() < 1e-5 * want.max(), keras_method


def test_guided_model_rewrites_relu_inside_layers_and_keeps_the_forward():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    h = keras.layers.ReLU(max_value=6.0)(keras.layers.Conv2D(4, 3, padding="same")(h))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(h)))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    guided = lk.guided_model(model)
    np.testing.assert_allclose(guided(x).numpy(), model(x).numpy(), atol=1e-6)
    plain = lk.saliency(model, x, [0, 1]).numpy()
    assert not np.allclose(lk.guided_backprop(model, x, [0, 1], guided=guided).numpy(), plain)
    bad = keras.Model(inputs, keras.layers.Dense(3, activation="gelu")(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="no guided rule"):
        lk.guided_model(bad)


@pytest.fixture(scope="module")
def random_vgg16():
    keras.utils.set_random_seed(0)
    return lk.keras_vgg16(weights=None)


def test_vgg16_twin_gives_the_same_logits(random_vgg16):
    twin = lk.torch_vgg16_from_keras(random_vgg16)
    images = labkit.sample_batch(["chelsea", "coffee"])
    with torch.no_grad():
        expected = twin.model(twin.preprocess(images)).numpy()
    logits = random_vgg16(keras_vgg16_inputs(images), training=False).numpy()
    assert np.abs(logits - expected).max() < 1e-4 * np.abs(expected).max()


def test_vgg16_fails_at_once_without_network(monkeypatch):
    import keras.src.applications.vgg16 as keras_vgg16_module

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: network is unreachable")  # what Keras's get_file raises

    monkeypatch.setattr(keras_vgg16_module.file_utils, "get_file", no_network)
    with pytest.raises(RuntimeError, match="offline default.*keras_efficientnet_lite0"):
        lk.keras_vgg16()


def test_tf_keras_vis_agrees_on_saliency_and_grad_cam(lite0):
    """The Keras peer, run where it is installed. It is not a course dependency: its wheel (0.8.7) also
    installs a top-level ``tests`` package that shadows this suite's ``tests.labs``. To run this test:
    ``pip install --no-deps --target /some/dir tf-keras-vis==0.8.7 deprecated`` and put the dir on PYTHONPATH
    after the repository."""
    vis = pytest.importorskip("tf_keras_vis", reason="tf-keras-vis is not installed (see the docstring)")
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.utils.scores import CategoricalScore

    _, model, _, x_nhwc = lite0
    x_nhwc, targets = x_nhwc[:2], [285, 967]
    score = CategoricalScore(targets)
    peer = Saliency(model, clone=True)(score, x_nhwc, normalize_map=False)
    np.testing.assert_allclose(lk.saliency(model, x_nhwc, targets).numpy(), peer, atol=1e-6)
    peer_maps = Gradcam(model, clone=True)(
        score,
        x_nhwc,
        penultimate_layer=LITE0_CAM_LAYER,
        seek_penultimate_conv_layer=False,
        normalize_cam=False,
        expand_cam=False,
    )
    feature_model, head_model = lk.split_model(model, LITE0_CAM_LAYER)
    maps = feature_model(x_nhwc)
    ours = lk.grad_cam(feature_model, head_model, x_nhwc, targets).numpy()
    assert vis and peer_maps.shape == (2, *maps.shape[1:3]) and ours.shape == (2, 224, 224)
    from labkit.keras.attribution import grad_cam_weights

    with __import__("tensorflow").GradientTape() as tape:
        tape.watch(maps)
        s = __import__("tensorflow").gather(head_model(maps), targets, axis=1, batch_dims=1)
    raw = grad_cam_weights(maps, tape.gradient(s, maps), tuple(maps.shape[1:3])).numpy()
    peer_maps = np.asarray(peer_maps)
    np.testing.assert_allclose(raw, peer_maps, atol=1e-6 * float(peer_maps.max()))
