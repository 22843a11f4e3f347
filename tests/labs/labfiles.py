"""The repository's labs, read through labkit.course."""

from pathlib import Path

from labkit import course

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
LABS = course.lab_names(SOLUTIONS)


def solved(lab: str):
    return course.read(course.notebook_path(SOLUTIONS, lab))


def released(lab: str):
    return course.read(course.notebook_path(RELEASE, lab))
