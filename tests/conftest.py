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


@pytest.fixture(autouse=True)
def no_eager_look_ahead(monkeypatch):
    """Tests count the computations a widget makes: its full results are not computed ahead before
    a browser change (``tests/widgets/test_slider_plot_background.py`` tests the eager look-ahead)."""
    from labkit.widgets.slider_plot import SliderPlot

    monkeypatch.setattr(SliderPlot, "EAGER_AHEAD_S", 0.0)
