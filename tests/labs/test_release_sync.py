"""notebooks/ is exactly what nbgrader generates from solutions/."""

import shutil

import pytest

from labkit.grader.course import nbgrader, notebook_path, read
from tests.labs.labfiles import LABS, RELEASE, ROOT


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    for lab in LABS:
        code, log = nbgrader(course, "generate_assignment", lab, "--no-db")
        assert code == 0, log
    return course / "notebooks"


@pytest.mark.parametrize("lab", LABS)
def test_release_matches_solutions(regenerated, lab):
    committed = read(notebook_path(RELEASE, lab))
    fresh = read(notebook_path(regenerated, lab))
    assert committed == fresh, f"notebooks/{lab} is stale: run `make notebooks` and commit the result"


@pytest.mark.parametrize("lab", LABS)
def test_release_has_no_solutions_or_hidden_tests(lab):
    text = notebook_path(RELEASE, lab).read_text()
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "from labkit.checks import"):
        assert marker not in text
    assert "raise NotImplementedError()" in text and '"outputs": []' in text
