"""Grading speed: one submission of each lab, and a whole class of one lab, through nbgrader's command line.

``python -m bench.grading [--labs 01_occlusion ...] [--class-lab 04_grad_cam] [--class-size 30] [--workers 2]
[--rounds 2]``
builds a scratch course from the repository's ``solutions/`` and prints

1. for each lab, the seconds ``nbgrader autograde`` takes on one submission (the model answers typed into the
   release), with its kernel in the grading sandbox and without it (``COURSE_GRADING_UNSANDBOXED=1``), in
   interleaved rounds, each keeping its best, and the score (it must be full marks both ways);
2. the time :func:`labkit.grader.classroom.grade_class` (``make grade``) takes on ``class-size`` submissions of
   one lab, with feedback: the model answers and the untouched release, alternately, so that half the class
   gets full marks and half gets 0.

Run it alone: another process on the machine slows grading by as much as it takes.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from labkit.grader.classroom import grade_class
from labkit.grader.course import (
    exercise_points,
    filled_release,
    lab_names,
    model_answers,
    notebook_path,
    read,
    scratch_course,
)
from labkit.grader.sandbox import UNSANDBOXED

ROOT = Path(__file__).resolve().parents[1]


def submit(course: Path, lab: str, student: str, notebook: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / lab
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / notebook_path(course / "solutions", lab).name)


def honest(course: Path, lab: str) -> nbformat.NotebookNode:
    """The lab's release with the model answers typed in."""
    answers = model_answers(read(notebook_path(course / "solutions", lab)))
    return filled_release(read(notebook_path(course / "notebooks", lab)), answers)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def grade_one(course: Path, lab: str, sandboxed: bool) -> tuple[float, float]:
    """(seconds, total score) of grading the one submission in ``course/submitted``, sandboxed or not."""
    previous = os.environ.pop(UNSANDBOXED, None)
    if not sandboxed:
        os.environ[UNSANDBOXED] = "1"
    try:
        path, (outcome,) = grade_class(course, lab, workers=1, feedback=False, progress=False)
    finally:
        os.environ.pop(UNSANDBOXED, None)
        if previous is not None:
            os.environ[UNSANDBOXED] = previous
    (row,) = rows(path)
    return outcome.seconds, float(row["total"] or "nan")


def grade_a_class(course: Path, lab: str, size: int, workers: int) -> None:
    """Time ``make grade`` on ``size`` submissions of ``lab`` (sandboxed), half of them blank; print one line."""
    blank = read(notebook_path(course / "notebooks", lab))
    for index in range(size):
        submit(course, lab, f"student{index:03d}", honest(course, lab) if index % 2 == 0 else blank)
    start = time.perf_counter()
    _path, outcomes = grade_class(course, lab, workers=workers)
    seconds = time.perf_counter() - start
    graded = sum(outcome.ok for outcome in outcomes)
    slowest = max(outcome.seconds for outcome in outcomes)
    print(
        f"class of {size} ({lab}, {workers} workers, with feedback): {seconds:.0f} s in all, "
        f"{seconds / size:.1f} s per submission, slowest {slowest:.1f} s, {graded} graded"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", nargs="*", default=None, help="labs timed one submission each (default: all)")
    parser.add_argument("--class-lab", default="04_grad_cam")
    parser.add_argument("--class-size", type=int, default=30, help="0: no class run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="sandboxed and unsandboxed runs per lab (best kept)")
    args = parser.parse_args()
    labs = lab_names(ROOT / "solutions") if args.labs is None else args.labs
    scratch = Path(tempfile.mkdtemp(prefix="labkit-bench-grading-"))
    try:
        course = scratch_course(ROOT, scratch / "course", sorted({*labs, args.class_lab}))
        print(f"{'lab':28s} {'sandboxed s':>12s} {'unsandboxed s':>14s} {'difference':>11s} {'scores':>18s}")
        for lab in labs:
            submit(course, lab, "one", honest(course, lab))
            best = {True: float("inf"), False: float("inf")}
            scores = set()
            for _round in range(args.rounds):
                for sandboxed in (True, False):
                    seconds, score = grade_one(course, lab, sandboxed)
                    best[sandboxed] = min(best[sandboxed], seconds)
                    scores.add(score)
            full = sum(exercise_points(read(notebook_path(course / "solutions", lab))).values())
            print(
                f"{lab:28s} {best[True]:12.1f} {best[False]:14.1f} {best[True] - best[False]:+11.1f} "
                f"{'/'.join(f'{score:.1f}' for score in sorted(scores)):>11s} / {full:4.1f}",
                flush=True,
            )
            shutil.rmtree(course / "submitted" / "one")
        if args.class_size > 0:
            grade_a_class(course, args.class_lab, args.class_size, args.workers)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
