"""Sliders that redraw a figure, with results cached so that going back is instant.

Sliders update on release (``continuous_update=False``): a CPU computes one map per
settled value instead of one per pixel of slider travel, and every value already seen
is redrawn from the cache (its PNG is kept, so the very same image comes back).

A change made from Python (``plot.sliders["patch"].value = 64``) redraws at once, before
the assignment returns. A change made in the browser is handled in the background, so the
notebook stays responsive and the figure never lags behind a fast series of key presses:

- the latest setting wins: settings passed over while a map was being computed are skipped;
- with a ``preview`` (a cheap, coarse version of ``compute``), the preview is shown first and
  the full result replaces it when ready;
- once idle, the neighbours of the current setting (one step of each slider, the next and
  previous option of each menu) are computed ahead, at a lower CPU priority on Linux.

These threads work on their own copies of ``state`` (e.g. the model), so nothing they do
(hooks, eval mode, frozen parameters) can reach the notebook's own objects while cells run.
A line under the figure says what is shown: a preview, a result and its time, or the cache.
"""

from __future__ import annotations

import atexit
import base64
import copy
import io
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

#: Marks in the page, for people reading the HTML and for the browser tests.
PLOT_CLASS, STATUS_CLASS = "labkit-slider-plot", "labkit-status"
_NO_STATE = object()


def png_of(figure: Figure) -> str:
    """The figure as a base64 PNG (80 dpi, tight box); closes it if pyplot manages it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def from_browser(widget: widgets.Widget) -> bool:
    """Whether the change of ``widget.value`` being notified was sent by the browser.

    ipywidgets locks the properties it receives from the front end while it notifies
    observers (``Widget.set_state``); a change made from Python has no lock.
    """
    return "value" in getattr(widget, "_property_lock", {})


def neighbours(widget: widgets.ValueWidget, value: Any) -> list[Any]:
    """The values one step away from ``value`` on ``widget``: next/previous option, or value +- step."""
    options = getattr(widget, "_options_values", None)
    if options is not None:
        index = list(options).index(value)
        return [options[i] for i in (index + 1, index - 1) if 0 <= i < len(options)]
    if not hasattr(widget, "step"):
        return []
    step = widget.step
    around = [value + step, value - step]
    if isinstance(value, float):
        around = [round(v, 10) for v in around]
    return [v for v in around if widget.min <= v <= widget.max]


class SliderPlot(widgets.VBox):
    """Sliders above a figure: ``draw(compute(**values), **values)`` on every change.

    ``compute`` results are cached per combination of slider values. With ``state`` (an
    object such as a model, or a dict of models), ``compute`` and ``preview`` are called as
    ``compute(state, **values)``; the browser's changes are computed on deep copies of it.
    ``preview(**values)`` (optional) returns a quick, coarse result that ``draw`` accepts too, or
    None where it would not be quicker than ``compute``.
    """

    def __init__(
        self,
        compute: Callable[..., Any],
        draw: Callable[..., Figure],
        *,
        state: Any = _NO_STATE,
        preview: Callable[..., Any] | None = None,
        **sliders: widgets.ValueWidget,
    ) -> None:
        self.compute, self.draw, self.sliders = compute, draw, sliders
        self.state, self.preview = state, preview
        self.cache: dict[tuple, Any] = {}
        self.images: dict[tuple, str] = {}
        self.output = widgets.Output()
        self.status = widgets.HTML()
        self.status.add_class(STATUS_CLASS)
        self._background: _Background | None = None
        self._shown_lock = threading.Lock()
        self._wanted: tuple = ()
        for slider in sliders.values():
            slider.continuous_update = False
            slider.observe(self._changed, names="value")
        super().__init__([widgets.HBox(list(sliders.values())), self.output, self.status])
        self.add_class(PLOT_CLASS)
        self.redraw()

    @property
    def values(self) -> dict[str, Any]:
        return {name: slider.value for name, slider in self.sliders.items()}

    def label(self, name: str) -> str:
        """The slider's label as the page shows it (its description, else its name)."""
        return self.sliders[name].description or name

    def key(self) -> tuple:
        return tuple(self.values.values())

    def values_of(self, key: tuple) -> dict[str, Any]:
        return dict(zip(self.sliders, key))

    def call(self, function: Callable[..., Any], state: Any, values: dict[str, Any]) -> Any:
        """``function(**values)``, given ``state`` first when the plot has one."""
        return function(**values) if state is _NO_STATE else function(state, **values)

    def result(self) -> Any:
        """The (cached) result for the current slider values."""
        key = self.key()
        if key not in self.cache:
            self.cache[key] = self.call(self.compute, self.state, self.values)
        return self.cache[key]

    def redraw(self) -> None:
        """Draw the figure for the current values now (in this thread) and show it."""
        key, start = self.key(), time.perf_counter()
        self._wanted = key
        cached = key in self.images
        if not cached:
            self.images[key] = png_of(self.draw(self.result(), **self.values))
        seconds = time.perf_counter() - start
        self.show(key, self.images[key], "from the cache" if cached else f"computed in {seconds:.2f} s")

    def show(self, key: tuple, png: str | None, status: str) -> None:
        """Put ``png`` in the output area (or ``status`` as an error if None) if ``key`` is still wanted."""
        with self._shown_lock:
            if key != self._wanted:
                return
            if png is None:
                output = {"output_type": "stream", "name": "stderr", "text": status}
                status = "failed (the error is above)"
            else:
                output = {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<figure>"}}
                output["metadata"] = {}
            self.output.outputs = (output,)
            described = ", ".join(f"{self.label(name)} = {value}" for name, value in self.values_of(key).items())
            self.status.value = f"<small>{described}: {status}</small>"

    def close(self) -> None:
        """Stop the background threads (after the computation under way) and close the widgets."""
        if self._background is not None:
            self._background.stop()
            self._background = None
        super().close()

    def _changed(self, change: Any) -> None:
        if not from_browser(change.owner):
            self.redraw()
            return
        if self._background is None:
            self._background = _Background(self)
        self._wanted = self.key()
        self._background.ask(self._wanted)


class _Background:
    """Two daemon threads computing a plot's results: ``front`` answers, ``back`` refines and looks ahead."""

    def __init__(self, plot: SliderPlot) -> None:
        self.plot = plot
        self.condition = threading.Condition()
        self.asked: tuple | None = None  # for the front thread: the latest setting of the browser
        self.refine: tuple | None = None  # for the back thread: a setting shown as a preview
        self.failed_ahead: set[tuple] = set()  # settings whose look-ahead raised: computed again only if asked
        self.stopped = False
        # Copied here, in the kernel's main thread: no cell is running while it handles a browser event.
        states = [plot.state if plot.state is _NO_STATE else copy.deepcopy(plot.state) for _ in range(2)]
        self.threads = [
            threading.Thread(target=target, args=(state,), name=f"SliderPlot-{name}", daemon=True)
            for target, state, name in ((self.front, states[0], "front"), (self.back, states[1], "back"))
        ]
        for thread in self.threads:
            thread.start()
        atexit.register(self.stop, 10.0)

    def stop(self, timeout: float = 60.0) -> None:
        """Ask both threads to end and wait for them (a computation under way is finished first)."""
        with self.condition:
            self.stopped = True
            self.condition.notify_all()
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        atexit.unregister(self.stop)

    def ask(self, key: tuple) -> None:
        with self.condition:
            self.asked = key
            self.condition.notify_all()

    def compute(self, function: Callable[..., Any], state: Any, key: tuple) -> tuple[str, float] | None:
        """(PNG, seconds) of ``draw(function(state, ...))`` for ``key``; None if ``function`` returns None."""
        start, values = time.perf_counter(), self.plot.values_of(key)
        result = self.plot.call(function, state, values)
        if result is None:
            return None
        if function is self.plot.compute:
            self.plot.cache[key] = result
        return png_of(self.plot.draw(result, **values)), time.perf_counter() - start

    def failed(self, key: tuple) -> None:
        self.plot.show(key, None, traceback.format_exc())

    def front(self, state: Any) -> None:
        plot = self.plot
        while True:
            with self.condition:
                while self.asked is None and not self.stopped:
                    self.condition.wait()
                if self.stopped:
                    return
                key, self.asked = self.asked, None
            if key in plot.images:
                plot.show(key, plot.images[key], "from the cache")
                continue
            try:
                shown = self.compute(plot.preview, state, key) if plot.preview is not None else None
                if shown is not None:
                    plot.show(key, shown[0], f"preview in {shown[1]:.2f} s; computing the full result…")
                    with self.condition:
                        self.refine = key
                        self.condition.notify_all()
                else:
                    png, seconds = self.compute(plot.compute, state, key)  # type: ignore[misc]
                    plot.images[key] = png
                    plot.show(key, png, f"computed in {seconds:.2f} s")
            except Exception:
                self.failed(key)

    def next_job(self) -> tuple[tuple, bool] | None:
        """(setting, whether it was asked for) to compute next, or None when there is nothing to do."""
        if self.refine is not None:
            key, self.refine = self.refine, None
            return key, True
        plot = self.plot
        current = plot.values_of(plot._wanted)
        for name, slider in plot.sliders.items():
            for value in neighbours(slider, current[name]):
                key = tuple({**current, name: value}.values())
                if key not in plot.images and key not in self.failed_ahead:
                    return key, False
        return None

    def back(self, state: Any) -> None:
        if sys.platform == "linux":  # a thread is a task on Linux: look-ahead yields the CPU to the rest
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            except OSError:
                pass
        plot = self.plot
        while True:
            with self.condition:
                job = None if self.stopped else self.next_job()
                while job is None and not self.stopped:
                    self.condition.wait()
                    job = self.next_job()
                if self.stopped or job is None:
                    return
            key, asked = job
            if key in plot.images:
                plot.show(key, plot.images[key], "from the cache")
                continue
            try:
                png, seconds = self.compute(plot.compute, state, key)  # type: ignore[misc]
            except Exception:
                if asked:
                    self.failed(key)
                else:
                    self.failed_ahead.add(key)
                continue
            plot.images[key] = png
            plot.show(key, png, f"computed in {seconds:.2f} s" if asked else "computed ahead")
