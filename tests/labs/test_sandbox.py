"""The grading sandbox (labkit.grader.sandbox), through the instructor's class command and nbgrader's command line.

One class run of lab 4 grades an honest submission next to one submission per attempt to get out of the
sandbox (or to answer with Captum, which the sandbox hides). Each attempt's answer cell tries its way out;
where the way out works, the attempt earns the exercise's points (with the instructor's solution, another
student's answer, Captum's Grad-CAM, or the model answer), where it does not, the answer is all zeros. So an
attempt that gets out shows in its score; each also prints what stopped it, which
the feedback shows. Every attempt is bounded in count, size and time (2000 processes, 16 GiB of address space
untouched and 3 GiB touched, 1 GiB written to each of two places, one connection, two signals), so that a
sandbox that does not hold fails these tests without taking the machine down. The grading environment's
secrets are set in the grader's environment, a test server listens on loopback, and checksums of the course
folder, the repository's solutions and release, and the gradebook's tables show what changed.
"""

import asyncio
import concurrent.futures
import csv
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from labkit.grader.classroom import grade_class, run_nbgrader
from labkit.grader.course import model_answers, notebook_path, read, scratch_course
from labkit.grader.sandbox import BWRAP, UNSANDBOXED, SandboxedKernelManager, kernel_environment, readonly_paths
from labkit.paths import RELEASE, SOLUTIONS
from tests.labs.labfiles import ROOT

pytestmark = pytest.mark.slow

LAB = "04_grad_cam"
FULL = {"test_grad_cam": 6.0, "test_confidence_metrics": 4.0}
SECRETS = {"JUPYTERHUB_API_TOKEN": "hub-token-0123456789", "COURSE_FAKE_API_KEY": "sk-fake-4242"}
ZEROS = "def grad_cam(model, layer, x, target):\n    return torch.zeros(x.shape[0], *x.shape[2:])\n"

#: name -> the body of ``attempt()``: True when the way out worked (it may set ANSWER to the code it got).
#: COURSE, PORT, SOLUTION and MODEL are filled in; ANSWER is the grad_cam code used when it worked.
ATTEMPTS = {
    "read-solution": """
    import json
    for path in [COURSE / "solutions" / LAB / "grad_cam.ipynb", SOLUTION]:
        try:
            cells = json.loads(path.read_text())["cells"]
        except OSError as error:
            print(f"cannot read {path}: {type(error).__name__}")
            continue
        found = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "grad_cam"]
        state["answer"] = "".join(found[0]["source"])
        return True
    return False
""",
    "read-other-submission": """
    import json
    path = COURSE / "submitted" / "honest" / LAB / "grad_cam.ipynb"
    cells = json.loads(path.read_text())["cells"]
    found = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "grad_cam"]
    state["answer"] = "".join(found[0]["source"])
    return True
""",
    "write-course": """
    import sqlite3
    wrote = []
    for path in [COURSE / "pwned.txt", COURSE / "solutions" / LAB / "pwned.txt",
                 COURSE / "submitted" / "honest" / LAB / "pwned.txt"]:
        try:
            path.write_text("pwned")
            wrote.append(path)
        except OSError as error:
            print(f"cannot write {path}: {type(error).__name__}")
    try:
        if (COURSE / "gradebook.db").exists():
            with sqlite3.connect(COURSE / "gradebook.db", timeout=5) as db:
                db.execute("CREATE TABLE pwned (x)")
            wrote.append("gradebook")
        else:
            print("no gradebook")
    except sqlite3.Error as error:
        print(f"cannot write the gradebook: {error}")
    return bool(wrote)
""",
    "loopback-connection": """
    import socket
    with socket.create_connection(("127.0.0.1", PORT), timeout=3) as connection:
        connection.sendall(b"pwned")
    return True
""",
    "fork-many": """
    read, write = os.pipe()
    children = []
    try:
        for _ in range(2000):
            pid = os.fork()
            if pid == 0:
                os.close(write)
                os.read(read, 1)
                os._exit(0)
            children.append(pid)
    except OSError as error:
        print(f"fork failed after {len(children)} processes: {type(error).__name__}: {error}")
    finally:
        os.close(write)
        os.close(read)
        for pid in children:
            os.waitpid(pid, 0)
    return len(children) == 2000
""",
    "allocate-memory": """
    import numpy as np
    try:
        lazy = np.zeros(16 * 2**30, dtype=np.uint8)  # address space only: nothing is touched
        del lazy
        huge = True
    except MemoryError as error:
        print(f"16 GiB refused: MemoryError: {error}")
        huge = False
    chunks = []
    try:
        for _ in range(12):  # 3 GiB at most, touched
            chunks.append(np.ones(2**28, dtype=np.uint8))
    except MemoryError as error:
        print(f"refused after {len(chunks) * 256} MiB touched: MemoryError")
    touched = len(chunks)
    del chunks
    return huge and touched == 12
""",
    "write-big-file": """
    chunk = b"x" * 2**24
    written = {}
    for folder in [Path.cwd(), Path("/tmp")]:
        path = folder / "big.bin"
        written[folder] = 0
        try:
            with path.open("wb") as handle:
                for _ in range(64):  # 1 GiB at most
                    handle.write(chunk)
                    handle.flush()
                    written[folder] += len(chunk)
        except OSError as error:
            print(f"writing {path} stopped at {written[folder] // 2**20} MiB: {type(error).__name__}: {error}")
        finally:
            path.unlink(missing_ok=True)
    return any(size >= 2**30 for size in written.values())
""",
    "read-secrets": """
    import glob
    found = [key for key in SECRETS if key in os.environ]
    for path in glob.glob("/proc/*/environ"):
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue
        found += [key for key in SECRETS if key.encode() in data]
    print(f"secrets of the grader seen: {sorted(set(found))}; environment: {sorted(os.environ)}")
    return bool(found)
""",
    "captum-answer": """
    from captum.attr import LayerAttribution, LayerGradCam

    def captum_grad_cam(model, layer, x, target):
        maps = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
        return LayerAttribution.interpolate(maps, tuple(x.shape[2:]), "bilinear")[:, 0]

    state["answer"] = "grad_cam = captum_grad_cam"
    globals()["captum_grad_cam"] = captum_grad_cam
    return True
""",
    "copy-labkit-source": """
    import importlib, inspect, sys, tempfile
    package = importlib.import_module("labkit.attribution.cam")
    try:
        print(f"inspect.getsource: {len(inspect.getsource(package.grad_cam))} characters")
    except (OSError, TypeError) as error:
        print(f"cannot get the source of labkit with inspect: {type(error).__name__}")
    copy = Path(tempfile.mkdtemp()) / "copied_cam"
    copy.mkdir()
    for path in Path(package.__file__).parent.glob("*.py"):  # labkit's Grad-CAM, its helpers unswitched
        text = path.read_text().replace("labkit.attribution.cam", "copied_cam").replace("@reference\\n", "")
        (copy / path.name).write_text(text)
    if not (copy / "__init__.py").exists():
        print("cannot copy the source of labkit: no source file")
        return False
    sys.path.insert(0, str(copy.parent))
    globals()["copied_cam"] = importlib.import_module("copied_cam")
    state["answer"] = (
        "def grad_cam(model, layer, x, target):\\n"
        "    return copied_cam.grad_cam(model, x, target, layer=layer)\\n"
    )
    return True
""",
    "kill-grader": """
    import signal
    killed = []
    for target in {os.getppid(), int(os.environ.get("JPY_PARENT_PID", 0))} - {0}:
        try:
            group = os.getpgid(target)
            if group in (0, os.getpgid(0)):  # not in sight, or the kernel's own group: not the grader's
                print(f"the process group of {target} is not in sight")
            else:
                os.killpg(group, signal.SIGKILL)
                killed.append(target)
        except OSError as error:
            print(f"cannot kill the process group of {target}: {type(error).__name__}: {error}")
        try:
            os.kill(target, signal.SIGKILL)
            killed.append(target)
        except OSError as error:
            print(f"cannot kill {target}: {type(error).__name__}: {error}")
    return bool(killed)
""",
}

TEMPLATE = """import os
from pathlib import Path

import torch

COURSE, LAB, SOLUTION, PORT = Path({course!r}), {lab!r}, Path({solution!r}), {port!r}
SECRETS = {secrets!r}
state = {{"answer": {model!r}}}


def attempt():
{body}

try:
    got_out = attempt()
except Exception as error:
    print(f"attempt {name}: {{type(error).__name__}}: {{error}}")
    got_out = False
print(f"attempt {name}: {{'GOT OUT' if got_out else 'stopped by the sandbox'}}")
if got_out:
    exec(state["answer"], globals())
else:
    exec({zeros!r}, globals())
"""


def _index(notebook, grade_id: str) -> int:
    return [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells].index(grade_id)


def _checksums(*folders: Path) -> dict[str, str]:
    sums = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                sums[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def _tables(gradebook: Path) -> set[str]:
    with sqlite3.connect(gradebook) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


class Listener:
    """A loopback TCP server in this process that counts the connections it accepts."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.5)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _address = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.socket.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = scratch_course(ROOT, tmp_path_factory.mktemp("sandboxed-class"), [LAB])
    release = read(notebook_path(course / "notebooks", LAB))
    answers = model_answers(read(notebook_path(course / "solutions", LAB)))
    honest = nbformat.from_dict(release)
    for grade_id, answer in answers.items():
        honest.cells[_index(honest, grade_id)].source = answer
    listener = Listener()
    submissions = {"honest": honest}
    for name, body in ATTEMPTS.items():
        notebook = nbformat.from_dict(honest)
        notebook.cells[_index(notebook, "grad_cam")].source = TEMPLATE.format(
            course=str(course),
            lab=LAB,
            solution=str(notebook_path(SOLUTIONS, LAB)),
            port=listener.port,
            secrets=list(SECRETS),
            model=answers["grad_cam"],
            body=body.strip("\n"),
            name=name,
            zeros=ZEROS,
        )
        submissions[f"attempt-{name}"] = notebook
    name = notebook_path(course / "notebooks", LAB).name
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / LAB
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / name)
    kept = [course / "solutions", course / "notebooks", course / "submitted", SOLUTIONS / LAB, RELEASE / LAB]
    before = _checksums(*kept) | _checksums(course / "nbgrader_config.py")
    before_files = sorted(path.name for path in course.iterdir())
    tables = _tables(course / "gradebook.db")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in SECRETS.items():
            patch.setenv(key, value)
        patch.delenv(UNSANDBOXED, raising=False)
        try:
            path, outcomes = grade_class(
                course,
                LAB,
                workers=2,
                progress=False,
                timeout=300,
                # No attempt loops forever: a budget for a loaded machine (fork-many ran out of 90 s under load 10).
                options=(
                    "--SandboxedKernelManager.processes=256",
                    "--SandboxedKernelManager.disk_mb=128",
                    "--BoundedExecute.budget=240",
                    "--VerifyChecks.timeout=180",
                ),
            )
        finally:
            listener.close()
    rows = {row["student"]: row for row in csv.DictReader(path.open())}
    for student, row in rows.items():
        scores = f"{row['test_grad_cam']:>5s} {row['test_confidence_metrics']:>5s} {row['grading_seconds']}"
        print(f"{student:32s} {scores} {row['flags']}")
    return {
        "course": course,
        "rows": rows,
        "outcomes": {outcome.student: outcome for outcome in outcomes},
        "listener": listener,
        "before": before,
        "after": _checksums(*kept) | _checksums(course / "nbgrader_config.py"),
        "files": (before_files, sorted(path.name for path in course.iterdir())),
        "tables": (tables, _tables(course / "gradebook.db")),
        "name": name,
    }


def _feedback(graded, student: str) -> str:
    return (graded["course"] / "feedback" / student / LAB / graded["name"].replace(".ipynb", ".html")).read_text()


def test_honest_submission_keeps_its_grade(graded):
    row = graded["rows"]["honest"]
    assert row["graded"] == "yes", graded["outcomes"]["honest"].log[-3000:]
    assert {cell: float(row[cell]) for cell in FULL} == FULL


@pytest.mark.parametrize("name", list(ATTEMPTS))
def test_attempt_is_stopped_and_earns_nothing(graded, name):
    student = f"attempt-{name}"
    row = graded["rows"][student]
    assert row["graded"] == "yes", graded["outcomes"][student].log[-3000:]
    assert float(row["test_grad_cam"]) == 0.0, f"{name} got out of the sandbox"
    assert float(row["test_confidence_metrics"]) == FULL["test_confidence_metrics"], "the rest is graded as usual"
    page = _feedback(graded, student)
    assert f"attempt {name}: stopped by the sandbox" in page, "the attempt ran and the feedback says so"
    assert f"attempt {name}: GOT OUT" not in page


def test_what_stopped_each_attempt_is_in_its_feedback(graded):
    expected = {
        "read-solution": "cannot read",
        "read-other-submission": "FileNotFoundError",
        "write-course": "cannot write",
        "loopback-connection": "ConnectionRefusedError",
        "fork-many": "fork failed after",
        "allocate-memory": "16 GiB refused: MemoryError",
        "write-big-file": "stopped at",
        "read-secrets": "secrets of the grader seen: []",
        "kill-grader": "cannot kill",
        "captum-answer": "captum is not available while grading: an answer must be your own code",
    }
    for name, text in expected.items():
        assert text in _feedback(graded, f"attempt-{name}"), name


def test_nothing_reached_the_loopback_server(graded):
    assert graded["listener"].accepted == 0


def test_course_folder_and_gradebook_unchanged_but_for_grading(graded):
    before, after = graded["before"], graded["after"]
    assert sorted(set(after) - set(before)) == [], "files appeared in the course's sources or submissions"
    assert [path for path in before if before[path] != after.get(path)] == [], "files changed"
    before_files, after_files = graded["files"]
    assert set(after_files) - set(before_files) <= {"autograded", "feedback", "grades"}, after_files
    before_tables, after_tables = graded["tables"]
    assert after_tables == before_tables


def test_kernel_environment_is_an_allow_list():
    environment = kernel_environment({**SECRETS, "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "HOME": "/root"})
    assert not set(SECRETS) & set(environment)
    assert environment["HOME"] != "/root" and environment["OMP_NUM_THREADS"] == "1"


def test_sandbox_binds_neither_the_course_nor_the_repository_root(tmp_path):
    course = tmp_path / "course"
    submission = course / "autograded" / "student" / LAB
    submission.mkdir(parents=True)
    bound = readonly_paths([submission, course])
    for path in bound:
        for hidden in (ROOT, ROOT / "solutions", ROOT / "notebooks", course, Path.home()):
            assert not (path == hidden or path in hidden.parents), f"{path} would expose {hidden}"
    assert (ROOT / "labkit").resolve() in bound


def test_grading_refuses_to_start_without_the_sandbox(tmp_path):
    """No bubblewrap: the class command stops before grading, naming the cause and the option that accepts it."""
    (tmp_path / "submitted" / "someone" / LAB).mkdir(parents=True)
    environment = {**os.environ, BWRAP: str(tmp_path / "no-bwrap")}
    environment.pop(UNSANDBOXED, None)
    result = subprocess.run(
        [sys.executable, "-m", "labkit.grader", "grade", LAB, "--course", str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "bubblewrap was not found" in result.stderr
    assert UNSANDBOXED in result.stderr and "--unsandboxed" in result.stderr
    assert not (tmp_path / "autograded").exists() and not (tmp_path / "gradebook.db").exists()


def test_nbgrader_autograde_refuses_unless_the_risk_is_accepted(graded):
    """nbgrader's own command with the course's config: no bubblewrap stops it; COURSE_GRADING_UNSANDBOXED=1 grades."""
    course = graded["course"]
    folder = course / "submitted" / "late" / LAB
    folder.mkdir(parents=True)
    shutil.copy(course / "submitted" / "honest" / LAB / graded["name"], folder)
    missing = {BWRAP: str(course / "no-bwrap"), UNSANDBOXED: ""}
    code, log = run_nbgrader(course, "autograde", LAB, "--student", "late", "--force", timeout=300, env=missing)
    assert code != 0 and "Grading refuses to run students' code unsandboxed" in log, log[-3000:]
    assert not (course / "autograded" / "late" / LAB).exists()
    accepted = {**missing, UNSANDBOXED: "1"}
    code, log = run_nbgrader(course, "autograde", LAB, "--student", "late", "--force", timeout=300, env=accepted)
    assert code == 0, log[-3000:]
    assert "Grading WITHOUT the sandbox" in log
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission(LAB, "late").score == sum(FULL.values())


def test_kernel_runs_unprivileged_with_its_limits(tmp_path):
    """A sandboxed kernel, started directly: not root, its caps set, only its copy of the submission writable."""
    submission = tmp_path / "course" / "autograded" / "student" / LAB
    submission.mkdir(parents=True)
    (submission / "data.txt").write_text("the student's file")
    probe = (
        "import json, os, resource, socket\n"
        "written = open('new.txt', 'w').write('x')\n"
        "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'cwd': os.getcwd(), 'files': sorted(os.listdir()),"
        " 'host': socket.gethostname(), 'pid': os.getpid(),"
        f" 'home': sorted(os.listdir({str(Path.home())!r})) if os.path.isdir({str(Path.home())!r}) else [],"
        " 'limits': [resource.getrlimit(getattr(resource, name))[1] for name in ('RLIMIT_AS', 'RLIMIT_NPROC',"
        " 'RLIMIT_FSIZE')], 'course': os.path.exists(" + repr(str(tmp_path / "course")) + ")}))\n"
    )
    manager = SandboxedKernelManager(kernel_name="python3", memory_mb=4096, processes=100, file_mb=10)

    async def run() -> dict:
        await manager.start_kernel(cwd=str(submission))
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive(probe, timeout=60, output_hook=outputs.append)
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)
        (text,) = [message["content"]["text"] for message in outputs if message["msg_type"] == "stream"]
        return json.loads(text)

    outputs: list[dict] = []
    # In a thread of its own: an event loop may already run in this one (Playwright's, when the browser tests ran
    # first in the same pytest session), and asyncio.run refuses to start inside it.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, run()).result()
    assert seen["uid"] != 0 and seen["gid"] != 0
    assert seen["host"] == "grading" and seen["pid"] < 10, "its own UTS and PID namespaces"
    assert seen["limits"] == [4096 * 2**20, 100, 10 * 2**20]
    assert seen["cwd"] == f"/home/student/{LAB}" and seen["files"] == ["data.txt", "new.txt"]
    assert not seen["course"]
    home = Path.home()
    bound = {path.relative_to(home).parts[0] for path in readonly_paths([]) if home in path.parents}
    assert set(seen["home"]) <= bound, "of the grader's home, only folders of the Python environment are seen"
    assert sorted(path.name for path in submission.iterdir()) == ["data.txt"], "only the private copy was written"
