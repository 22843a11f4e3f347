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
- the settings around the current one (one step of each slider; every option of each menu,
  nearest first) are made ahead, at a lower CPU priority on Linux: their previews as soon as
  the plot exists, their full results too when the first figure took at most
  ``SliderPlot.EAGER_AHEAD_S``, else from the browser's first change on;
- the look-ahead gives way: while a setting asked for is computed, the look-ahead waits at
  its next module call or backward step (hooks on its own copy of the models) and before it draws,
  so the two never share the CPU; a setting the look-ahead is already computing is waited for.

These threads work on their own copies of ``state`` (e.g. the model), so nothing they do
(hooks, eval mode, frozen parameters) can reach the notebook's own objects while cells run.
A line under the figure says what is shown: a preview, a result and its time, or the cache.
"""

from __future__ import annotations

import atexit
import base64
import copy
import ctypes
import io
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

#: Marks in the page, for people reading the HTML and for the browser tests.
PLOT_CLASS, STATUS_CLASS = "labkit-slider-plot", "labkit-status"
_M_ARENA_MAX = -8  # glibc's malloc.h
_NO_STATE = object()


def png_of(figure: Figure) -> str:
    """The figure as a base64 PNG (80 dpi); closes it if pyplot manages it.

    Made for speed (a third of a widget's 0.2 s of drawing): no tight bounding box (it draws
    the figure twice; figures set their own margins) and the fastest zlib level."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, pil_kwargs={"compress_level": 1})
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def from_browser(widget: widgets.Widget) -> bool:
    """Whether the change of ``widget.value`` being notified was sent by the browser.

    ipywidgets locks the properties it receives from the front end while it notifies
    observers (``Widget.set_state``); a change made from Python has no lock. A slider's
    browser sends ``value``, a menu's sends ``index`` (its value follows from it).
    """
    return bool({"value", "index"} & set(getattr(widget, "_property_lock", {})))


def ahead(widget: widgets.ValueWidget, value: Any) -> list[Any]:
    """The values of ``widget`` worth computing ahead of ``value``, nearest first.

    A widget with options (a menu, a selection slider) has few of them: all the others, by
    distance in the list (next before previous). A numeric slider: one step each way.
    """
    options = getattr(widget, "_options_values", None)
    if options is not None:
        index = list(options).index(value)
        others = sorted((i for i in range(len(options)) if i != index), key=lambda i: (abs(i - index), i < index))
        return [options[i] for i in others]
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

    #: A plot whose first figure took at most this long looks ahead (full results) at once;
    #: a slower one makes only previews ahead until the browser's first change.
    EAGER_AHEAD_S = 1.0

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
        self.previews: dict[tuple, str | None] = {}  # PNG of each preview made (None: no quicker preview)
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
        start = time.perf_counter()
        self.redraw()
        cheap = time.perf_counter() - start <= self.EAGER_AHEAD_S
        self._background = _Background(self, looking_ahead=cheap)

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
            raise RuntimeError("This plot was closed; run its cell again to get a working one.")
        self._wanted = self.key()
        self._background.ask(self._wanted)


def hand_over_quickly() -> None:
    """Let a thread waiting for the GIL get it within 1 ms (Python's default: 5 ms).

    A front-thread computation re-takes the GIL between every two PyTorch calls; while the
    look-ahead thread draws a figure (matplotlib holds the GIL), each of those waits lasted up
    to the switch interval: hundreds of them per forward pass. Process-wide; never raised.
    """
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))


def share_malloc_arena() -> None:
    """On Linux (glibc), let new threads allocate from the main heap (``mallopt(M_ARENA_MAX, 1)``).

    A new thread otherwise gets an arena of its own, empty: its first computations page-fault
    every activation in. Measured on 2 cores: SmoothGrad with 4 samples on EfficientNet-Lite0 in
    a fresh thread, 0.59-0.65 s first and 0.39-0.49 s after; with the shared heap 0.39-0.44 s and
    0.29-0.32 s (the kernel's main thread: 0.31-0.37 s). Process-wide; elsewhere a no-op.
    """
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        pass


def modules_in(state: Any) -> Iterator[nn.Module]:
    """Every ``nn.Module`` in ``state``: a model, or models in a dict, list or tuple (nested)."""
    if isinstance(state, nn.Module):
        yield from state.modules()
    elif isinstance(state, Mapping):
        for value in state.values():
            yield from modules_in(value)
    elif isinstance(state, (list, tuple)):
        for value in state:
            yield from modules_in(value)


class _Superseded(Exception):
    """A newer setting was asked for while the front thread computed this one."""


class _Background:
    """Two daemon threads computing a plot's results: ``front`` answers, ``back`` refines and looks ahead."""

    def __init__(self, plot: SliderPlot, *, looking_ahead: bool) -> None:
        self.plot = plot
        self.condition = threading.Condition()
        self.asked: tuple | None = None  # for the front thread: the latest setting of the browser
        self.refine: tuple | None = None  # for the back thread: a setting shown as a preview
        self.ahead: tuple | None = None  # the setting the back thread is computing
        self.failed_ahead: set[tuple] = set()  # settings whose look-ahead raised: computed again only if asked
        # Previews of the settings around the current one are made ahead from the start (they are
        # cheap); full results too if the plot is cheap, else from the browser's first change on.
        self.looking_ahead = looking_ahead
        self.front_idle = threading.Event()  # cleared while the front thread computes: the back thread waits
        self.front_idle.set()
        self.stopped = False
        # Copied here, in the kernel's main thread, when the plot is made: the copies are the models
        # its first figure was computed with, and making them does not delay the first change.
        states = [plot.state if plot.state is _NO_STATE else copy.deepcopy(plot.state) for _ in range(2)]
        for module in modules_in(states[1]):
            module.register_forward_pre_hook(self.give_way)
            module.register_forward_hook(self.give_way_in_backward)
        share_malloc_arena()
        hand_over_quickly()
        self.threads = [
            threading.Thread(target=target, args=(state,), name=f"SliderPlot-{name}", daemon=True)
            for target, state, name in ((self.front, states[0], "front"), (self.back, states[1], "back"))
        ]
        for thread in self.threads:
            thread.start()
        atexit.register(self.stop, 10.0)

    def give_way(self, *_: Any) -> None:
        """Block the back thread while the front thread computes (a forward pre-hook on the back's models)."""
        self.front_idle.wait()

    def give_way_in_backward(self, _module: nn.Module, _inputs: Any, output: Any) -> None:
        """A forward hook: the backward pass through this module's output gives way too (values unchanged)."""
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(self.give_way)

    def stop(self, timeout: float = 60.0) -> None:
        """Ask both threads to end and wait for them (a computation under way is finished first)."""
        with self.condition:
            self.stopped = True
            self.condition.notify_all()
        self.front_idle.set()
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        atexit.unregister(self.stop)

    def ask(self, key: tuple) -> None:
        with self.condition:
            self.asked, self.looking_ahead = key, True
            self.condition.notify_all()

    def compute(self, function: Callable[..., Any], state: Any, key: tuple) -> tuple[str, float] | None:
        """(PNG, seconds) of ``draw(function(state, ...))`` for ``key``; None if ``function`` returns None."""
        start, values, plot = time.perf_counter(), self.plot.values_of(key), self.plot
        known = function is plot.compute and key in plot.cache  # computed, its drawing superseded
        result = plot.cache[key] if known else plot.call(function, state, values)
        if result is None:
            return None
        if function is self.plot.compute:
            self.plot.cache[key] = result
        if threading.current_thread() is self.threads[1]:
            self.front_idle.wait()  # drawing holds the GIL: not while the front thread works
        elif self.asked is not None:
            raise _Superseded  # the browser has moved on: drawing this one would only delay the next
        return png_of(self.plot.draw(result, **values)), time.perf_counter() - start

    def failed(self, key: tuple) -> None:
        self.plot.show(key, None, traceback.format_exc())

    def wait_for_ahead(self, key: tuple) -> bool:
        """Wait while the back thread computes ``key`` (unless a newer setting is asked); whether it is now shown."""
        with self.condition:
            while self.ahead == key and self.asked is None and not self.stopped:
                self.condition.wait()
        return key in self.plot.images

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
            if plot.previews.get(key) is not None:
                plot.show(key, plot.previews[key], "preview made ahead; computing the full result…")
                self.refine_later(key)
                continue
            if plot.preview is None and key == self.ahead and self.wait_for_ahead(key):
                plot.show(key, plot.images[key], "computed ahead")
                continue
            self.front_idle.clear()
            try:
                shown = None
                if plot.preview is not None and key not in plot.previews:
                    shown = self.compute(plot.preview, state, key)
                    plot.previews[key] = None if shown is None else shown[0]
                if shown is not None:
                    plot.show(key, shown[0], f"preview in {shown[1]:.2f} s; computing the full result…")
                    self.refine_later(key)
                else:
                    png, seconds = self.compute(plot.compute, state, key)  # type: ignore[misc]
                    plot.images[key] = png
                    plot.show(key, png, f"computed in {seconds:.2f} s")
            except _Superseded:
                pass
            except Exception:
                self.failed(key)
            finally:
                self.front_idle.set()

    def refine_later(self, key: tuple) -> None:
        """Have the back thread compute the full result of ``key``, shown as a preview (unless it is at it)."""
        with self.condition:
            if key != self.ahead:
                self.refine = key
            self.condition.notify_all()

    def next_job(self) -> tuple[tuple, str] | None:
        """(setting, job) to do next: ``"asked"`` (a full result shown as a preview), ``"preview"`` or
        ``"ahead"`` (made ahead of the browser), or None when there is nothing to do."""
        if self.refine is not None:
            key, self.refine = self.refine, None
            return key, "asked"
        plot = self.plot
        current = plot.values_of(plot._wanted)
        jobs = []  # (distance, previews first, setting, job): settings one control away, nearest first
        for kind, wanted in (("preview", plot.preview is not None), ("ahead", self.looking_ahead)):
            for name, slider in plot.sliders.items():
                for distance, value in enumerate(ahead(slider, current[name]) if wanted else []):
                    key = tuple({**current, name: value}.values())
                    if key in plot.images or key in self.failed_ahead or (kind == "preview" and key in plot.previews):
                        continue
                    jobs.append((distance, kind == "ahead", key, kind))
        if not jobs:
            return None
        _, _, key, kind = min(jobs, key=lambda job: job[:2])
        return key, kind

    def back(self, state: Any) -> None:
        if sys.platform == "linux":  # a thread is a task on Linux: look-ahead yields the CPU to the rest
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            except OSError:
                pass
        plot = self.plot
        while True:
            with self.condition:
                self.ahead = None
                self.condition.notify_all()
                job = None if self.stopped else self.next_job()
                while job is None and not self.stopped:
                    self.condition.wait()
                    job = self.next_job()
                if self.stopped or job is None:
                    return
                key, kind = job
                self.ahead = key if kind != "preview" else None
            if key in plot.images:
                plot.show(key, plot.images[key], "from the cache")
                continue
            self.front_idle.wait()
            try:
                if kind == "preview":
                    shown = self.compute(plot.preview, state, key)  # type: ignore[arg-type]
                    plot.previews[key] = None if shown is None else shown[0]
                    continue
                png, seconds = self.compute(plot.compute, state, key)  # type: ignore[misc]
            except Exception:
                if kind == "asked":
                    self.failed(key)
                else:
                    self.failed_ahead.add(key)
                continue
            plot.images[key] = png
            shown_as = "computed ahead" if kind == "ahead" and key != plot._wanted else f"computed in {seconds:.2f} s"
            plot.show(key, png, shown_as)
