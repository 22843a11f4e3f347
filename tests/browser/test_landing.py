"""JupyterLab as `make lab` opens it: the landing page, rendered, with no pop-up; the page lists every lab."""

import re

import pytest

from labkit.grader import course
from tests.browser.jupyterlab import ROOT

LABS = course.lab_names(ROOT / "solutions")
LANDING = ROOT / "notebooks" / "README.md"


def test_landing_page_lists_every_lab_in_order():
    linked = re.findall(r"\]\((\d\d_[a-z_0-9]+)/[^)]+\.ipynb\)", LANDING.read_text())
    assert linked == LABS, "notebooks/README.md must link every lab of solutions/, in order, one line each"
    for lab in LABS:
        assert (ROOT / "notebooks" / lab).is_dir()


@pytest.mark.slow
def test_opens_on_the_landing_page_without_pop_ups(server, context, shots):
    page = context.new_page()
    console = []
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    page.goto(server.url(""))
    landing = page.locator(".jp-RenderedMarkdown", has_text="Open the labs in order")
    landing.wait_for(timeout=120_000)
    page.wait_for_timeout(5000)  # the news question used to pop up a few seconds after start
    page.screenshot(path=shots / "landing.png")
    assert page.locator(".Toastify__toast").count() == 0, page.locator(".Toastify__toast").all_inner_texts()
    assert page.locator(".jp-Dialog").count() == 0
    links = landing.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    # JupyterLab rewrites relative links (to a download URL with a query string): read the lab folder from each
    labs = [found.group(1) for link in links if (found := re.search(r"(\d\d_[a-z_0-9]+)/[^/?#]+\.ipynb", link or ""))]
    assert labs == LABS, links
    assert not console, f"browser console errors: {console}"
    page.close()
