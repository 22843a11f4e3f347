"""Each exercise's model answer passes its test cell; each usual mistake fails it (no nbgrader needed)."""

import pytest
import torch

import labkit
from labkit.grader.course import model_answers, nbgrader_cells
from tests.labs.labfiles import LABS, released, solved
from tests.labs.mistakes import MISTAKES, VISIBLE, plant


def graded_test_source(lab: str, exercise: str, notebook=None) -> str:
    """The source of the graded test cell that follows ``exercise``'s solution cell (in ``notebook``: the
    solution by default; the release's holds the visible part only)."""
    cells = (notebook or solved(lab)).cells
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]
    following = cells[ids.index(exercise) + 1 :]
    return next(c.source for c in following if c.metadata.get("nbgrader", {}).get("grade"))


def run_exercise(lab: str, exercise: str, answer: str, notebook=None) -> None:
    namespace = {"torch": torch, "labkit": labkit}
    exec(compile(answer, f"<{exercise} answer>", "exec"), namespace)
    exec(compile(graded_test_source(lab, exercise, notebook), f"<{exercise} tests>", "exec"), namespace)


EXERCISES = [(lab, exercise) for lab in LABS for exercise in model_answers(solved(lab))]
PLANTED = [
    pytest.param(lab, exercise, old, new, id=f"{lab}-{exercise}-{what}")
    for lab, exercises in MISTAKES.items()
    for exercise, mistakes in exercises.items()
    for what, old, new, *_ in mistakes
]
VISIBLY_PLANTED = [
    pytest.param(lab, exercise, old, new, id=f"{lab}-{exercise}-{what}")
    for lab, exercises in MISTAKES.items()
    for exercise, mistakes in exercises.items()
    for what, old, new, *visible in mistakes
    if visible == [VISIBLE]
]


@pytest.mark.parametrize(("lab", "exercise"), EXERCISES)
def test_model_answer_passes_visible_and_hidden_tests(lab, exercise):
    run_exercise(lab, exercise, model_answers(solved(lab))[exercise])


@pytest.mark.parametrize(("lab", "exercise", "old", "new"), PLANTED)
def test_usual_mistake_fails_the_tests(lab, exercise, old, new):
    with pytest.raises(Exception):  # noqa: B017  (an AssertionError, or the error the mistake causes)
        run_exercise(lab, exercise, plant(model_answers(solved(lab))[exercise], old, new))


@pytest.mark.parametrize(("lab", "exercise", "old", "new"), VISIBLY_PLANTED)
def test_usual_mistake_fails_the_visible_tests_of_the_release(lab, exercise, old, new):
    """What a student sees before submitting: the release's test cell alone fails the mistake, with a message."""
    with pytest.raises(Exception) as failure:  # an AssertionError, or the error the mistake causes
        run_exercise(lab, exercise, plant(model_answers(solved(lab))[exercise], old, new), released(lab))
    if failure.type is AssertionError:
        assert str(failure.value).strip(), "a visible assert that fails must say what to look at (give it a message)"


@pytest.mark.parametrize("lab", LABS)
def test_every_exercise_has_planted_mistakes_and_hidden_tests(lab):
    assert set(MISTAKES.get(lab, {})) == set(model_answers(solved(lab))), "list the usual mistakes of every exercise"
    for grade_id, cell in nbgrader_cells(solved(lab), grade=True).items():
        if cell.cell_type == "code":
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{grade_id} has no hidden tests"
