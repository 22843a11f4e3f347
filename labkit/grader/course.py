"""The course's nbgrader side: reading the labs, filling in releases, grading a class or a scratch course.

Commands: ``python -m labkit.grader grade LAB`` grades every submission of a lab in the course directory in
parallel, with a CSV of scores and integrity flags (:mod:`labkit.grader.classroom`, ``make grade``);
``python -m labkit.grader demo`` grades each lab's solution and blank release in a scratch course
(``make grading-demo``). Both run every student kernel in the grading sandbox (:mod:`labkit.grader.sandbox`)
and stop where it cannot start, unless ``--unsandboxed`` accepts the risk. The test suite's nbgrader round
trips use the functions below. The course layout is the repository's: ``solutions/NN_name/*.ipynb`` (nbgrader
source) and ``notebooks/NN_name/*.ipynb`` (release).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from labkit.grader.classroom import grade_class, require_sandbox, run_nbgrader
from labkit.grader.sandbox import UNSANDBOXED, SandboxUnavailable


def lab_names(solutions: Path) -> list[str]:
    """The labs in a solutions folder, in order (folders named ``NN_name``)."""
    return sorted(path.name for path in Path(solutions).iterdir() if path.is_dir() and path.name[:2].isdigit())


def notebook_path(folder: Path, lab: str) -> Path:
    """The one notebook of ``lab`` inside ``folder`` (solutions/, notebooks/, submitted/x/...)."""
    (path,) = (Path(folder) / lab).glob("*.ipynb")
    return path


def read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def nbgrader_cells(notebook: NotebookNode, **flags: bool) -> dict[str, NotebookNode]:
    """Cells by grade_id whose nbgrader metadata has the given flags (e.g. ``solution=True``)."""
    found = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta and all(meta.get(key) == value for key, value in flags.items()):
            found[meta["grade_id"]] = cell
    return found


def model_answers(solved: NotebookNode) -> dict[str, str]:
    """grade_id -> each code exercise's answer as a student would type it (solution markers removed)."""
    return {
        grade_id: re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*\n", "", cell.source, flags=re.MULTILINE)
        for grade_id, cell in nbgrader_cells(solved, solution=True).items()
        if cell.cell_type == "code"
    }


def exercise_points(solved: NotebookNode) -> dict[str, float]:
    """grade_id -> points of each autograded test cell."""
    return {
        grade_id: cell.metadata["nbgrader"]["points"]
        for grade_id, cell in nbgrader_cells(solved, grade=True).items()
        if cell.cell_type == "code"
    }


def filled_release(release: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    """A copy of the release with the given code answers typed into its solution cells."""
    filled = nbformat.from_dict(release)
    for grade_id, cell in nbgrader_cells(filled, solution=True).items():
        if grade_id in answers:
            cell.source = answers[grade_id]
    return filled


def nbgrader(course: Path, *args: str, timeout: float | None = None) -> tuple[int, str]:
    """Run the nbgrader command line in ``course``; (exit code, combined output)."""
    return run_nbgrader(course, *args, timeout=timeout)


def _checked(course: Path, *args: str) -> str:
    code, log = nbgrader(course, *args)
    if code != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{log}")
    return log


def scratch_course(repository: Path, course: Path, labs: list[str]) -> Path:
    """A new course directory with the repository's nbgrader config and the labs' sources, released."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(repository) / "nbgrader_config.py", course)
    for lab in labs:
        shutil.copytree(Path(repository) / "solutions" / lab, course / "solutions" / lab, dirs_exist_ok=True)
        _checked(course, "generate_assignment", lab, "--force")
    return course


def grade(course: Path, lab: str, submissions: dict[str, NotebookNode]) -> dict[str, dict[str, float]]:
    """Submit one notebook per student, autograde and generate feedback; student -> grade_id -> score."""
    from nbgrader.api import Gradebook

    name = notebook_path(course / "notebooks", lab).name
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / lab
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / name)
    _checked(course, "autograde", lab, "--force")
    _checked(course, "generate_feedback", lab, "--force")
    points = exercise_points(read(notebook_path(course / "solutions", lab)))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {
            student: {
                grade_id: gradebook.find_grade(grade_id, Path(name).stem, lab, student).score for grade_id in points
            }
            for student in submissions
        }


def demo(repository: Path, course: Path, labs: list[str]) -> None:
    """Grade each lab's executed solution and its untouched release; print the scores and the feedback."""
    require_sandbox()
    scratch_course(repository, course, labs)
    for lab in labs:
        submissions = {
            "solution": read(notebook_path(course / "solutions", lab)),
            "blank": read(notebook_path(course / "notebooks", lab)),
        }
        scores = grade(course, lab, submissions)
        total = sum(exercise_points(submissions["solution"]).values())
        for student, by_cell in scores.items():
            print(f"{lab}  {student:10s} {sum(by_cell.values()):5.1f} / {total:.1f}  {by_cell}")
    print(f"feedback pages: {course / 'feedback'}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m labkit.grader", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grading = commands.add_parser("grade", help="autograde every submission of a lab in submitted/, in parallel")
    grading.add_argument("lab", help="the lab, e.g. 04_grad_cam")
    grading.add_argument("--course", type=Path, default=Path.cwd(), help="the nbgrader course directory")
    grading.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    grading.add_argument("--csv", type=Path, default=None, help="default: <course>/grades/<lab>.csv")
    grading.add_argument("--timeout", type=float, default=180.0, help="seconds per submission before giving up")
    grading.add_argument("--no-feedback", action="store_true", help="skip nbgrader generate_feedback")
    grading.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NBGRADER_OPTION",
        help="an option for nbgrader autograde, e.g. --option=--BoundedExecute.budget=200 (repeatable)",
    )
    unsandboxed = (
        f"grade without the sandbox (sets {UNSANDBOXED}=1): students' code then runs with your rights and can "
        "read the solutions, the gradebook and other submissions"
    )
    grading.add_argument("--unsandboxed", action="store_true", help=unsandboxed)
    demoing = commands.add_parser("demo", help="grade each lab's solution and blank release in a scratch course")
    demoing.add_argument("labs", nargs="*", help="labs to grade (default: all)")
    demoing.add_argument("--repository", type=Path, default=Path.cwd())
    demoing.add_argument("--course", type=Path, default=Path("build/grading-demo"))
    demoing.add_argument("--unsandboxed", action="store_true", help=unsandboxed)
    args = parser.parse_args()
    if args.unsandboxed:
        os.environ[UNSANDBOXED] = "1"  # the nbgrader processes inherit it
    try:
        if args.command == "demo":
            demo(args.repository, args.course.resolve(), args.labs or lab_names(args.repository / "solutions"))
            return
        if args.workers < 1:
            parser.error("--workers must be at least 1")
        path, outcomes = grade_class(
            args.course,
            args.lab,
            workers=args.workers,
            output=args.csv,
            timeout=args.timeout,
            feedback=not args.no_feedback,
            options=tuple(args.option),
        )
    except SandboxUnavailable as error:
        parser.exit(3, f"{error}\n")
    failed = [outcome.student for outcome in outcomes if not outcome.ok]
    flagged = [outcome.student for outcome in outcomes if outcome.flags]
    print(f"{len(outcomes)} submissions graded into {path}")
    if flagged:
        print(f"integrity flags (read the code they point at): {', '.join(flagged)}")
    if failed:
        print(f"not graded (see nbgrader's log): {', '.join(failed)}")


