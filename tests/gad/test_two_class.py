import pytest
import torch

from labkit.gad import OutputSubset, two_class_classifier
from labkit.gad.two_class import GroupedOutputs


def test_output_subset_and_groups(two_class_model):
    full = torch.nn.Sequential(two_class_model, torch.nn.Linear(2, 5))
    x = torch.randn(3, 3, 6, 6)
    logits = full(x)
    torch.testing.assert_close(OutputSubset(full, [4, 1])(x), logits[:, [4, 1]])
    grouped = GroupedOutputs(full, [[0, 1], [2, 3, 4]])(x)
    probabilities = logits.softmax(1)  # the softmax over the groups is each group's summed probability
    summed = torch.stack([probabilities[:, :2].sum(1), probabilities[:, 2:].sum(1)], 1)
    torch.testing.assert_close(grouped.softmax(1), summed)


def test_two_class_classifier_restricts_a_shipped_model():
    classifier = two_class_classifier(device="cpu")
    assert classifier.classes == ["circle", "triangle"] and classifier.name == "shapes_mobilenet_v2[circle,triangle]"
    x = torch.zeros(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(classifier.model(x), classifier.model.model(x)[:, [0, 2]])
    with pytest.raises(ValueError, match="exactly two classes"):
        two_class_classifier(classes=("circle",))
