"""The repository's labs, read through labkit.grader.course."""

from labkit.grader import course
from labkit.paths import RELEASE, ROOT, SOLUTIONS

__all__ = ["LABS", "RELEASE", "ROOT", "SOLUTIONS", "released", "solved"]

LABS = course.lab_names(SOLUTIONS)


def solved(lab: str):
    return course.read(course.notebook_path(SOLUTIONS, lab))


def released(lab: str):
    return course.read(course.notebook_path(RELEASE, lab))
