"""SliderPlot: browser changes are computed in the background, latest setting first, on copies of the state."""

import threading
import time

import ipywidgets
import torch
from matplotlib.figure import Figure

from labkit.widgets.slider_plot import SliderPlot, ahead, from_browser


def draw(result, a):
    figure = Figure(figsize=(1, 1))
    figure.subplots().set_title(str(result))
    return figure


def settle(plot, expected, timeout=20.0):
    """Wait until the status line says ``expected``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if expected in plot.status.value:
            return plot.status.value
        time.sleep(0.01)
    raise AssertionError(f"the plot did not show {expected!r}: {plot.status.value!r}")


def browser_sets(slider, value):
    """What ipywidgets does with a value sent by the front end."""
    slider.set_state({"value": value})


def make_plot(seconds=0.0, preview=None):
    calls, state = [], {"model": "original"}

    def compute(state, a):
        calls.append((a, threading.current_thread().name))
        state["model"] = "changed by the widget"
        time.sleep(seconds)
        return a * 10

    plot = SliderPlot(compute, draw, state=state, preview=preview, a=ipywidgets.IntSlider(1, min=0, max=9))
    return plot, calls, state


def test_browser_changes_run_in_the_background_on_copies_and_come_back_from_the_cache():
    plot, calls, state = make_plot()
    first = plot.output.outputs[0]["data"]["image/png"]
    assert calls == [(1, "MainThread")] and "computed in" in plot.status.value
    state["model"] = "original"
    browser_sets(plot.sliders["a"], 5)
    settle(plot, "a = 5: computed in")
    assert plot.output.outputs[0]["data"]["image/png"] != first and plot.cache[(5,)] == 50
    assert state["model"] == "original"  # the background threads work on copies
    browser_sets(plot.sliders["a"], 1)
    settle(plot, "a = 1: from the cache")
    assert plot.output.outputs[0]["data"]["image/png"] == first
    end = time.monotonic() + 20
    while not {(0,), (2,)} <= set(plot.images) and time.monotonic() < end:  # neighbours of 1, computed ahead
        time.sleep(0.01)
    assert {(0,), (2,)} <= set(plot.images)
    assert all(thread != "MainThread" for _, thread in calls[1:])
    plot.close()


def test_a_fast_series_of_presses_skips_to_the_latest_setting():
    plot, calls, _ = make_plot(seconds=0.3)
    for value in (2, 3, 4, 5, 6):
        browser_sets(plot.sliders["a"], value)
    settle(plot, "a = 6: computed in")
    asked = [a for a, thread in calls if thread.endswith("front")]
    assert asked[-1] == 6 and len(asked) <= 2  # at most the one under way when the presses came, then the last
    plot.close()


def test_a_preview_is_shown_first_then_the_full_result():
    plot, _, _ = make_plot(seconds=0.5, preview=lambda state, a: -a)
    browser_sets(plot.sliders["a"], 7)
    settle(plot, "a = 7: preview in")
    settle(plot, "a = 7: computed in")
    assert plot.cache[(7,)] == 70
    plot.close()


def test_previews_around_the_setting_are_made_ahead_from_the_start_full_results_after_a_change():
    plot, _, _ = make_plot(seconds=0.5, preview=lambda state, a: -a)  # the preview stays up 0.5 s
    end = time.monotonic() + 20
    while not {(0,), (2,)} <= set(plot.previews) and time.monotonic() < end:
        time.sleep(0.01)
    assert {(0,), (2,)} <= set(plot.previews) and set(plot.images) == {(1,)}  # no full result ahead yet
    browser_sets(plot.sliders["a"], 2)
    settle(plot, "a = 2: preview made ahead")
    settle(plot, "a = 2: computed in")
    plot.close()


def test_a_cheap_plot_looks_ahead_at_once(monkeypatch):
    monkeypatch.setattr(SliderPlot, "EAGER_AHEAD_S", 1.0)  # the default
    plot, calls, _ = make_plot()
    end = time.monotonic() + 20
    while not {(0,), (2,)} <= set(plot.images) and time.monotonic() < end:
        time.sleep(0.01)
    assert {(0,), (2,)} <= set(plot.images) and all(thread.endswith("back") for _, thread in calls[1:])
    plot.close()


def test_python_changes_redraw_at_once_and_errors_are_shown():
    def compute(a):
        if a == 3:
            raise ValueError("no maps at 3")
        return a

    plot = SliderPlot(compute, draw, a=ipywidgets.IntSlider(1, min=0, max=9))
    plot.sliders["a"].value = 2
    assert "a = 2: computed in" in plot.status.value and not from_browser(plot.sliders["a"])
    browser_sets(plot.sliders["a"], 3)
    settle(plot, "a = 3: failed")
    assert "no maps at 3" in plot.output.outputs[0]["text"]
    plot.close()


def test_a_menu_changed_in_the_browser_is_computed_in_the_background():
    calls = []

    def compute(option):
        calls.append((option, threading.current_thread().name))
        return option

    plot = SliderPlot(
        compute, lambda result, option: draw(result, option), option=ipywidgets.Dropdown(options=["a", "b", "c"])
    )
    plot.sliders["option"].set_state({"index": 2})  # a menu's front end sends the index, not the value
    # Shown by whichever background path got there first: the front thread, or the look-ahead (menus are
    # computed ahead in full), then "computed ahead" or "from the cache".
    settle(plot, "option = c: ")
    assert calls[0] == ("a", "MainThread")
    assert next(thread for option, thread in calls if option == "c").endswith(("front", "back"))
    assert all(thread != "MainThread" for _, thread in calls[1:])
    plot.sliders["option"].value = "b"  # from Python: at once, in this thread
    assert "option = b" in plot.status.value and not from_browser(plot.sliders["option"])
    plot.close()


def test_look_ahead_is_one_slider_step_or_every_other_option_nearest_first():
    assert ahead(ipywidgets.IntSlider(16, min=16, max=112, step=8), 16) == [24]
    assert ahead(ipywidgets.FloatSlider(0.5, min=0, max=1, step=0.05), 0.95) == [1.0, 0.9]
    assert ahead(ipywidgets.Dropdown(options=["a", "b", "c", "d", "e"]), "c") == ["d", "b", "e", "a"]
    assert ahead(ipywidgets.Dropdown(options=["a", "b", "c"]), "a") == ["b", "c"]
    assert ahead(ipywidgets.SelectionSlider(options=[0.0, 2.0]), 2.0) == [0.0]


CALLS = []  # (thread, start, end) of every Recording forward, shared by the plot's copies of the model


class Recording(torch.nn.Module):
    """A module whose forward takes ``seconds`` and is noted in CALLS."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        start = time.monotonic()
        time.sleep(self.seconds)
        CALLS.append((threading.current_thread().name, start, time.monotonic()))
        return x * 2


def test_the_look_ahead_waits_while_the_setting_asked_for_is_computed():
    CALLS.clear()
    model = torch.nn.Sequential(*[Recording(0.005) for _ in range(5)])
    asked = []

    def compute(model, a):
        start = time.monotonic()
        leaf = torch.ones(3, requires_grad=True)
        for _ in range(20):  # 0.5 s
            model(leaf).sum().backward()
        if threading.current_thread().name.endswith("front"):
            asked.append((start, time.monotonic()))
        return a

    plot = SliderPlot(compute, draw, state=model, a=ipywidgets.IntSlider(1, min=0, max=9))
    browser_sets(plot.sliders["a"], 5)  # the look-ahead starts on 4 and 6 at once
    settle(plot, "a = 5: computed in")
    time.sleep(0.15)
    browser_sets(plot.sliders["a"], 8)  # asked while the look-ahead works on 4 or 6
    settle(plot, "a = 8: computed in")
    plot.close()
    assert len(asked) == 2
    for start, end in asked:  # a module call already under way may finish, no other starts
        overlapping = [c for c in CALLS if c[0].endswith("back") and start + 0.01 < c[1] < end]
        assert not overlapping, f"the look-ahead ran {len(overlapping)} modules while the front computed"
    assert any(c[0].endswith("back") for c in CALLS)  # it did look ahead
