"""Fixtures shared by the whole suite: the offline default model is loaded once; one Chromium for the
browser tests and the hub's (Playwright's sync API allows one instance per process)."""

import os

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


CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("COURSE_BROWSER_TESTS") == "required"
SKIPPED = os.environ.get("COURSE_BROWSER_TESTS") == "skip"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if SKIPPED:
        return "browser tests left out (COURSE_BROWSER_TESTS=skip)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"browser tests need Chromium at {CHROMIUM}: apt-get install chromium (or set COURSE_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need Playwright: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = browser_missing()
    if reason and REQUIRED:
        pytest.fail(f"{reason} (COURSE_BROWSER_TESTS=required)")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    from tests.browser.jupyterlab import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
