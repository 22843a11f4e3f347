"""Operating a lab's widgets (labkit's SliderPlot) in the page, by keyboard and by mouse, with timings.

Each operation changes one control, waits for the figure's image to change (the first new
image: a preview or the result) and for the status line to say the result is shown, takes a
screenshot, then goes back to the previous setting and checks the very same image comes back
within the latency limit, by whichever path the widget took to it (its cache, a result computed
ahead, or computed again). Times run from the key press (or click) to the new image in the page.
A wait that times out fails with what it waited for, the lab, the last status line and a screenshot.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from tests.browser.jupyterlab import LATENCY_LIMIT_S, wait_for

PLOT = ".jp-NotebookPanel:visible .labkit-slider-plot"
IMAGE = "(plot) => { const img = plot.querySelector('.widget-output img'); return img ? img.src : ''; }"
STATUS = "(plot) => { const s = plot.querySelector('.labkit-status'); return s ? s.textContent : ''; }"
NEW_IMAGE = f"([plot, before]) => {{ const src = ({IMAGE})(plot); return src !== '' && src !== before; }}"
SAME_IMAGE = f"([plot, before]) => ({IMAGE})(plot) === before"
# The status line of a new setting once its result (not a preview) is shown, or its error.
SETTLED = (
    f"([plot, before]) => {{ const s = ({STATUS})(plot); return s !== before && "
    "(/computed|from the cache|failed/.test(s)) && !/preview/.test(s); }"
)
WAIT_S = float(os.environ.get("COURSE_BROWSER_WAIT_S", "120"))


def plots(page):
    return page.locator(PLOT)


def controls(plot):
    """The sliders and menus of a plot, in order: (kind, locator) with kind 'slider' or 'menu'."""
    found = []
    row = plot.locator(":scope > .widget-hbox").first
    for i in range(row.locator(":scope > *").count()):
        control = row.locator(":scope > *").nth(i)
        if control.locator(".noUi-handle").count():
            found.append(("slider", control))
        elif control.locator("select").count():
            found.append(("menu", control))
    return found


def change(page, plot, act: Callable[[], None], undo: Callable[[], None], shot: Path) -> dict:
    """Do ``act``; time the first new image and the settled result; ``undo`` must bring back the same image.

    ``undo`` may return the time of its last input (then going back is timed from it)."""
    handle = plot.element_handle()
    where = f"{shot.parent.name}, {shot.stem}"

    def wait(predicate: str, what: str, arg) -> None:
        wait_for(
            page,
            predicate,
            what,
            where=where,
            timeout_s=WAIT_S,
            arg=[handle, arg],
            status=lambda: page.evaluate(STATUS, handle),
        )

    before_image, before_status = page.evaluate(IMAGE, handle), page.evaluate(STATUS, handle)
    start = time.perf_counter()
    act()
    wait(NEW_IMAGE, "a new image after the change", before_image)
    first = time.perf_counter() - start
    wait(SETTLED, "the status line to say the new setting's result is shown", before_status)
    settled = time.perf_counter() - start
    after_image, after_status = page.evaluate(IMAGE, handle), page.evaluate(STATUS, handle)
    plot.screenshot(path=shot)
    assert "failed" not in after_status, f"{where}: {after_status}"
    assert after_image != before_image, f"{where}: the figure did not change"
    start = time.perf_counter()
    last = undo()
    start = last if isinstance(last, float) else start  # a mouse undo that needed arrow keys: from its last key
    wait(SAME_IMAGE, "the previous setting's very image to come back", before_image)
    back = time.perf_counter() - start
    wait(SETTLED, "the status line to say the previous setting's result is shown", after_status)
    back_status = page.evaluate(STATUS, handle)
    # From the cache, computed ahead or computed again: each is the same image for the same setting.
    assert "failed" not in back_status, f"{where}: going back failed: {back_status}"
    assert page.evaluate(IMAGE, handle) == before_image, f"{where}: going back settled on another image"
    return {
        "first_image_s": round(first, 3),
        "result_s": round(settled, 3),
        "back_s": round(back, 3),
        "back_status": back_status,
    }


def slider_operations(page, control) -> dict[str, tuple[Callable, Callable]]:
    """Keyboard (arrow key on the focused handle) and mouse (a click on the track) changes of a slider."""
    handle, track = control.locator(".noUi-handle").first, control.locator(".noUi-target").first
    now, top = (float(handle.get_attribute(name)) for name in ("aria-valuenow", "aria-valuemax"))
    key, opposite = ("ArrowLeft", "ArrowRight") if now >= top else ("ArrowRight", "ArrowLeft")

    def press(name: str) -> Callable[[], None]:
        def act() -> None:
            handle.focus()
            page.keyboard.press(name)

        return act

    box, old = track.bounding_box(), handle.bounding_box()
    old_x = old["x"] + old["width"] / 2
    fraction = 0.2 if old_x > box["x"] + box["width"] / 2 else 0.8
    y = box["y"] + box["height"] / 2

    def click_back() -> float:
        """Click where the handle was; a click snaps to the nearest step (or misses the track's very
        end), so finish with the arrow keys. Returns the time of the last click or key press."""
        page.mouse.click(old_x, y)
        last = time.perf_counter()
        for _ in range(50):
            value = float(handle.get_attribute("aria-valuenow"))
            if value == now:
                return last
            handle.focus()
            page.keyboard.press("ArrowLeft" if value > now else "ArrowRight")
            last = time.perf_counter()
        raise AssertionError(f"could not bring the slider back to {now}")

    return {
        "keyboard": (press(key), press(opposite)),
        "mouse": (lambda: page.mouse.click(box["x"] + fraction * box["width"], y), click_back),
    }


def menu_operations(page, control) -> dict[str, tuple[Callable, Callable]]:
    """Keyboard and pointer (choosing an option) changes of a dropdown.

    By keyboard the menu is opened first (Alt+ArrowDown), then an arrow key and Enter pick the
    option: on a closed menu, JupyterLab's notebook shortcuts take ArrowUp/ArrowDown (next cell).
    """
    select = control.locator("select").first
    count = select.locator("option").count()
    index = select.evaluate("s => s.selectedIndex")
    key, opposite = ("ArrowUp", "ArrowDown") if index == count - 1 else ("ArrowDown", "ArrowUp")
    other = (index + 2) % count if count > 2 else (index + 1) % count

    def press(name: str) -> Callable[[], None]:
        def act() -> None:
            select.focus()
            for pressed in ("Alt+ArrowDown", name, "Enter"):
                page.keyboard.press(pressed)

        return act

    return {
        "keyboard": (press(key), press(opposite)),
        "mouse": (lambda: select.select_option(index=other), lambda: select.select_option(index=index)),
    }


def burst(page, plot, control, where: str, presses: int = 4) -> float:
    """Press an arrow key ``presses`` times quickly on a slider; seconds from the last press to its image."""
    handle = control.locator(".noUi-handle").first
    now, top = (float(handle.get_attribute(name)) for name in ("aria-valuenow", "aria-valuemax"))
    key = "ArrowLeft" if now >= top / 2 else "ArrowRight"
    element = plot.element_handle()
    handle.focus()
    for _ in range(presses):
        page.keyboard.press(key)
    last = time.perf_counter()
    label = control.locator(".widget-label").first.inner_text().strip()
    value = float(control.locator(".widget-readout").first.inner_text())
    shows_value = f"""([plot, label, value, settled]) => {{
      const text = ({STATUS})(plot), at = text.indexOf(label + ' = ');
      const same = at >= 0 && Math.abs(parseFloat(text.slice(at + label.length + 3)) - value) < 1e-6;
      return same && (!settled || (/computed|from the cache|failed/.test(text) && !/preview/.test(text)));
    }}"""
    seconds = None
    for settled in (False, True):  # its first image (a preview, maybe), then its result
        wait_for(
            page,
            shows_value,
            f"the status line to show {label} = {value}" + (", settled" if settled else ""),
            where=where,
            timeout_s=WAIT_S,
            arg=[element, label, value, settled],
            status=lambda: page.evaluate(STATUS, element),
        )
        seconds = round(time.perf_counter() - last, 3) if seconds is None else seconds
    return seconds


def exercise_widgets(page, shots: Path) -> list[dict]:
    """Operate every control of every plot of the open notebook; one timing record per control and way."""
    records = []
    for p in range(plots(page).count()):
        plot = plots(page).nth(p)
        plot.scroll_into_view_if_needed()
        plot.screenshot(path=shots / f"plot{p}-start.png")
        for c, (kind, control) in enumerate(controls(plot)):
            label = control.locator(".widget-label").first.inner_text().strip() or f"control{c}"
            operations = slider_operations(page, control) if kind == "slider" else menu_operations(page, control)
            for how, (act, undo) in operations.items():
                record = change(page, plot, act, undo, shots / f"plot{p}-{label}-{how}.png")
                records.append({"plot": p, "control": label, "kind": kind, "how": how, **record})
            if kind == "slider":
                seconds = burst(page, plot, control, f"{shots.name}, plot{p}-{label}-burst")
                records.append({"plot": p, "control": label, "kind": kind, "how": "burst", "burst_s": seconds})
    return records


def slow(records: list[dict]) -> list[str]:
    """The operations whose first new image, or whose image from the cache, took longer than the limit."""
    return [
        f"{r['control']} ({r['how']}): {r.get('first_image_s', r.get('burst_s'))} s"
        for r in records
        if max(r.get("first_image_s", 0), r.get("back_s", 0), r.get("burst_s", 0)) > LATENCY_LIMIT_S
    ]
