"""nbgrader's exchange workflow end to end, in a temporary exchange folder, through its command line.

The instructor releases lab 3; three students fetch it into their own folders, answer and submit (one after
the due date); the instructor collects, grades the class (``labkit.grader.classroom.grade_class``: autograde
and feedback) and releases the feedback, which each student fetches.
"""

import csv
import datetime
import time

import nbformat
import pytest

from labkit.grader.classroom import grade_class, run_nbgrader
from labkit.grader.course import filled_release, model_answers, nbgrader, notebook_path, read, scratch_course
from tests.labs.labfiles import ROOT
from tests.labs.mistakes import MISTAKES, plant

pytestmark = pytest.mark.slow

LAB = "03_cam"
COURSE_ID = "explaining-cnns"


def _as(student: str, home, *args: str) -> str:
    """nbgrader run by ``student`` in their own folder (as JupyterHub would: ``--student`` names them)."""
    code, log = run_nbgrader(home, *args, f"--student={student}", env={"HOME": str(home)})
    assert code == 0, log
    return log


def test_release_fetch_submit_collect_grade_feedback(tmp_path):
    course = scratch_course(ROOT, tmp_path / "course", [LAB])
    exchange = tmp_path / "exchange"
    root = f"--Exchange.root={exchange}"

    def instructor(*args: str) -> str:
        code, log = nbgrader(course, *args, root)
        assert code == 0, log
        return log

    instructor("release_assignment", LAB)
    answers = model_answers(read(notebook_path(course / "solutions", LAB)))
    exercise = next(iter(MISTAKES[LAB]))
    _what, old, new, *_ = MISTAKES[LAB][exercise][0]
    students = {
        "ada": answers,
        "bob": {**answers, exercise: plant(answers[exercise], old, new)},
        "cy": answers,  # submits after the due date
    }
    homes = {}
    for student, filled in students.items():
        home = homes[student] = tmp_path / "home" / student
        home.mkdir(parents=True)
        if student == "cy":
            time.sleep(1.5)  # the due date keeps whole seconds: it must fall after the others' submissions
            due = datetime.datetime.now(datetime.UTC)
            instructor("db", "assignment", "add", LAB, f"--duedate={due:%Y-%m-%d %H:%M:%S} UTC")
            time.sleep(1.5)
        _as(student, home, "fetch_assignment", LAB, f"--course={COURSE_ID}", root)
        path = notebook_path(home, LAB)
        nbformat.write(filled_release(read(path), filled), path)
        _as(student, home, "submit", LAB, f"--course={COURSE_ID}", root)

    instructor("collect", LAB)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted(students)
    path, outcomes = grade_class(course, LAB, workers=2, progress=False, timeout=600)
    assert all(outcome.ok for outcome in outcomes), [outcome.log[-2000:] for outcome in outcomes]
    rows = {row["student"]: row for row in csv.DictReader(path.open())}
    full = float(rows["ada"]["total"])
    assert full > 0 and float(rows["cy"]["total"]) == full
    assert float(rows["bob"][f"test_{exercise}"]) == 0 and float(rows["bob"]["total"]) < full
    assert float(rows["cy"]["seconds_late"]) > 0
    assert float(rows["ada"]["seconds_late"]) == 0 and float(rows["bob"]["seconds_late"]) == 0

    instructor("release_feedback", LAB)
    for student, home in homes.items():
        _as(student, home, "fetch_feedback", LAB, f"--course={COURSE_ID}", root)
        (page,) = (home / LAB / "feedback").glob("*/*.html")
        assert "<html" in page.read_text()[:2000].lower()
