"""The nbgrader round trip, for real through its command line, in a scratch course directory.

For each lab, after generate_assignment: autograde gives the executed solution full marks,
the untouched release zero, and a submission with a planted mistake loses exactly that
exercise's points (decided outside the kernel, labkit.grader.verdict); generate_feedback
writes HTML. Grading runs only the graded cells and the cells they depend on
(labkit.grader.needed), seconds per submission instead of the whole lab; ``nbgrader validate``
would add two executions and tells nothing the full and zero marks do not. The class
command, tampering and broken submissions are in test_class_grading.py, the exchange
workflow in test_exchange.py.
"""

import pytest

from labkit.grader.course import (
    exercise_points,
    filled_release,
    grade,
    model_answers,
    notebook_path,
    read,
    scratch_course,
)
from tests.labs.labfiles import LABS, ROOT
from tests.labs.mistakes import MISTAKES, plant

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=LABS)
def graded(request, tmp_path_factory):
    lab = request.param
    course = scratch_course(ROOT, tmp_path_factory.mktemp(f"course-{lab}"), [lab])
    source = notebook_path(course / "solutions", lab)
    release = notebook_path(course / "notebooks", lab)

    exercise = next(iter(MISTAKES[lab]))
    _what, old, new, *_ = MISTAKES[lab][exercise][0]
    answers = model_answers(read(source))
    submissions = {
        "solution": read(source),
        "blank": read(release),
        "mistake": filled_release(read(release), {**answers, exercise: plant(answers[exercise], old, new)}),
    }
    scores = grade(course, lab, submissions)
    return {
        "lab": lab,
        "course": course,
        "scores": scores,
        "exercise": exercise,
        "points": exercise_points(read(source)),
    }


def test_executed_solution_gets_full_marks(graded):
    assert graded["scores"]["solution"] == graded["points"]


def test_untouched_release_gets_zero(graded):
    assert set(graded["scores"]["blank"].values()) == {0}


def test_planted_mistake_loses_exactly_that_exercise(graded):
    lost = f"test_{graded['exercise']}"
    scores = graded["scores"]["mistake"]
    assert scores[lost] == 0
    assert {k: v for k, v in scores.items() if k != lost} == {k: v for k, v in graded["points"].items() if k != lost}


def test_feedback_is_html(graded):
    for student in graded["scores"]:
        (page,) = (graded["course"] / "feedback" / student / graded["lab"]).glob("*.html")
        assert "<html" in page.read_text()[:2000].lower()
