"""A class of lab 4 submissions graded with the instructor's command, for real through nbgrader's command line.

One honest submission, tampering attempts (each a wrong answer, all zeros, behind a different way of switching
the check off; or a right answer obtained by reaching into the checks) and broken submissions (raising, endless
loops, exits, deleted/reordered/edited cells, changed metadata, huge output, a missing import, a dead kernel),
graded in parallel by ``labkit.grader.classroom.grade_class`` into a CSV. Each must get its grade, feedback
and integrity flags, in bounded time. The per-cell timeout and the submission's budget are lowered here
(40 s, 70 s) so that the endless loops cost the suite less; the defaults are 60 s and 90 s.
"""

import csv
import time

import nbformat
import pytest

from labkit.grader.classroom import grade_class
from labkit.grader.course import model_answers, notebook_path, read, scratch_course
from tests.labs.labfiles import ROOT

pytestmark = pytest.mark.slow

LAB = "04_grad_cam"
FULL = {"test_grad_cam": 6.0, "test_confidence_metrics": 4.0}
ZEROS = "def grad_cam(model, layer, x, target):\n    return torch.zeros(x.shape[0], *x.shape[2:])\n"

#: name -> (code put before an all-zeros grad_cam, whether the exercise still scores: the answer is right)
TAMPERING = {
    "check-replaced": ("from labkit.checks import lab04\nlab04.check_grad_cam = lambda student: None\n", False),
    "assert-close-replaced": (
        "import labkit.checks.common\nimport labkit.checks.lab04\n"
        "labkit.checks.lab04.assert_close = labkit.checks.common.assert_close = lambda *args, **kwargs: None\n",
        False,
    ),
    "torch-patched": ("torch.Tensor.abs = lambda self: torch.zeros_like(self)\n", False),
    "builtins-float-patched": (
        "import builtins\nimport sys\n_float = builtins.float\n\n\nclass Meta(type):\n"
        "    def __instancecheck__(cls, obj):\n        return isinstance(obj, _float)\n\n\n"
        "class Zero(_float, metaclass=Meta):\n    def __new__(cls, value=0.0):\n"
        "        caller = sys._getframe(1).f_globals.get('__name__')\n"
        "        return _float(0.0 if caller == 'labkit.checks.common' else value)\n\n\nbuiltins.float = Zero\n",
        False,
    ),
    "sys-modules-replaced": (
        "import sys\nimport types\n\nimport labkit.checks.lab04\n\nreal = sys.modules['labkit.checks.lab04']\n"
        "fake = types.ModuleType('labkit.checks.lab04')\nfake.__getattr__ = lambda name: getattr(real, name)\n"
        "fake.check_grad_cam = lambda student: None\nsys.modules['labkit.checks.lab04'] = fake\n"
        "labkit.checks.lab04 = fake\n",
        False,
    ),
    "tensor-subclass-lies": (
        "class Liar(torch.Tensor):\n    def __sub__(self, other):\n        return torch.zeros_like(other)\n\n\n"
        "_zeros = torch.zeros\n\n\ndef zeros(*shape):\n    return _zeros(*shape).as_subclass(Liar)\n\n\n"
        "torch.zeros = zeros\n",
        False,
    ),
    "recording-and-assert-off": (
        "import labkit.checks.common\nimport labkit.checks.lab04\n"
        "labkit.checks.common.record = lambda *args: None\n"
        "labkit.checks.lab04.assert_close = lambda *args, **kwargs: None\n",
        False,
    ),
    "reference-with-forbid-off": (
        "import contextlib\n\nimport labkit.checks.common\nfrom labkit import attribution\n\n"
        "labkit.checks.common.forbid = lambda *functions: contextlib.nullcontext()\n\n\n"
        "def grad_cam_ref(model, layer, x, target):\n    return attribution.grad_cam(model, x, target, layer=layer)\n",
        True,
    ),
    "expected-read-from-caller": (
        "import sys\n\n\ndef grad_cam_ref(model, layer, x, target):\n"
        "    frame = sys._getframe(1)\n    while frame is not None and 'expected' not in frame.f_locals:\n"
        "        frame = frame.f_back\n    if frame is None:\n        return torch.zeros(x.shape[0], *x.shape[2:])\n"
        "    return frame.f_locals['expected']\n",
        True,
    ),
}


def _index(notebook, grade_id: str) -> int:
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
    return ids.index(grade_id)


def _broken(honest, answers) -> dict[str, tuple[nbformat.NotebookNode, dict[str, float]]]:
    """name -> (submission, expected scores) of each broken submission."""

    def copy():
        return nbformat.from_dict(honest)

    def edited(grade_id: str, source: str, notebook=None):
        notebook = notebook or copy()
        notebook.cells[_index(notebook, grade_id)].source = source
        return notebook

    grad_cam, metrics = answers["grad_cam"], answers["confidence_metrics"]
    no_grad_cam = {**FULL, "test_grad_cam": 0.0}
    no_metrics = {**FULL, "test_confidence_metrics": 0.0}
    deleted_test, deleted_answer, reordered, metadata = copy(), copy(), copy(), copy()
    del deleted_test.cells[_index(deleted_test, "test_grad_cam")]
    del deleted_answer.cells[_index(deleted_answer, "grad_cam")]
    reordered.cells.append(reordered.cells.pop(_index(reordered, "confidence_metrics")))
    metadata.cells[_index(metadata, "test_grad_cam")].metadata.nbgrader["points"] = 100
    metadata.cells[_index(metadata, "test_confidence_metrics")].metadata = {}
    uninterruptible = (
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
    )
    return {
        "raises": (edited("grad_cam", "raise RuntimeError('not finished')\n" + grad_cam), no_grad_cam),
        "endless-loop": (edited("grad_cam", "while True:\n    pass\n" + grad_cam), no_grad_cam),
        "endless-loop-ignoring-interrupts": (edited("confidence_metrics", uninterruptible + metrics), no_metrics),
        "sys-exit-after-answer": (edited("confidence_metrics", metrics + "\nimport sys\n\nsys.exit(1)\n"), FULL),
        "deleted-test-cell": (deleted_test, FULL),
        "deleted-answer-cell": (deleted_answer, no_grad_cam),
        "reordered-cells": (reordered, no_metrics),
        "edited-locked-test-cell": (edited("test_grad_cam", "pass\n", edited("grad_cam", ZEROS)), no_grad_cam),
        "changed-metadata": (metadata, FULL),
        "huge-output": (edited("grad_cam", "print('x' * 30_000_000)\n" + grad_cam), FULL),
        "missing-import": (
            edited("confidence_metrics", metrics.replace("):\n", "):\n    y = torch.as_tensor(np.asarray(y))\n", 1)),
            no_metrics,
        ),
        "kernel-crash": (edited("confidence_metrics", "import os\n\nos._exit(1)\n" + metrics), no_metrics),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = scratch_course(ROOT, tmp_path_factory.mktemp("class"), [LAB])
    source = read(notebook_path(course / "solutions", LAB))
    release = read(notebook_path(course / "notebooks", LAB))
    answers = model_answers(source)
    honest = nbformat.from_dict(release)
    for grade_id, answer in answers.items():
        honest.cells[_index(honest, grade_id)].source = answer
    submissions = {"honest": (honest, FULL)}
    for name, (patch, right) in TAMPERING.items():
        answer = patch + (ZEROS if not right else "\n\ngrad_cam = grad_cam_ref\n")
        notebook = nbformat.from_dict(honest)
        notebook.cells[_index(notebook, "grad_cam")].source = answer
        # An attempt that returns the right values (through the reference, or the check's own expected values)
        # is not a wrong answer: its score depends on whether the check still lets it through (lab 4's hidden
        # cases decide that, and they change); the integrity flag is what catches it (tested below).
        expected = {**FULL, "test_grad_cam": None} if right else {**FULL, "test_grad_cam": 0.0}
        if name == "recording-and-assert-off":  # no answer of any exercise is recorded: both earn 0
            expected = dict.fromkeys(FULL, 0.0)
        submissions[f"tamper-{name}"] = (notebook, expected)
    submissions.update({f"broken-{name}": case for name, case in _broken(honest, answers).items()})
    name = notebook_path(course / "notebooks", LAB).name
    for student, (notebook, _expected) in submissions.items():
        folder = course / "submitted" / student / LAB
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / name)
    start = time.monotonic()
    path, outcomes = grade_class(
        course,
        LAB,
        workers=2,
        progress=False,
        options=("--BoundedExecute.timeout=40", "--BoundedExecute.budget=70"),
        timeout=400,
    )
    seconds = time.monotonic() - start
    rows = {row["student"]: row for row in csv.DictReader(path.open())}
    print(f"\n{len(submissions)} submissions of {LAB} graded in {seconds:.0f} s with 2 workers")
    for student, row in rows.items():
        print(
            f"{student:45s} {row['test_grad_cam']:>5s} {row['test_confidence_metrics']:>5s} "
            f"{row['grading_seconds']:>6s} s  flags: {len(row['flags'].split(' | ')) if row['flags'] else 0}"
        )
    return {
        "course": course,
        "rows": rows,
        "expected": {k: v for k, (_n, v) in submissions.items()},
        "outcomes": {outcome.student: outcome for outcome in outcomes},
    }


def test_every_submission_is_graded_with_feedback_in_bounded_time(graded):
    for student, row in graded["rows"].items():
        assert row["graded"] == "yes", graded["outcomes"][student].log[-3000:]
        assert float(row["grading_seconds"]) < 120, student
        (page,) = (graded["course"] / "feedback" / student / LAB).glob("*.html")
        assert "<html" in page.read_text()[:2000].lower()


def test_scores_of_honest_tampered_and_broken_submissions(graded):
    got = {student: {cell: float(row[cell]) for cell in FULL} for student, row in graded["rows"].items()}
    assert set(got) == set(graded["expected"])
    for student, expected in graded["expected"].items():
        assert {cell: score for cell, score in got[student].items() if expected[cell] is not None} == {
            cell: score for cell, score in expected.items() if score is not None
        }, student
    assert all(row["max"] == "13.0" for row in graded["rows"].values()), "points come from the gradebook"


def test_tampering_is_flagged_and_honest_code_is_not(graded):
    rows = graded["rows"]
    assert rows["honest"]["flags"] == ""
    for name in TAMPERING:
        assert rows[f"tamper-{name}"]["flags"], name


def test_huge_output_is_capped(graded):
    autograded = graded["course"] / "autograded" / "broken-huge-output" / LAB
    (path,) = autograded.glob("*.ipynb")
    assert path.stat().st_size < 2_000_000
