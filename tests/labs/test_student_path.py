"""A student's path through each lab: the release folder copied out of the repository and run top to bottom.

For each lab, ``notebooks/NN_name/`` is copied to a temporary folder outside the repository (as a student's
server holds it) and executed there with nbclient, the kernel's working directory being that folder:

- left blank, it runs to its first exercise's test cell, and the only error on the way is that cell's
  ``NotImplementedError`` (the blank answer);
- then, with the model answers typed into its answer cells, every cell runs and every visible test passes.

Both run in one kernel, so each lab is executed once more than nbval does (about as long as its solution
takes): the blank release's cells up to its first test cell, then the filled release from its first answer cell
on (the cells before the first answer are the same in both, and run once).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode

from labkit.grader.course import filled_release, model_answers, nbgrader_cells, notebook_path, read
from tests.labs.labfiles import LABS, RELEASE, ROOT, solved

#: seconds a cell may run (the slowest cells of labs 1 and 9 take about a minute on 2 cores)
CELL_TIMEOUT_S = 900


def student_copy(lab: str, tmp_path: Path) -> Path:
    """The lab's release notebook as a student's server holds it: ``notebooks/NN_name/`` copied outside the
    repository."""
    shutil.copytree(RELEASE / lab, tmp_path / lab)
    path = notebook_path(tmp_path, lab)
    assert ROOT not in path.parents, "the copy must lie outside the repository"
    return path


def execute(notebook: NotebookNode, folder: Path) -> list[tuple[int, str, str]]:
    """Run every cell of ``notebook`` in a fresh kernel whose working directory is ``folder``, on through
    errors; (cell index, error name, error value) of every error raised."""
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return [
        (index, output.ename, output.evalue)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


def first_exercise(release: NotebookNode) -> tuple[int, int]:
    """(index of the first code answer cell, index of the graded test cell that follows it)."""
    answers = nbgrader_cells(release, solution=True)
    tests = nbgrader_cells(release, grade=True)
    cells = release.cells
    answer = next(i for i, c in enumerate(cells) if c.cell_type == "code" and c in answers.values())
    test = next(i for i, c in enumerate(cells) if i > answer and c.cell_type == "code" and c in tests.values())
    return answer, test


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_release_runs_from_a_copy_blank_to_the_first_exercise_then_with_the_answers(lab, tmp_path):
    path = student_copy(lab, tmp_path)
    blank = read(path)
    filled = filled_release(blank, model_answers(solved(lab)))
    answer, test = first_exercise(blank)
    student = filled.copy()
    student.cells = blank.cells[: test + 1] + filled.cells[answer:]
    errors = execute(student, path.parent)
    blank_errors = [error for error in errors if error[0] <= test]
    unexpected = [e for e in blank_errors if not (e[0] in (answer, test) and e[1] == "NotImplementedError")]
    assert not unexpected, f"{lab}: the blank release fails before its first exercise: {unexpected}"
    assert blank_errors, f"{lab}: the first exercise's test cell passed with a blank answer"
    failed = [(index - test - 1 + answer, name, value) for index, name, value in errors if index > test]
    assert not failed, f"{lab}: cells (index, error) of the release with the model answers fail from a copy: {failed}"
