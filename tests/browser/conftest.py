"""Browser tests: JupyterLab from this environment, driven by Playwright in the system's Chromium.

They need Chromium (Debian/Ubuntu: `apt-get install chromium`; elsewhere set COURSE_CHROMIUM to
its path) and skip without it, with the reason; with COURSE_BROWSER_TESTS=required (as in CI)
a missing browser is a failure instead, and COURSE_BROWSER_TESTS=skip leaves them out. Screenshots
and timings go to build/browser/. The ``browser`` fixture (one Chromium for the session, shared with
tests/hub) is in tests/conftest.py.
"""

import json
import shutil

import pytest

from tests.browser.jupyterlab import SHOTS, TIMINGS, start_server


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
