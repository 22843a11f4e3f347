"""Browser tests: JupyterLab from this environment, driven by Playwright in the system's Chromium.

They need Chromium (Debian/Ubuntu: `apt-get install chromium`; elsewhere set COURSE_CHROMIUM to
its path) and skip without it, with the reason; with COURSE_BROWSER_TESTS=required (as in CI)
a missing browser is a failure instead, and COURSE_BROWSER_TESTS=skip leaves them out. Screenshots
and timings go to build/browser/.
"""

import json
import os
import shutil

import pytest

from tests.browser.jupyterlab import CHROMIUM_ARGS, SHOTS, TIMINGS, start_server

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("COURSE_BROWSER_TESTS") == "required"
SKIPPED = os.environ.get("COURSE_BROWSER_TESTS") == "skip"


def missing() -> str | None:
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
    reason = missing()
    if reason and REQUIRED:
        pytest.fail(f"{reason} (COURSE_BROWSER_TESTS=required)")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server(browser, tmp_path_factory):
    lab = start_server(tmp_path_factory.mktemp("jupyterlab"))
    yield lab
    lab.process.terminate()
    lab.process.wait(timeout=60)


@pytest.fixture()
def context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


@pytest.fixture(scope="session")
def shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    (SHOTS / "timings.json").write_text(json.dumps(TIMINGS, indent=1))
    write = terminalreporter.write_line
    write(f"browser tests: screenshots and timings in {SHOTS}")
    for name, timing in TIMINGS.items():
        write(f"  {name}: " + ", ".join(f"{key} {value}" for key, value in timing.items() if key.endswith("_s")))
        for record in timing.get("widgets", []):
            figures = ", ".join(f"{key} {value}" for key, value in record.items() if key.endswith("_s"))
            write(f"    plot {record['plot']} {record['control']} ({record['how']}): {figures}")
