import pytest
import torch

import labkit
from labkit.models import efficientnet_lite0_weights, imagenet_classes

CATS = {281, 282, 283, 284, 285, 286, 287}


def test_lite0_weights_map_one_to_one_onto_timm():
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    weights = efficientnet_lite0_weights()
    assert list(weights) == list(model.state_dict())
    assert all(weights[k].shape == v.shape for k, v in model.state_dict().items())
    # every tensor is the registry's, not timm's random initialisation
    assert not torch.equal(weights["conv_stem.weight"], model.state_dict()["conv_stem.weight"])


def test_classifier_fields(classifier):
    assert classifier.name == "efficientnet_lite0"
    assert not classifier.model.training
    assert len(classifier.classes) == 1000 and classifier.classes[967] == "espresso"
    assert classifier.cam_layer in dict(classifier.model.named_modules())
    assert classifier.device == labkit.default_device()


def test_offline_predictions_on_sample_photos(classifier):
    top = classifier.top_k(labkit.sample_batch(["chelsea", "coffee", "rocket", "motorcycle"]), k=3)
    assert CATS & {index for index, _, _ in top[0]}
    assert top[1][0][:2] == (967, "espresso") and top[1][0][2] > 0.9
    assert top[2][0][0] == 657  # missile
    assert top[3][0][0] == 665  # moped


def test_two_object_image_has_both_classes_in_top5(classifier):
    top5 = {index for index, _, _ in classifier.top_k(labkit.sample_image("cat_and_coffee"))[0]}
    assert CATS & top5 and 967 in top5


def test_imagenet_classes_come_from_torchvision():
    classes = imagenet_classes()
    assert len(classes) == len(set(classes)) == 1000
    assert classes[0] == "tench" and classes[285] == "Egyptian cat"


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(ValueError, match="efficientnet_lite0.*vgg16"):
        labkit.load_model("alexnet")


def test_online_model_fails_clearly_without_network(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no cached weights

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr("torch.hub.download_url_to_file", no_network)
    with pytest.raises(RuntimeError, match="offline default.*efficientnet_lite0"):
        labkit.load_model("resnet18")
