"""Every lab in JupyterLab: Run All on the executed solution, then every widget by keyboard and by mouse."""

import pytest

from labkit.grader import course
from tests.browser.drive import exercise_widgets, slow
from tests.browser.jupyterlab import LATENCY_LIMIT_S, ROOT, TIMINGS, open_notebook

LABS = course.lab_names(ROOT / "solutions")


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_lab_runs_and_every_widget_responds(lab, server, context, shots):
    path = course.notebook_path(server.root / "solutions", lab).relative_to(server.root).as_posix()
    notebook = open_notebook(context, server, path)
    try:
        run_all = notebook.run_all(timeout_s=1800)
        TIMINGS[lab] = {"run_all_s": round(run_all, 1)}
        report = notebook.report()
        assert not report["errors"], f"{lab}: cells raised: {report['errors']}"
        assert not report["unrun"], f"{lab}: cells not run: {report['unrun']}"
        folder = shots / lab
        folder.mkdir(parents=True, exist_ok=True)
        records = exercise_widgets(notebook.page, folder)
        TIMINGS[lab]["widgets"] = records
        assert not notebook.console_errors, f"{lab}: browser console errors: {notebook.console_errors}"
        assert not slow(records), f"{lab}: slower than {LATENCY_LIMIT_S} s: {slow(records)}"
    finally:
        notebook.page.close()
        server.shutdown_kernels()
