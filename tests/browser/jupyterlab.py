"""Driving JupyterLab in Chromium with Playwright: the server, notebooks, cells and the labs' widgets.

The server is started from this environment with the course's own JupyterLab settings
(jupyter/jupyter_lab_config.py, as `make lab`), on a copy of notebooks/ with a copy of
solutions/ inside, so that running and saving notebooks never touches the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKEN = "course-browser-test"
#: Where the screenshots and the timings go (build/ is not tracked).
SHOTS = ROOT / "build" / "browser"
#: Longest wait for a new setting's first image. The target is 1 s on a 2-core CPU and most settings
#: take 0.2-0.9 s, but lab 1's occlusion previews vary from 0.3 to 1.9 s on such a machine (the
#: browser, JupyterLab and the kernel share its two cores): the test fails above this limit, and
#: timings.json and the printed table give every figure.
LATENCY_LIMIT_S = float(os.environ.get("COURSE_WIDGET_LATENCY_S", "2.5"))
#: Timings gathered by the tests, printed at the end of the run and written to SHOTS/timings.json.
TIMINGS: dict[str, dict] = {}

# Browsers on build machines: no sandbox as root, no GPU, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A JupyterLab server on a scratch copy of the course; ``url(path)`` opens ``path`` with the token."""

    base: str
    root: Path
    process: subprocess.Popen
    log: Path

    def url(self, path: str = "lab") -> str:
        return f"{self.base}/{path}?token={TOKEN}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(
            f"{self.base}/api/{path}", method=method, headers={"Authorization": f"token {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")


def start_server(scratch: Path) -> Server:
    """JupyterLab with the course's settings on a copy of notebooks/ (and solutions/ inside it)."""
    root = scratch / "course"
    shutil.copytree(ROOT / "notebooks", root)
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    exchange = scratch / "exchange"  # nbgrader's assignment list needs one (a class has /srv/nbgrader/exchange)
    exchange.mkdir()
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(scratch / "user-settings"),
    }
    env.pop("NBGRADER_EXECUTION", None)  # the labs run as a student runs them
    command = [
        str(BIN / "jupyter"),
        "lab",
        f"--config={ROOT / 'jupyter' / 'jupyter_lab_config.py'}",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # the tests call JupyterLab's commands (run all, ...)
    ]
    if os.name == "posix" and os.geteuid() == 0:
        command.append("--allow-root")
    log = scratch / "jupyterlab.log"
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(f"http://127.0.0.1:{port}", root, process, log)
    for _ in range(240):
        try:
            server.api("status")
            return server
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited:\n{log.read_text()}") from None
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer in 2 minutes:\n{log.read_text()}")


# JavaScript run in the page; `window.jupyterapp` is JupyterLab's application. Every predicate a test waits on
# reads JupyterLab's objects with optional chaining: while the page loads, the application, its shell or the
# notebook's session may not exist yet, and a predicate that throws ends the wait instead of polling again.
PANEL = "window.jupyterapp?.shell?.currentWidget"
KERNEL_IDLE = f"""() => {{
  const panel = {PANEL};
  // the landing page (a Markdown document) may still be the current widget: it has no sessionContext
  return !!(panel?.content?.model && panel.context?.isReady &&
            panel.sessionContext?.session?.kernel?.status === 'idle');
}}"""
# What the page showed when a wait timed out: the current tab, its kernel, the last status line of a figure.
PAGE_STATE = f"""() => {{
  const panel = {PANEL};
  const statuses = Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .labkit-status'),
                              s => s.textContent);
  return {{application: !!window.jupyterapp, tab: panel?.title?.label ?? null,
          kernel: panel?.sessionContext?.session?.kernel?.status ?? null, last_status: statuses.at(-1) ?? null}};
}}"""


def wait_for(page, predicate: str, what: str, *, where: str, timeout_s: float, arg=None, polling="raf", status=None):
    """``page.wait_for_function(predicate)``; on a timeout, an AssertionError that says what was awaited, where
    (the lab), the page's state, the last status line (``status()``, or the page's) and a screenshot's path."""
    try:
        return page.wait_for_function(predicate, arg=arg, timeout=timeout_s * 1000, polling=polling)
    except PlaywrightTimeoutError:
        shot = SHOTS / "timeouts" / f"{where.replace('/', '_')}-{time.strftime('%H%M%S')}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=shot)
            state = page.evaluate(PAGE_STATE)
            if status is not None:
                state["last_status"] = status()
        except PlaywrightError as error:  # the page itself is gone
            state = f"unreadable ({error})"
        raise AssertionError(
            f"{where}: waited {timeout_s:g} s for {what}; the page: {state}; screenshot: {shot}"
        ) from None


RUN_ALL = "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')"
CELL_REPORT = f"""() => {{
  const cells = {PANEL}?.content?.model?.cells;
  if (!cells) return {{errors: ['no notebook is the current tab'], unrun: []}};
  const errors = [], unrun = [];
  for (let i = 0; i < cells.length; i++) {{
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    if (cell.executionCount === null && cell.sharedModel.getSource().trim()) unrun.push(i);
    for (const output of cell.outputs.toJSON())
      if (output.output_type === 'error') errors.push(`cell ${{i}}: ${{output.ename}}: ${{output.evalue}}`);
  }}
  return {{errors, unrun}};
}}"""
CELL_OUTPUTS = f"(i) => {PANEL}?.content?.model?.cells?.get(i)?.outputs?.toJSON() ?? []"
CELL_SOURCES = f"() => Array.from({PANEL}?.content?.model?.cells ?? [], cell => cell.sharedModel.getSource())"


@dataclass
class Notebook:
    """One notebook open in a page, and the browser console's errors seen since it was opened."""

    page: object
    path: str
    console_errors: list[str] = field(default_factory=list)

    def cells(self):
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")

    def report(self) -> dict:
        return self.page.evaluate(CELL_REPORT)

    def outputs(self, index: int) -> list[dict]:
        return self.page.evaluate(CELL_OUTPUTS, index)

    def run_all(self, timeout_s: float) -> float:
        """Run all cells (JupyterLab's Run All); the seconds it took."""
        self.page.set_default_timeout(timeout_s * 1000)
        start = time.perf_counter()
        self.page.evaluate(RUN_ALL)
        wait_for(
            self.page,
            KERNEL_IDLE,
            "the kernel to be idle after Run All",
            where=self.path,
            timeout_s=timeout_s,
            polling=200,
        )
        self.page.set_default_timeout(60_000)
        return time.perf_counter() - start

    def type_into(self, index: int, text: str) -> None:
        """Replace cell ``index``'s code by ``text``, typed in its editor."""
        editor = self.cells().nth(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)

    def run_cell(self, index: int, timeout_s: float = 600) -> list[dict]:
        """Run cell ``index`` with Shift+Enter and return its outputs once the kernel is idle again.

        A cell run before already has an execution count: the run is over when the count is a new one."""
        count = f"(i) => {PANEL}?.content?.model?.cells?.get(i)?.executionCount ?? null"
        before = self.page.evaluate(count, index)
        self.cells().nth(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")
        wait_for(
            self.page,
            f"([i, before]) => {{ const n = ({count})(i); return n !== null && n !== before; }}",
            f"cell {index} to get a new execution count",
            where=self.path,
            timeout_s=timeout_s,
            arg=[index, before],
            polling=200,
        )
        wait_for(
            self.page,
            KERNEL_IDLE,
            f"the kernel to be idle after cell {index}",
            where=self.path,
            timeout_s=timeout_s,
            polling=200,
        )
        return self.outputs(index)


def open_notebook(context, server: Server, path: str) -> Notebook:
    """A new page on ``path`` (relative to the server's root), once its kernel is idle."""
    page = context.new_page()
    notebook = Notebook(page, path)
    page.on("console", lambda message: message.type == "error" and notebook.console_errors.append(message.text))
    page.on("pageerror", lambda error: notebook.console_errors.append(f"page error: {error}"))
    page.set_default_timeout(60_000)
    # A workspace of its own: JupyterLab would otherwise reopen every notebook opened so far (one kernel
    # each: ten kernels starting at once lost a port race and killed lab 10's kernel).
    page.goto(server.url(f"lab/workspaces/{uuid.uuid4().hex}/tree/{path}"))
    wait_for(page, KERNEL_IDLE, "the notebook to open with an idle kernel", where=path, timeout_s=180, polling=200)
    return notebook
