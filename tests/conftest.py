"""Fixtures shared by the whole suite: the offline default model is loaded once."""

import matplotlib
import pytest

from labkit.toy_models import tiny_cnn

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def classifier():
    import labkit

    return labkit.load_model()


@pytest.fixture()
def toy_model():
    """A tiny CNN with in-place ReLU and a GAP + linear head (3 classes); random but seeded."""
    return tiny_cnn()
