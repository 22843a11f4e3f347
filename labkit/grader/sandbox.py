"""The grading sandbox: every kernel that runs a student's code while grading starts inside bubblewrap.

nbgrader runs a submission's code with the grader's rights, in the course folder, next to the solutions, the
gradebook and every other submission (its FAQ: it does not sandbox). Here :class:`SandboxedKernelManager`
(the kernel manager of :class:`labkit.grader.preprocessors.BoundedExecute`, so of ``nbgrader autograde`` with
the course's config, ``python -m labkit.grader grade`` and ``make grading-demo``) starts each kernel as
``bwrap ... -- python launch.py ... -- python -m ipykernel_launcher -f kernel.json``, where the kernel sees:

- read-only: the system (``/usr`` and the few files of ``/etc`` programs need), the Python environment that
  grades (its prefix and site-packages), labkit's package folder as bytecode only (:func:`compiled_package`:
  an answer cannot copy labkit's reference implementations from their source files, and ``inspect.getsource``
  finds nothing) and ``assets/``; nothing else of the disk:
  not the course folder (``solutions/``, release, ``submitted/``, ``autograded/``, ``feedback/``, the
  gradebook), not the repository's other folders, not the instructor's home or ``/root``;
- writable, all size-limited tmpfs that vanish with it: a private home folder holding a copy of the one
  submission's folder (its working directory), ``/tmp`` and ``/dev/shm``;
- its own PID namespace (it sees and can signal only its own processes; all die with the grader), its own
  network namespace with nothing in it (the kernel's channels are Unix sockets in a private folder bound in,
  ``transport="ipc"``), its own IPC and UTS namespaces, a new session (no terminal, no signals to the
  grader's process group);
- no peer library that implements the course's methods (Captum, pytorch-grad-cam, zennit, tf-keras-vis,
  Xplique): each is covered by a package whose import raises ImportError saying why, so an answer that runs
  one fails and its feedback says so (labkit's reference is kept from graded answers by
  :func:`labkit.grader.references.forbid` and the verdict);
- an allow-list of environment variables (locale, thread counts, ``NBGRADER_EXECUTION``...): no tokens or
  keys of the grader;
- an unprivileged user: a grader running as root starts bubblewrap as root and :mod:`labkit.grader.launch`
  drops to a user id of its own (one per grading process) with no capabilities and ``no_new_privs``; any other
  grader runs bubblewrap in a user namespace as itself. Limits: ``RLIMIT_AS`` (memory), ``RLIMIT_NPROC``
  (processes and threads), ``RLIMIT_FSIZE`` (file size), no core files.

Where the sandbox cannot start (no bubblewrap, no user namespaces, not Linux), grading stops with
:class:`SandboxUnavailable`, which names the cause and the explicit way to accept the risk: the environment
variable ``COURSE_GRADING_UNSANDBOXED=1`` (``python -m labkit.grader grade --unsandboxed``). It never falls
back silently.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode

#: Set to 1 to grade without the sandbox (the student's code then runs with the grader's rights).
UNSANDBOXED = "COURSE_GRADING_UNSANDBOXED"
#: The bubblewrap program (default: ``bwrap`` on the PATH).
BWRAP = "COURSE_BWRAP"
#: Inside the sandbox: the private home folder (the kernel's working directory is a folder in it).
HOME = "/home/student"
#: Inside the sandbox: the submission's folder, read-only, copied into the home folder before the kernel starts.
SUBMISSION = "/run/submission"
#: Variables passed from the grader's environment into the kernel's; nothing else is.
ENV_ALLOWED = (
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TERM",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_CPP_MIN_LOG_LEVEL",
    "TF_ENABLE_ONEDNN_OPTS",
    "NBGRADER_EXECUTION",
    "PYTHONHASHSEED",
    "MPLBACKEND",
)
#: Files and folders of /etc that programs in the sandbox read (libraries, users, time zone, fonts, TLS roots).
ETC = (
    "alternatives",
    "ca-certificates",
    "fonts",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "ssl",
    "timezone",
)
#: Libraries that implement the course's methods (attribution maps): a graded answer must be the student's own
#: code, so inside the sandbox each installed one is replaced by a package whose import raises ImportError, why.
PEER_LIBRARIES = ("captum", "pytorch_grad_cam", "zennit", "tf_keras_vis", "xplique")
HIDDEN_MESSAGE = (
    "{name} is not available while grading: an answer must be your own code, not a library's implementation "
    "of the method (the course's grading rules); use tensor operations of torch, TensorFlow or numpy"
)
#: Top-level system folders bound read-only (or recreated as the symbolic links they are).
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_PROBED: dict[str, str | None] = {}


class SandboxUnavailable(RuntimeError):
    """The grading sandbox cannot start here; grading stops rather than run students' code unconfined."""

    def __init__(self, cause: str):
        super().__init__(
            f"Grading refuses to run students' code unsandboxed: {cause}. Students' code would run with your "
            f"rights and could read the solutions, the gradebook and other submissions. Install bubblewrap "
            f"(Debian/Ubuntu: apt-get install bubblewrap) on Linux with user namespaces enabled, or accept the "
            f"risk explicitly: set {UNSANDBOXED}=1 (python -m labkit.grader grade --unsandboxed)."
        )
        self.cause = cause


def unsandboxed_accepted() -> bool:
    """Whether the grader accepted grading without the sandbox (``COURSE_GRADING_UNSANDBOXED=1``)."""
    return os.environ.get(UNSANDBOXED, "").strip().lower() in {"1", "true", "yes"}


def find_bwrap(configured: str | None = None) -> str:
    """The bubblewrap program (``configured``, ``$COURSE_BWRAP`` or ``bwrap`` on the PATH), or SandboxUnavailable."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"the sandbox needs Linux (bubblewrap), this is {sys.platform}")
    configured = configured or os.environ.get(BWRAP)
    path = configured or shutil.which("bwrap")
    if not path or not os.access(path, os.X_OK):
        raise SandboxUnavailable(
            f"bubblewrap was not found ({BWRAP}={configured})" if configured else "bubblewrap (bwrap) is not installed"
        )
    return path


def check_available(configured: str | None = None) -> str:
    """Start a sandbox once (per process) with the kernel's namespaces; the bwrap path, or SandboxUnavailable."""
    bwrap = find_bwrap(configured)
    if bwrap not in _PROBED:
        command = [
            bwrap,
            *namespace_arguments(),
            *filesystem_arguments(readonly_paths([])),
            "--",
            sys.executable,
            "-I",
            "-S",
            "-c",
            "pass",
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
            _PROBED[bwrap] = None if result.returncode == 0 else (result.stderr.strip() or f"exit {result.returncode}")
        except (OSError, subprocess.TimeoutExpired) as error:
            _PROBED[bwrap] = f"{type(error).__name__}: {error}"
    if _PROBED[bwrap] is not None:
        raise SandboxUnavailable(f"bubblewrap ({bwrap}) could not start a sandbox here: {_PROBED[bwrap]}")
    return bwrap


def namespace_arguments() -> list[str]:
    """bubblewrap's namespaces: a user namespace unless bubblewrap runs as root (the launcher drops root)."""
    arguments = [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "grading",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    if os.geteuid() != 0:
        arguments += ["--unshare-user", "--disable-userns"]
    return arguments


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def readonly_paths(protected: list[Path]) -> list[Path]:
    """Folders bound read-only besides the system: the Python environment, labkit and its assets.

    Each entry of ``sys.path`` (site-packages, the standard library) is bound unless it holds one of the
    ``protected`` folders (the submission's course folder, the repository holding the solutions, the home
    folder): an editable install or ``PYTHONPATH`` that puts the repository on ``sys.path`` must not expose it.
    labkit's own package folder and ``assets/`` are bound by themselves.
    """
    from labkit.paths import ASSETS, ROOT

    protected = [Path(path).resolve() for path in [*protected, ROOT, Path.home()]]
    candidates = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix)]
    candidates += [Path(entry) for entry in sys.path if entry and os.path.isabs(entry)]
    spec = importlib.util.find_spec("labkit")
    candidates += [Path(location) for location in spec.submodule_search_locations or []]
    candidates.append(ASSETS)
    chosen: list[Path] = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        resolved = candidate.resolve()
        for path in {candidate.absolute(), resolved}:
            if any(_inside(folder, path) for folder in protected):
                continue  # it holds a protected folder (or is one)
            if path not in chosen:
                chosen.append(path)
    return sorted(chosen, key=lambda path: len(path.parts))


def filesystem_arguments(readonly: list[Path], disk_mb: int = 64) -> list[str]:
    """The sandbox's file system: system and ``readonly`` folders read-only, size-limited private tmpfs."""
    size = str(disk_mb * 2**20)
    arguments = ["--proc", "/proc", "--dev", "/dev"]
    for folder in ("/tmp", "/dev/shm", "/home"):
        arguments += ["--perms", "1777", "--size", size, "--tmpfs", folder]
    arguments += ["--perms", "0777", "--size", size, "--tmpfs", HOME]
    # Mount points' parent folders would be made 0700 (root's): make them readable first.
    parents = {Path("/etc"), Path("/run")}
    for path in readonly:
        parents.update(parent for parent in path.parents if parent != Path("/"))
    for parent in sorted(parents - {Path(folder) for folder in ("/tmp", "/home", "/dev", "/proc")}):
        if not any(_inside(parent, Path(folder)) for folder in SYSTEM if os.path.islink(folder)):
            arguments += ["--perms", "0755", "--dir", str(parent)]
    for folder in SYSTEM:
        if os.path.islink(folder):
            arguments += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            arguments += ["--ro-bind", folder, folder]
    for name in ETC:
        path = os.path.join("/etc", name)
        if os.path.lexists(path):
            arguments += ["--ro-bind-try", path, path]
    for path in readonly:
        arguments += ["--ro-bind", str(path), str(path)]
    return arguments


def hide_peer_libraries(folder: Path) -> list[str]:
    """``--ro-bind`` arguments that cover each installed peer library's package with a stub made in ``folder``.

    The stub's ``__init__.py`` raises ImportError with :data:`HIDDEN_MESSAGE`, so ``import captum`` (however
    the answer spells or reaches it) fails in the sandbox and the feedback says why; the library's files are
    not visible there at all.
    """
    arguments = []
    for name in PEER_LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        stub = folder / name
        stub.mkdir(parents=True, exist_ok=True)
        (stub / "__init__.py").write_text(f"raise ImportError({HIDDEN_MESSAGE.format(name=name)!r})\n")
        for location in spec.submodule_search_locations:
            arguments += ["--ro-bind", str(stub), str(Path(location).resolve())]
    return arguments


def compiled_package(folder: Path, cache: Path | None = None) -> Path:
    """A copy of the package in ``folder`` with its modules as bytecode only, to cover ``folder`` in the sandbox.

    Each ``x.py`` becomes ``x.pyc`` at the same place (the layout Python imports without a source file), so the
    package imports and runs as usual but its source text is not there to read or to copy into an answer.
    Two sources stay: the top-level ``__init__.py`` (an editable install's finder looks for it; labkit's holds
    only its table of public names) and :mod:`labkit.grader.launch`, which the sandbox runs by path. Data
    files are copied. Made once per state of the source (sizes and modification
    times) and Python version, under ``cache`` (default: the grader's ``~/.cache/labkit-grading``), which the
    sandbox does not see.
    """
    folder = folder.resolve()
    sources = sorted(path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    state = [(str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns) for path in sources]
    key = hashlib.sha256(repr((sys.version, importlib.util.MAGIC_NUMBER, state)).encode()).hexdigest()[:16]
    cache = cache or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "labkit-grading"
    target = cache / f"{folder.name}-{key}"
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob(f"{folder.name}-*"):  # earlier states of the source, unused for an hour
        if time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache))
    try:
        for path in sources:
            relative = path.relative_to(folder)
            out = scratch / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".py" and relative not in (Path("__init__.py"), Path("grader", "launch.py")):
                py_compile.compile(str(path), cfile=str(out.with_suffix(".pyc")), dfile=str(path), doraise=True)
            else:
                shutil.copyfile(path, out)
        for path in [scratch, *scratch.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        try:
            scratch.rename(target)
        except OSError:  # made meanwhile by another grading process
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def kernel_environment(source: dict[str, str]) -> dict[str, str]:
    """The kernel's environment: the allow-listed variables of ``source``, a private HOME and TMPDIR, PATH."""
    environment = {key: value for key, value in source.items() if key in ENV_ALLOWED}
    folders = [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    environment.update(PATH=os.pathsep.join(folders), HOME=HOME, TMPDIR="/tmp", USER="student", LOGNAME="student")
    environment.setdefault("LANG", "C.UTF-8")
    environment.setdefault("MPLBACKEND", "agg")
    return environment


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start inside bubblewrap (see the module's docstring).

    nbclient calls ``start_kernel(cwd=<the submission's autograded folder>)``: that folder is bound read-only and
    copied into the sandbox's private home folder, where the kernel runs. The kernel's sockets are Unix sockets
    in a private runtime folder, the only folder of the grader's disk the sandbox can write. Interrupts go
    as messages on the control channel (a signal to bubblewrap would end the sandbox).
    """

    # Address space, not RAM: PyTorch and TensorFlow together reserve 6-8 GiB before using much of it (lab 10).
    memory_mb = Integer(12288, help="RLIMIT_AS of every process in the sandbox, MiB.").tag(config=True)
    processes = Integer(512, help="RLIMIT_NPROC: processes and threads of the sandbox's user.").tag(config=True)
    file_mb = Integer(256, help="RLIMIT_FSIZE: the largest file the sandbox may write, MiB.").tag(config=True)
    disk_mb = Integer(256, help="Size of each private tmpfs (home, /tmp, /dev/shm), MiB.").tag(config=True)
    uid_base = Integer(
        3_000_000, help="Root graders: the sandbox's user id is uid_base + (grading process id % 1000000)."
    ).tag(config=True)
    bwrap = Unicode("", help="The bubblewrap program (default: $COURSE_BWRAP, or bwrap on the PATH).").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self._runtime: Path | None = None
        self._stubs: Path | None = None
        self._submission: Path | None = None
        self._environment: dict[str, str] = {}

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"
        return spec

    @property
    def sandbox_uid(self) -> int:
        return self.uid_base + os.getpid() % 1_000_000 if os.geteuid() == 0 else os.getuid()

    async def _async_pre_start_kernel(self, **kw):
        self._bwrap = check_available(self.bwrap or None)
        cwd = kw.get("cwd")
        self._submission = Path(cwd).resolve() if cwd else None
        self._runtime = Path(tempfile.mkdtemp(prefix="labkit-kernel-"))
        self._stubs = Path(tempfile.mkdtemp(prefix="labkit-hidden-"))  # not writable from the sandbox
        if os.geteuid() == 0:
            os.chown(self._runtime, self.sandbox_uid, self.sandbox_uid)
        self.connection_file = str(self._runtime / "kernel.json")
        self.ip = str(self._runtime / "ipc")
        source = kw.get("env") or dict(os.environ)
        self._environment = kernel_environment(source)
        kw["cwd"] = str(self._runtime)
        kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return await super()._async_pre_start_kernel(**kw)

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if os.geteuid() == 0 and self._runtime is not None:
            os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        kernel = super().format_kernel_cmd(extra_arguments)
        return self.sandbox_command(kernel)

    def sandbox_command(self, kernel: list[str]) -> list[str]:
        """``bwrap ... -- python launch.py SETTINGS -- kernel...`` for this kernel's submission and runtime folder."""
        assert self._runtime is not None
        protected = [self._submission] if self._submission else []
        if self._submission is not None:
            # The course folder: autograded/<student>/<lab> lies three levels below it.
            protected.append(self._submission.parents[min(2, len(self._submission.parents) - 1)])
        readonly = readonly_paths(protected)
        workdir = f"{HOME}/{self._submission.name}" if self._submission else f"{HOME}/work"
        settings = {
            "memory_mb": self.memory_mb,
            "processes": self.processes,
            "file_mb": self.file_mb,
            "uid": self.sandbox_uid,
            "gid": self.sandbox_uid,
            "home": HOME,
            "workdir": workdir,
            "submission": SUBMISSION if self._submission else None,
        }
        arguments = [self._bwrap, *namespace_arguments(), *filesystem_arguments(readonly, self.disk_mb)]
        if self._stubs is not None:
            arguments += hide_peer_libraries(self._stubs)
        for location in importlib.util.find_spec("labkit").submodule_search_locations or []:
            arguments += ["--ro-bind", str(compiled_package(Path(location))), str(Path(location).resolve())]
        if self._submission is not None:
            arguments += ["--ro-bind", str(self._submission), SUBMISSION]
        arguments += ["--bind", str(self._runtime), str(self._runtime)]
        for key, value in self._environment.items():
            arguments += ["--setenv", key, value]
        launcher = str(Path(__file__).with_name("launch.py"))
        launch = [sys.executable, "-I", "-S", launcher, json.dumps(settings), "--"]
        return [*arguments, "--chdir", "/", "--", *launch, *kernel]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._runtime is not None and not restart:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None
        if self._stubs is not None and not restart:
            shutil.rmtree(self._stubs, ignore_errors=True)
            self._stubs = None

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]
