"""A class on the course's JupyterHub (deploy/hub), end to end: real Unix users, the hub, its proxy, the formgrader.

Needs root (it creates Unix users), bubblewrap (the grading sandbox) and configurable-http-proxy (npm); without
them the tests skip with the reason. Everything the fixture starts it stops, and the users and folders it
creates it removes, also when a test fails; the finalizer checks ``getent passwd`` afterwards.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
HUB = REPO / "deploy" / "hub" / "hub.py"
STUDENTS = ("s1", "s2", "s3")
#: The hub's log of the last run (build/ is not shipped).
LOG = REPO / "build" / "hub" / "jupyterhub.log"


def missing() -> str | None:
    """Why the hub cannot run here, or None."""
    if os.geteuid() != 0:
        return "the hub test creates Unix users: run it as root (CI does)"
    for program, install in (
        ("bwrap", "apt-get install bubblewrap"),
        ("configurable-http-proxy", "npm install -g configurable-http-proxy"),
        ("useradd", "the passwd package"),
        ("prlimit", "util-linux"),
    ):
        if shutil.which(program) is None:
            return f"the hub test needs {program} ({install}, as root)"
    site = next(path for path in sys.path if path.startswith(sys.prefix) and path.endswith("site-packages"))
    for path in (REPO / "labkit" / "__init__.py", Path(site)):
        if subprocess.run(["runuser", "-u", "nobody", "--", "test", "-r", str(path)]).returncode != 0:
            return (
                f"students' servers import the course from this checkout, but other users cannot read {path}: "
                "clone it where every user can read it (e.g. /srv or /opt) or open the folders above it (a+rX)"
            )
    return None


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@dataclass
class Class:
    """The running hub of the test, its users and how to reach them."""

    data: Path
    course: str
    instructor: str
    students: list[str]
    port: int
    hub_port: int
    tokens: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grader(self) -> str:
        return f"grader-{self.course}"

    @property
    def course_folder(self) -> Path:
        return self.data / "grader" / self.course

    def secret(self, name: str) -> str:
        return (self.data / "secrets" / name).read_text().strip()

    def hub_api(self, method: str, path: str, token: str | None = None, **options) -> requests.Response:
        token = token or self.secret("manager_token")
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers={"Authorization": f"token {token}"}, timeout=120, **options
        )

    def user(self, method: str, name: str, path: str, as_user: str | None = None, **options) -> requests.Response:
        """A request to ``name``'s server through the proxy, with ``as_user``'s token (default: ``name``'s)."""
        token = self.tokens[as_user or name]
        return requests.request(
            method,
            f"{self.url}/user/{name}/{path}",
            timeout=300,
            headers={"Authorization": f"token {token}"},
            **options,
        )

    def formgrader(self, method: str, path: str, token: str | None = None, **options) -> requests.Response:
        """A request to the formgrader service's API (default: with the instructor's token)."""
        token = token or self.tokens[self.instructor]
        return requests.request(
            method,
            f"{self.url}/services/{self.course}/formgrader/api/{path}",
            timeout=300,
            headers={"Authorization": f"token {token}"},
            **options,
        )

    def run_as(self, user: str, code: str) -> subprocess.CompletedProcess:
        """Python ``code`` run by ``user`` with the shared environment (what a student's kernel could do)."""
        return subprocess.run(
            ["runuser", "-u", user, "--", str(self.data / "env" / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
        )

    def hub_command(self, *arguments: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, str(HUB), "--data", str(self.data), *arguments],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"hub.py {' '.join(arguments)}: {result.stdout}\n{result.stderr}"
        return result


def remove_user(name: str) -> None:
    """Kill the processes of a test user (by their ids) and delete the user with its home folder."""
    listing = subprocess.run(["ps", "-o", "pid=", "-u", name], capture_output=True, text=True)
    for pid in listing.stdout.split():
        try:
            os.kill(int(pid), 9)
        except ProcessLookupError:
            pass
    subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)


@pytest.fixture(scope="module")
def klass(request):
    reason = missing()
    if reason and os.environ.get("COURSE_HUB_TESTS") == "required":  # CI: a hub test that cannot run fails
        pytest.fail(f"COURSE_HUB_TESTS=required, but {reason}")
    if reason:
        pytest.skip(reason)
    prefix = "hubt" + secrets.token_hex(3)
    course = f"{prefix}course"
    instructor, students = f"{prefix}ins", [f"{prefix}{name}" for name in STUDENTS]
    users = [instructor, *students, f"grader-{course}"]
    for name in users:
        assert subprocess.run(["getent", "passwd", name], capture_output=True).returncode != 0, f"{name} exists"
    top = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    os.chmod(top, 0o755)
    (top / "home").mkdir(mode=0o755)
    port, hub_port, proxy_port, formgrader_port = free_ports(4)
    cls = Class(
        data=top / "data", course=course, instructor=instructor, students=students, port=port, hub_port=hub_port
    )

    def cleanup():
        subprocess.run([sys.executable, str(HUB), "--data", str(cls.data), "stop"], capture_output=True, timeout=120)
        for name in users:
            remove_user(name)
        LOG.parent.mkdir(parents=True, exist_ok=True)
        if (cls.data / "jupyterhub.log").exists():  # kept for a look after a failure
            shutil.copy(cls.data / "jupyterhub.log", LOG)
        (LOG.parent / "timings.json").write_text(json.dumps(cls.timings, indent=1))
        shutil.rmtree(top, ignore_errors=True)
        left = [
            name for name in users if subprocess.run(["getent", "passwd", name], capture_output=True).returncode == 0
        ]
        assert not left, f"users left behind: {left}"
        assert not top.exists(), f"{top} left behind"

    request.addfinalizer(cleanup)
    begin = time.monotonic()
    started = cls.hub_command(
        "start",
        "--course",
        course,
        "--instructor",
        instructor,
        "--auth",
        "dummy",
        "--home-base",
        str(top / "home"),
        "--port",
        str(port),
        "--hub-port",
        str(hub_port),
        "--proxy-api-port",
        str(proxy_port),
        "--formgrader-port",
        str(formgrader_port),
        "--cull-timeout",
        "3600",
        "--threads",
        "1",
    )
    cls.timings["setup_and_start_s"] = time.monotonic() - begin  # the first start: users, Python, course folder
    cls.timings["hub_start_s"] = float(re.search(r"started in ([0-9.]+) s", started.stdout).group(1))
    roster = top / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email\n" + "".join(f"{name},Student,{name[-2:]},\n" for name in students)
    )
    cls.hub_command("students", str(roster))
    for name in [instructor, *students]:  # each user logs in (the trial password) and gets a token of their own
        deadline = time.monotonic() + 60
        while True:  # a hub just started may answer 5xx through its proxy for a moment on a loaded machine
            response = requests.post(
                f"{cls.url}/hub/api/users/{name}/tokens",
                timeout=60,
                json={
                    "auth": {"username": name, "password": cls.secret("dummy_password")},
                    "note": "hub test",
                    "expires_in": 3600,
                },
            )
            if response.status_code < 500 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert response.status_code == 201, f"token for {name}: {response.status_code} {response.text[-800:]}"
        cls.tokens[name] = response.json()["token"]
    assert pwd.getpwnam(students[0]).pw_dir.startswith(str(top / "home"))
    return cls
