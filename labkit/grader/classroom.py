"""Grade every submission of a lab: nbgrader autograde and feedback in parallel, a CSV, integrity flags.

``python -m labkit.grader grade 04_grad_cam --workers 2`` (``make grade LAB=04_grad_cam``) in the course
directory (the repository, or any nbgrader course using its ``nbgrader_config.py``), after ``nbgrader
collect`` (or with submissions copied to ``submitted/<student>/<lab>/``):

1. puts the lab in the gradebook if it is not there yet (``nbgrader generate_assignment``);
2. runs ``nbgrader autograde <lab> --student <id>`` then ``nbgrader generate_feedback`` for each student,
   ``workers`` at a time (each with ``OMP_NUM_THREADS`` = cores / workers), with a progress bar; a
   submission that cannot be graded (its nbgrader run failed or ran out of time) is listed, not fatal;
3. every kernel runs in the grading sandbox (:mod:`labkit.grader.sandbox`); where it cannot start, grading
   stops before the first submission unless ``COURSE_GRADING_UNSANDBOXED=1`` (``--unsandboxed``) is set;
4. writes ``grades/<lab>.csv``: one row per student with the score of each graded cell (written answers
   stay empty until marked by hand in formgrader), the autograded total, seconds late, the time grading
   took, and the integrity flags of the student's own code (:mod:`labkit.grader.integrity`).
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from labkit.grader.integrity import scan_notebook
from labkit.grader.sandbox import UNSANDBOXED, check_available, unsandboxed_accepted

BIN = Path(sys.executable).parent
NBGRADER = str(BIN / "nbgrader")


def run_nbgrader(
    course: Path, *args: str, timeout: float | None = None, threads: int | None = None, env: dict | None = None
) -> tuple[int, str]:
    """Run the nbgrader command line in ``course``: (exit code, combined output); 124 when it ran out of time.

    nbgrader runs in a session of its own, so that on a timeout its kernel goes too. ``env`` adds variables
    (e.g. ``USER``, the student nbgrader's exchange commands act as).
    """
    env = {**os.environ, **(env or {}), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    process = subprocess.Popen(
        [NBGRADER, *args],
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return 124, f"{output}\nnbgrader {' '.join(args)} ran out of time ({timeout} s)"
    return process.returncode, output


@dataclass
class Outcome:
    """How grading one student's submission went."""

    student: str
    ok: bool = True
    seconds: float = 0.0
    log: str = ""
    flags: list[str] = field(default_factory=list)


def submitted_students(course: Path, lab: str) -> list[str]:
    """The students with a submission of ``lab`` in ``course/submitted/``."""
    return sorted(path.parent.name for path in Path(course).glob(f"submitted/*/{lab}") if path.is_dir())


def ensure_in_gradebook(course: Path, lab: str) -> None:
    """Run ``nbgrader generate_assignment`` if the gradebook does not know the lab's notebooks yet."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gradebook:
        try:
            known = bool(gradebook.find_assignment(lab).notebooks)
        except MissingEntry:
            known = False
    if not known:
        code, log = run_nbgrader(course, "generate_assignment", lab, "--force")
        if code != 0:
            raise RuntimeError(f"nbgrader generate_assignment {lab} failed:\n{log}")


def grade_one(
    course: Path, lab: str, student: str, timeout: float, threads: int, feedback: bool, options: tuple[str, ...] = ()
) -> Outcome:
    """Autograde (and give feedback to) one student; retried if the gradebook was busy."""
    start = time.monotonic()
    outcome = Outcome(student)
    for attempt in range(3):
        code, log = run_nbgrader(
            course, "autograde", lab, "--student", student, "--force", *options, timeout=timeout, threads=threads
        )
        if code == 0 or "database is locked" not in log or attempt == 2:
            break
        time.sleep(1 + attempt)
    outcome.ok, outcome.log = code == 0 and "failed to autograde" not in log.lower(), log
    if outcome.ok and feedback:
        code, log = run_nbgrader(course, "generate_feedback", lab, "--student", student, "--force", timeout=timeout)
        outcome.ok, outcome.log = code == 0, outcome.log + log
    outcome.seconds = time.monotonic() - start
    return outcome


def integrity_flags(course: Path, lab: str, student: str) -> list[str]:
    """The integrity flags of each notebook a student submitted for ``lab``."""
    import nbformat

    flags = []
    for path in sorted((Path(course) / "submitted" / student / lab).glob("*.ipynb")):
        sources = [Path(course) / folder / lab / path.name for folder in ("solutions", "source")]
        source = next((nbformat.read(found, as_version=4) for found in sources if found.exists()), None)
        try:
            submitted = nbformat.read(path, as_version=4)
        except Exception as error:
            flags.append(f"{path.name}: cannot be read ({type(error).__name__})")
            continue
        flags.extend(f"{path.stem}/{flag}" for flag in scan_notebook(submitted, source))
    return flags


def scores(course: Path, lab: str, students: list[str]) -> tuple[list[str], dict[str, dict]]:
    """(graded cell ids in order, student -> {cell id: score or None, "total", "max", "late"}) from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(lab)
        cells = [(notebook.name, cell.name) for notebook in assignment.notebooks for cell in notebook.grade_cells]
        columns = [name if len(assignment.notebooks) == 1 else f"{notebook}/{name}" for notebook, name in cells]
        table = {}
        for student in students:
            try:
                submission = gradebook.find_submission(lab, student)
            except MissingEntry:
                table[student] = None
                continue
            row = {}
            for column, (notebook, name) in zip(columns, cells):
                grade = gradebook.find_grade(name, notebook, lab, student)
                row[column] = None if grade.needs_manual_grade else grade.score
            row.update(total=submission.score, max=submission.max_score, late=submission.total_seconds_late)
            table[student] = row
    return columns, table


def require_sandbox() -> None:
    """Before grading: the sandbox starts here, or the grader accepted the risk; else SandboxUnavailable.

    Each nbgrader run checks again (:class:`labkit.grader.preprocessors.BoundedExecute`); checking first stops
    a class run with one message instead of a failure per submission.
    """
    if unsandboxed_accepted():
        print(
            f"WARNING: grading without the sandbox ({UNSANDBOXED}=1): students' code runs with your rights",
            file=sys.stderr,
        )
        return
    check_available()


def grade_class(
    course: Path,
    lab: str,
    workers: int = 2,
    output: Path | None = None,
    timeout: float = 180.0,
    feedback: bool = True,
    progress: bool = True,
    options: tuple[str, ...] = (),
) -> tuple[Path, list[Outcome]]:
    """Grade every submission of ``lab`` in ``course`` (see the module's docstring); (CSV path, outcomes).

    ``options`` go to ``nbgrader autograde`` (e.g. ``--BoundedExecute.budget=40``).
    """
    course = Path(course).resolve()
    students = submitted_students(course, lab)
    if not students:
        raise FileNotFoundError(
            f"no submissions of {lab} in {course / 'submitted'}: expected submitted/<student>/{lab}/*.ipynb "
            "(run `nbgrader collect` first)"
        )
    require_sandbox()
    ensure_in_gradebook(course, lab)
    threads = max(1, (os.cpu_count() or 1) // workers)
    outcomes = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(grade_one, course, lab, student, timeout, threads, feedback, options) for student in students
        ]
        for future in tqdm(
            as_completed(futures), total=len(futures), desc=f"grading {lab}", unit="submission", disable=not progress
        ):
            outcomes.append(future.result())
    outcomes.sort(key=lambda outcome: outcome.student)
    for outcome in outcomes:
        outcome.flags = integrity_flags(course, lab, outcome.student)
    columns, table = scores(course, lab, students)
    output = Path(output) if output is not None else course / "grades" / f"{lab}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *columns, "total", "max", "seconds_late", "graded", "grading_seconds", "flags"])
        for outcome in outcomes:
            row = table.get(outcome.student) or {}
            writer.writerow(
                [
                    outcome.student,
                    *(row.get(column) for column in columns),
                    row.get("total"),
                    row.get("max"),
                    row.get("late"),
                    "yes" if outcome.ok and row else "FAILED",
                    f"{outcome.seconds:.1f}",
                    " | ".join(outcome.flags),
                ]
            )
    return output, outcomes
