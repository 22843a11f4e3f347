import pytest
import torch

from labkit.gad import artificial_targets


def test_artificial_targets_by_hand():
    logits = torch.tensor([[3.0, -1.0, 0.5], [-2.0, 4.0, 0.0], [1.0, 1.0, 1.0]])
    labels = torch.tensor([0, 1, 2])
    targets = artificial_targets(logits, labels, 0, 1, 2.5)
    expected = torch.tensor(
        [
            [3.0, -3.5, 0.5],  # class a: the logit of class b drops
            [-4.5, 4.0, 0.0],  # class b: the logit of class a drops
            [1.0, 1.0, 1.0],  # another class: untouched
        ]
    )
    torch.testing.assert_close(targets, expected)
    torch.testing.assert_close(logits[0], torch.tensor([3.0, -1.0, 0.5]))  # the input is not modified
    torch.testing.assert_close(artificial_targets(logits, labels, 0, 1, 0.0), logits)


def test_artificial_targets_swapped_classes_and_no_graph():
    logits = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    targets = artificial_targets(logits, torch.tensor([1, 0]), 1, 0, 1.0)
    assert not targets.requires_grad
    torch.testing.assert_close(targets, torch.tensor([[0.0, 2.0], [3.0, 3.0]]))


def test_artificial_targets_errors():
    logits = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="one per sample"):
        artificial_targets(logits, torch.tensor([0]), 0, 1, 1.0)
    with pytest.raises(ValueError, match="class_b=2 is not an output"):
        artificial_targets(logits, torch.tensor([0, 1]), 0, 2, 1.0)
    with pytest.raises(ValueError, match="must differ"):
        artificial_targets(logits, torch.tensor([0, 1]), 1, 1, 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        artificial_targets(logits, torch.tensor([0, 1]), 0, 1, -1.0)
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        artificial_targets(torch.zeros(2), torch.tensor([0, 1]), 0, 1, 1.0)
