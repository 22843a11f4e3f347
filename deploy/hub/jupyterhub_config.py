"""JupyterHub for one course on one machine: a Unix user per student, nbgrader's exchange, a formgrader service.

Started by ``python deploy/hub/hub.py start`` (``make hub``), which sets ``COURSE_HUB_DATA`` to the data folder
that ``hub.py setup`` prepared: ``settings.json`` (course, ports, logins, instructors), ``roster.json`` (the
students), ``secrets/`` (cookie secret and tokens, made at first start, readable by root only), ``env/`` (the
shared Python environment every user runs), ``etc/`` (the Jupyter settings of students and of the grader),
``exchange/`` (nbgrader's exchange) and ``grader/<course>/`` (the course folder: source, gradebook, submissions).

What it sets up, as nbgrader's ``demos/demo_multiple_classes`` does since JupyterHub 2:

- groups ``instructors``, ``formgrade-<course>`` (who may open the formgrader) and ``nbgrader-<course>`` (who
  takes the course), and a role for each (``access:services!service=<course>``; ``list:services`` and
  ``read:services!service=<course>``);
- the formgrader: a hub-managed service named ``<course>`` running ``jupyterhub-singleuser`` as the Unix user
  ``grader-<course>`` in the course folder, reached at ``/services/<course>/formgrader``; its autograding runs
  every student kernel in the course's grading sandbox (``nbgrader_config.py`` of the course installs it);
- one server per user as that Unix user (``SystemdSpawner`` with memory and CPU limits where systemd runs the
  machine, otherwise ``LocalProcessSpawner`` under ``prlimit``: address space and process count per student);
- the idle culler (``jupyterhub-idle-culler``) stopping servers idle for ``cull_timeout`` seconds.
"""

import json
import os
import shutil
from pathlib import Path

from jupyterhub.objects import Server

c = get_config()  # noqa: F821  (provided by JupyterHub)

DATA = Path(os.environ["COURSE_HUB_DATA"])
SETTINGS = json.loads((DATA / "settings.json").read_text())
ROSTER = json.loads((DATA / "roster.json").read_text()) if (DATA / "roster.json").exists() else []
SECRETS = DATA / "secrets"
ENV = DATA / "env"
COURSE = SETTINGS["course"]
GRADER = SETTINGS["grader"]
INSTRUCTORS = list(SETTINGS["instructors"])
STUDENTS = [student["id"] for student in ROSTER]
LOOPBACK = "127.0.0.1"


def secret(name: str) -> str:
    """A secret made by ``hub.py setup`` (never in the repository)."""
    return (SECRETS / name).read_text().strip()


def jupyter_environment(role: str) -> dict[str, str]:
    """Environment of a user's server or of the formgrader: the shared environment and the role's settings.

    The course environment's own folders come after the role's (``etc/<role>``), so that its extensions are
    found and the role decides which of them are on.
    """
    course_env = Path(SETTINGS["course_env"])
    return {
        "PATH": f"{ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": f"{DATA / 'etc' / role}:{course_env / 'etc' / 'jupyter'}",
        "JUPYTER_PATH": str(course_env / "share" / "jupyter"),
        "OMP_NUM_THREADS": str(SETTINGS["threads"]),
    }


# JupyterHub gives a managed service 10 tries of 1 s to answer at start, then exits; the formgrader (JupyterLab and
# nbgrader's extensions) takes longer on a busy machine. Give each try 6 s (60 s in all).
_wait_up = Server.wait_up


def _patient_wait_up(self, timeout=10, **options):
    return _wait_up(self, timeout=max(timeout, 6), **options)


Server.wait_up = _patient_wait_up

# --- network: everything on loopback unless settings say otherwise -----------------------------------------
c.JupyterHub.ip = SETTINGS["ip"]
c.JupyterHub.port = SETTINGS["port"]
c.JupyterHub.hub_ip = LOOPBACK
c.JupyterHub.hub_port = SETTINGS["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://{LOOPBACK}:{SETTINGS['proxy_api_port']}"
c.ConfigurableHTTPProxy.auth_token = secret("proxy_token")
c.ConfigurableHTTPProxy.command = [SETTINGS["proxy_command"]]
c.ConfigurableHTTPProxy.pid_file = str(DATA / "proxy.pid")
c.JupyterHub.pid_file = str(DATA / "jupyterhub.pid")
c.JupyterHub.cookie_secret_file = str(SECRETS / "jupyterhub_cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{DATA / 'jupyterhub.sqlite'}"
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server
c.JupyterHub.cleanup_proxy = True

# --- logins -----------------------------------------------------------------------------------------------
auth = SETTINGS["auth"]
if auth == "pam":  # the Unix passwords that `hub.py students` sets (and prints to a file for root)
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.open_sessions = False
elif auth == "dummy":  # a trial: every listed user logs in with one shared password (secrets/dummy_password)
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = secret("dummy_password")
elif auth == "lti13":  # from Moodle or Canvas: settings.json's "lti13" holds what the LMS registration gives
    c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.auth.LTI13Authenticator"
    for key, value in SETTINGS["lti13"].items():
        setattr(c.LTI13Authenticator, key, value)
else:
    raise ValueError(f"settings.json: auth must be pam, dummy or lti13, not {auth!r}")
# The grader is a hub user too (nbgrader's JupyterHub plugin looks up the courses of the formgrader's Unix user);
# nobody can log in as it with PAM (a system user without a password).
c.Authenticator.allowed_users = set(INSTRUCTORS + STUDENTS + [GRADER])

# --- groups and roles (nbgrader's multi-course demo) ------------------------------------------------------
c.JupyterHub.load_groups = {
    "instructors": {"users": INSTRUCTORS},
    f"formgrade-{COURSE}": {"users": [*INSTRUCTORS, GRADER]},
    f"nbgrader-{COURSE}": {"users": INSTRUCTORS + STUDENTS},
}
c.JupyterHub.load_roles = [
    {"name": "instructor", "groups": ["instructors"], "scopes": ["admin:users", "admin:servers"]},
    # A user's server acts with its owner's rights (nbgrader's course list asks the hub for the user's groups).
    {"name": "server", "scopes": ["inherit"]},
    {"name": f"formgrade-{COURSE}", "groups": [f"formgrade-{COURSE}"], "scopes": [f"access:services!service={COURSE}"]},
    {
        "name": f"nbgrader-{COURSE}",
        "groups": [f"nbgrader-{COURSE}"],
        "scopes": ["list:services", f"read:services!service={COURSE}"],
    },
    # The formgrader reads students' groups and adds students to the course's group (nbgrader's JupyterHub
    # authentication plugin), nothing else.
    {
        "name": f"grader-{COURSE}",
        "services": [COURSE],
        "scopes": ["read:users", "list:groups", "read:groups", f"groups!group=nbgrader-{COURSE}"],
    },
    {
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    },
    # `hub.py students` and `hub.py status` (run by root on this machine) add users and read the state.
    {
        "name": "course-manager",
        "services": ["course-manager"],
        "scopes": [
            "admin:users",
            "admin:groups",
            "admin:servers",
            "access:servers",
            "access:services",
            "read:services",
        ],
    },
]

# --- the formgrader service, the culler, the manager token --------------------------------------------------
grader_home = Path(SETTINGS["grader_home"])
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://{LOOPBACK}:{SETTINGS['formgrader_port']}",
        "command": [
            str(ENV / "bin" / "python"),
            "-m",
            "jupyterhub.singleuser",
            "--ServerApp.root_dir=" + str(grader_home),
        ],
        "user": GRADER,
        "cwd": str(grader_home / COURSE),
        "environment": {
            **jupyter_environment("grader"),
            "HOME": str(grader_home),
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        },
        "api_token": secret("formgrader_token"),
        "oauth_no_confirm": True,
    },
    {
        "name": "idle-culler",
        "command": [
            SETTINGS["hub_python"],
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={SETTINGS['cull_timeout']}",
            f"--url=http://{LOOPBACK}:{SETTINGS['hub_port']}/hub/api",
        ],
        "api_token": secret("culler_token"),
    },
    {"name": "course-manager", "api_token": secret("manager_token")},
]

# --- each user's server: their own Unix user, the shared environment, limits -------------------------------
systemd = Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None
python_server = [str(ENV / "bin" / "python"), "-m", "jupyterhub.singleuser"]
if systemd and SETTINGS["spawner"] in ("auto", "systemd"):
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.SystemdSpawner.mem_limit = f"{SETTINGS['mem_limit_mb']}M"
    c.SystemdSpawner.cpu_limit = float(SETTINGS["cpu_limit"])
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.isolate_devices = True
    c.SystemdSpawner.disable_user_sudo = True
    c.SystemdSpawner.user_workingdir = "{HOME}"  # SystemdSpawner's own template: the user's home
    c.Spawner.cmd = python_server
else:
    # No systemd (a container): per process, address space and the user's process count. Not RAM or CPU
    # shares; those need systemd (SystemdSpawner) or Kubernetes.
    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [
        "prlimit",
        f"--as={SETTINGS['mem_limit_mb'] * 2**20}",
        f"--nproc={SETTINGS['processes']}",
        "--",
        *python_server,
    ]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = jupyter_environment("student")
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
