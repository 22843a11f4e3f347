"""A student's path through lab 1's release in JupyterLab: an answer that passes, one that fails, Validate."""

import importlib

import pytest

from labkit.grader import course
from tests.browser.jupyterlab import ROOT, open_notebook

LAB = course.lab_names(ROOT / "solutions")[0]
EXERCISE = "occlusion_map"  # lab 1's exercise whose visible test runs in a second


def cell_index(notebook, **flags) -> dict[str, int]:
    """grade_id -> index of the release's cells with the given nbgrader flags."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: i
        for i, cell in enumerate(notebook.cells)
        if all(cell.metadata.get("nbgrader", {}).get(key) == value for key, value in flags.items())
    }


def errors(outputs: list[dict]) -> list[dict]:
    return [output for output in outputs if output["output_type"] == "error"]


@pytest.mark.slow
def test_student_answers_runs_the_visible_test_and_validates(server, context, shots):
    release_path = course.notebook_path(server.root, LAB)
    release = course.read(release_path)
    answer = course.model_answers(course.read(course.notebook_path(ROOT / "solutions", LAB)))[EXERCISE]
    mistakes = importlib.import_module(f"tests.labs.mistakes.lab{LAB[:2]}").MISTAKES[EXERCISE]
    description, right, wrong, *_ = next(m for m in mistakes if m[1] is not None)
    exercise = cell_index(release, solution=True)[EXERCISE]
    test = min(i for i in cell_index(release, grade=True).values() if i > exercise)
    setup = next(i for i, cell in enumerate(release.cells) if cell.cell_type == "code")

    notebook = open_notebook(context, server, release_path.relative_to(server.root).as_posix())
    page = notebook.page
    assert not errors(notebook.run_cell(setup)), "the lab's first cell (imports, model) failed"

    notebook.type_into(exercise, answer)
    assert not errors(notebook.run_cell(exercise))
    assert not errors(notebook.run_cell(test)), "the visible test failed on the model answer"
    page.screenshot(path=shots / "student-right-answer.png")

    assert right in answer, f"the mistake '{description}' no longer applies to the model answer"
    notebook.type_into(exercise, answer.replace(right, wrong))
    assert not errors(notebook.run_cell(exercise))
    (failure,) = errors(notebook.run_cell(test))
    assert failure["ename"] == "AssertionError" and failure["evalue"], f"no message for: {description}"
    shown = notebook.cells().nth(test).locator(".jp-OutputArea").inner_text()
    assert failure["evalue"].splitlines()[0] in shown
    page.screenshot(path=shots / "student-wrong-answer.png")

    page.locator(".jp-NotebookPanel:visible .jp-Toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=1_800_000)
    page.get_by_text("Validating...").wait_for(state="detached", timeout=1_800_000)
    dialog.screenshot(path=shots / "student-validate.png")
    text = dialog.inner_text()
    assert "Validation Results" in text, f"Validate did not give results: {text[:500]}"
    assert "AssertionError" in text or "NotImplementedError" in text, "Validate missed the failing cells"
    dialog.get_by_role("button").last.click()

    page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
    panel = page.locator(".jp-MainAreaWidget:visible", has_text="Released assignments")
    panel.wait_for()
    page.wait_for_timeout(2000)
    page.screenshot(path=shots / "student-assignment-list.png")
    listing = panel.inner_text()
    assert "does not exist" not in listing and "Error" not in listing, listing
    assert not notebook.console_errors, f"browser console errors: {notebook.console_errors}"
    page.close()
    server.shutdown_kernels()
