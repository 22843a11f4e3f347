"""A class through the course's JupyterHub: release, fetch, validate, submit, collect, autograde, feedback, grades.

One instructor and three students, each a Unix user with a server started through the hub's REST API; the
students act only through their own servers (nbgrader's endpoints and the contents API, with their own tokens),
the instructor through the formgrader service. One right submission, one wrong (right on the visible test only),
one right but late. The tests run in order and share the module's class.
"""

from __future__ import annotations

import csv
import json
import time
from urllib.parse import quote

import nbformat
import psutil
import pytest

from tests.hub.conftest import LOG, Class

SHOTS = LOG.parent
ASSIGNMENT = "hub_check"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
RIGHT = "def double(x):\n    return 2 * x"
PROBE = "course folder"
# Right on the visible example (2), wrong on the hidden ones; it also looks for the course folder (when graded,
# the formgrader's sandbox must hide it).
WRONG = (
    "def double(x):\n    return x + 2\n\n\nimport os\nprint({probe!r}, 'visible=' + str(os.path.exists({folder!r})))"
)
POINTS = 3
#: A lab of the course, released and fetched through the hub, opened in the browser.
LAB, LAB_NOTEBOOK, LAB_TITLE = "01_occlusion", "occlusion.ipynb", "h1:has-text('Occlusion')"
STATE: dict = {}


def source_notebook() -> nbformat.NotebookNode:
    """The assignment's nbgrader source: one answer cell, one test cell (visible and hidden asserts)."""
    answer = nbformat.v4.new_code_cell(
        "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
        metadata={
            "nbgrader": {"grade": False, "solution": True, "locked": False, "grade_id": "double", "schema_version": 3}
        },
    )
    test = nbformat.v4.new_code_cell(
        'assert double(2) == 4, "double(2) should be 4"\n### BEGIN HIDDEN TESTS\n'
        "assert double(-3) == -6\nassert double(0.5) == 1.0\n### END HIDDEN TESTS",
        metadata={
            "nbgrader": {
                "grade": True,
                "solution": False,
                "locked": True,
                "grade_id": "test_double",
                "points": POINTS,
                "schema_version": 3,
            }
        },
    )
    intro = nbformat.v4.new_markdown_cell("Write `double(x)`, which returns twice its argument.")
    return nbformat.v4.new_notebook(
        cells=[intro, answer, test],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def ok(response, *codes: int):
    assert response.status_code in (codes or (200,)), (
        f"{response.request.method} {response.url}: {response.status_code} {response.text[:500]}"
    )
    return response.json() if response.text else None


def start_server(klass: Class, name: str) -> None:
    response = klass.hub_api("POST", f"/users/{name}/server", token=klass.tokens[name])
    assert response.status_code in (201, 202), response.text
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        model = ok(klass.hub_api("GET", f"/users/{name}", token=klass.tokens[name]))
        if model["servers"].get("", {}).get("ready"):
            return
        time.sleep(0.5)
    pytest.fail(f"{name}'s server did not start in 180 s (see {klass.data / 'jupyterhub.log'})")


def student_path(klass: Class) -> str:
    return f"{klass.course}/{ASSIGNMENT}/{NOTEBOOK}"


def test_servers_start_as_their_own_users(klass: Class):
    begin = time.monotonic()
    for name in [klass.instructor, *klass.students]:
        start_server(klass, name)
    klass.timings["servers_start_s"] = time.monotonic() - begin
    # The idle culler and the formgrader run as services of the hub.
    services = {name: ok(klass.hub_api("GET", f"/services/{name}")) for name in ("idle-culler", klass.course)}
    assert all(service["pid"] for service in services.values()), services
    # Each server runs as its own Unix user (nbgrader's exchange relies on it).
    owners = {
        process.info["username"]
        for process in psutil.process_iter(["username", "cmdline"])
        if "jupyterhub.singleuser" in " ".join(process.info["cmdline"] or [])
    }
    assert set(klass.students) | {klass.instructor} <= owners, owners


def test_instructor_releases_through_the_formgrader(klass: Class):
    source = klass.course_folder / "solutions" / ASSIGNMENT
    source.mkdir()
    nbformat.write(source_notebook(), source / NOTEBOOK)
    klass.run_as(
        "root",
        f"import shutil; shutil.chown({str(source)!r}, {klass.grader!r}); "
        f"shutil.chown({str(source / NOTEBOOK)!r}, {klass.grader!r})",
    )
    # The formgrader may be framed by its own JupyterLab (JupyterHub >= 4.1 sends frame-ancestors 'none' otherwise,
    # and the formgrader's tab in JupyterLab stays blank: nbgrader #1870).
    page = klass.formgrader("GET", "status")
    assert "frame-ancestors 'self'" in page.headers.get("Content-Security-Policy", ""), page.headers
    # A student may not use the formgrader.
    assert klass.formgrader("GET", "assignments", token=klass.tokens[klass.students[0]]).status_code == 403
    # The small assignment the class is graded on, and the course's first lab (from this checkout's solutions/).
    for assignment in (ASSIGNMENT, LAB):
        generated = ok(klass.formgrader("POST", f"assignment/{assignment}/assign"))
        assert generated["success"], generated
        released = ok(klass.formgrader("POST", f"assignment/{assignment}/release"))
        assert released["success"], released


def test_students_fetch_validate_submit(klass: Class):
    right, wrong, late = klass.students
    for name in klass.students:
        listing = ok(klass.user("GET", name, "assignments", params={"course_id": klass.course}))
        assert any(item["assignment_id"] == ASSIGNMENT and item["status"] == "released" for item in listing["value"]), (
            listing
        )
        ok(klass.user("POST", name, "assignments/fetch", data={"course_id": klass.course, "assignment_id": ASSIGNMENT}))
    ok(klass.user("POST", right, "assignments/fetch", data={"course_id": klass.course, "assignment_id": LAB}))
    lab = ok(klass.user("GET", right, f"api/contents/{klass.course}/{LAB}/{LAB_NOTEBOOK}"))["content"]
    assert "BEGIN SOLUTION" not in json.dumps(lab) and "HIDDEN TESTS" not in json.dumps(lab)
    # Validation runs the notebook: the unanswered release fails its test.
    validated = ok(klass.user("POST", right, "assignments/validate", data={"path": student_path(klass)}))
    assert validated["success"] and validated["value"].get("failed"), validated
    wrong_answer = WRONG.format(probe=PROBE, folder=str(klass.course_folder))
    for name, answer in ((right, RIGHT), (wrong, wrong_answer), (late, RIGHT)):
        model = ok(klass.user("GET", name, f"api/contents/{student_path(klass)}"))
        notebook = nbformat.from_dict(model["content"])
        assert "raise NotImplementedError()" in notebook.cells[1].source  # the release has no solution
        assert "HIDDEN" not in notebook.cells[2].source and "-3" not in notebook.cells[2].source
        notebook.cells[1].source = answer
        ok(
            klass.user(
                "PUT",
                name,
                f"api/contents/{student_path(klass)}",
                json={"type": "notebook", "format": "json", "content": notebook},
            ),
            200,
            201,
        )
    validated = ok(klass.user("POST", right, "assignments/validate", data={"path": student_path(klass)}))
    assert validated["success"] and not validated["value"].get("failed"), validated
    # The wrong answer passes the visible test: validation cannot tell (the hidden tests will).
    validated = ok(klass.user("POST", wrong, "assignments/validate", data={"path": student_path(klass)}))
    assert validated["success"] and not validated["value"].get("failed"), validated
    begin = time.monotonic()
    for name in (right, wrong):
        submitted = ok(
            klass.user(
                "POST", name, "assignments/submit", data={"course_id": klass.course, "assignment_id": ASSIGNMENT}
            )
        )
        assert "success" not in submitted or submitted["success"], submitted
    # The due date passes; the third student submits after it (nbgrader's timestamps have microseconds: the due
    # date, in whole seconds, is the next second).
    now = time.gmtime(time.time() + 1)
    ok(
        klass.formgrader(
            "PUT",
            f"assignment/{ASSIGNMENT}",
            json={"duedate_notimezone": time.strftime("%Y-%m-%dT%H:%M:%S", now), "duedate_timezone": "UTC"},
        )
    )
    time.sleep(3)
    ok(klass.user("POST", late, "assignments/submit", data={"course_id": klass.course, "assignment_id": ASSIGNMENT}))
    STATE["submit_s"] = time.monotonic() - begin


def test_students_cannot_read_each_other_or_the_source(klass: Class):
    right, wrong, _ = klass.students
    inbound = klass.data / "exchange" / klass.course / "inbound"
    submissions = sorted(path for path in inbound.iterdir() if path.name.startswith(right + "+"))
    assert submissions, list(inbound.iterdir())
    # nbgrader's exchange: the inbound folder cannot be listed by students (mode 2733) and each submission's
    # folder ends in a random string, so another student cannot find it; what is not the exchange is unreadable.
    assert len(submissions[0].name.rsplit("+", 1)[1]) >= 12, submissions[0].name
    secret_files = [
        klass.course_folder / "solutions" / ASSIGNMENT / NOTEBOOK,  # the instructor's source
        klass.course_folder / "submitted",  # collected submissions
        klass.course_folder / "gradebook.db",
        klass.data / "secrets" / "manager_token",
        klass.data.parent / "home" / right / klass.course / ASSIGNMENT / NOTEBOOK,  # another student's home
    ]
    probe = (
        "import os, sys\nfailures = []\n"
        f"try:\n    os.listdir({str(inbound)!r}); failures.append('listed inbound')\n"
        "except PermissionError:\n    pass\n"
        f"for path in {[str(path) for path in secret_files]!r}:\n"
        "    try:\n        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)\n"
        "        failures.append(path)\n    except PermissionError:\n        pass\n"
        "print(failures)"
    )
    result = klass.run_as(wrong, probe)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
    # Through the student's own server: its contents API serves its home folder only (".." is normalised away
    # before it reaches the contents API, or refused).
    for path in (
        "..",
        f"../{right}",
        f"{klass.course}/../../{right}",
        "../../data/grader",
        str(inbound).lstrip("/"),
        str(klass.course_folder / "solutions").lstrip("/"),
        str(klass.data / "secrets").lstrip("/"),
    ):
        encoded = quote(path, safe="/").replace(".", "%2E")  # as sent, not normalised away by the client
        response = klass.user("GET", wrong, f"api/contents/{encoded}")
        model = response.json() if response.status_code == 200 else {}
        assert response.status_code in (200, 400, 403, 404), (path, response.status_code)
        assert "content" not in model or model["path"] in ("", klass.course), (path, model.get("path"))
    # Another student's server, and the formgrader, refuse the student's token.
    assert klass.user("GET", right, f"api/contents/{student_path(klass)}", as_user=wrong).status_code == 403
    assert klass.formgrader("GET", f"submissions/{ASSIGNMENT}", token=klass.tokens[wrong]).status_code == 403


def test_collect_autograde_feedback(klass: Class):
    right, wrong, late = klass.students
    begin = time.monotonic()
    collected = ok(klass.formgrader("POST", f"assignment/{ASSIGNMENT}/collect"))
    assert collected["success"], collected
    for name in klass.students:
        graded = ok(klass.formgrader("POST", f"submission/{ASSIGNMENT}/{name}/autograde"))
        assert graded["success"], graded
    submissions = {item["student"]: item for item in ok(klass.formgrader("GET", f"submissions/{ASSIGNMENT}"))}
    assert {name: submissions[name]["score"] for name in klass.students} == {right: POINTS, wrong: 0, late: POINTS}
    assert all(submissions[name]["max_score"] == POINTS for name in klass.students)
    # The wrong answer looked for the course folder while it was graded: the sandbox hid it (feedback below).
    generated = ok(klass.formgrader("POST", f"assignment/{ASSIGNMENT}/generate_feedback"))
    assert generated["success"], generated
    released = ok(klass.formgrader("POST", f"assignment/{ASSIGNMENT}/release_feedback"))
    assert released["success"], released
    for name, score in ((right, POINTS), (wrong, 0), (late, POINTS)):
        ok(
            klass.user(
                "POST",
                name,
                "assignments/fetch_feedback",
                data={"course_id": klass.course, "assignment_id": ASSIGNMENT},
            )
        )
        folder = ok(klass.user("GET", name, f"api/contents/{klass.course}/{ASSIGNMENT}/feedback"))
        (stamp,) = [item["path"] for item in folder["content"]]
        page = ok(klass.user("GET", name, f"api/contents/{stamp}/{ASSIGNMENT}.html"))["content"]
        assert f"Score: {score}" in page and f"{POINTS}" in page, page[:2000]
        if name == wrong:
            assert f"{PROBE} visible=False" in page, page[:3000]
    STATE["grade_s"] = time.monotonic() - begin


def test_grades_csv_for_the_lms(klass: Class):
    path = klass.data.parent / "grades.csv"
    klass.hub_command("grades", str(path))
    with path.open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    right, wrong, late = klass.students
    assert {name: float(rows[name]["score"]) for name in klass.students} == {right: POINTS, wrong: 0, late: POINTS}
    assert float(rows[right]["max_score"]) == POINTS
    late_flags = {name: float(rows[name]["seconds_late"]) > 0 for name in klass.students}
    assert late_flags == {right: False, wrong: False, late: True}, rows
    klass.timings["round_trip_s"] = STATE["submit_s"] + STATE["grade_s"]


def test_formgrader_and_lab_open_in_the_browser(klass: Class, browser):
    """The instructor's formgrader (its own tab) and a student's fetched lab, through the hub's login, in Chromium
    (the browser tests' fixture: skipped without Chromium, failed where COURSE_BROWSER_TESTS=required)."""
    for name, path, ready in (
        (klass.instructor, f"services/{klass.course}/formgrader", "text=Manage Assignments"),
        (
            klass.students[0],
            f"user/{klass.students[0]}/lab/tree/{student_path(klass)}",
            ".jp-Notebook .jp-Cell >> nth=2",
        ),
        (klass.students[0], f"user/{klass.students[0]}/lab/tree/{klass.course}/{LAB}/{LAB_NOTEBOOK}", LAB_TITLE),
    ):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda message, errors=errors: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error, errors=errors: errors.append(f"page error: {error}"))
            page.goto(f"{klass.url}/hub/login?next=/{path}", timeout=120_000)
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", klass.secret("dummy_password"))
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_selector(ready, timeout=180_000)
            if name == klass.instructor:  # the assignment of the class is listed, with its submissions
                page.wait_for_selector(f"text={ASSIGNMENT}", timeout=60_000)
            elif ASSIGNMENT in path:
                page.wait_for_selector("text=double(2) should be 4", timeout=60_000)
            page.wait_for_timeout(2000)  # late errors of the page's start
            page.screenshot(path=str(SHOTS / f"{path.rsplit('/', 1)[-1].removesuffix('.ipynb')}.png"))
            assert not errors, f"{path}: browser console errors: {errors}"
        finally:
            context.close()
