"""The first program inside a grading sandbox: caps, an unprivileged user, a private copy of the submission.

:mod:`labkit.grader.sandbox` runs it as ``python -I -S launch.py SETTINGS_JSON -- KERNEL_ARGV...`` inside
bubblewrap, by path, so that it imports nothing but the standard library (no site-packages, no labkit). In
order, it

1. sets the resource limits (address space, processes, file size, no core files), which its children inherit;
2. copies the submission's read-only folder into the private home folder (a size-limited tmpfs: the only
   writable copy);
3. when it runs as root (bubblewrap started by root keeps root's user id), gives the home folder to the
   sandbox's own unprivileged user and group and drops to them: root ignores ``RLIMIT_NPROC`` and file
   permissions, an ordinary user does not;
4. forbids gaining privileges again (``PR_SET_NO_NEW_PRIVS``: setuid programs stay ordinary programs), moves
   to the copy of the submission and becomes the kernel (``execv``).

Any failure exits with status 121 and a message on stderr: a kernel never starts half-confined.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import sys

PR_SET_NO_NEW_PRIVS = 38
FAILED = 121


def confine(settings: dict) -> None:
    """Limits, the private copy of the submission, user and privileges of this process (and of the kernel)."""
    mib = 2**20
    limits = {
        resource.RLIMIT_AS: settings["memory_mb"] * mib,
        resource.RLIMIT_NPROC: settings["processes"],
        resource.RLIMIT_FSIZE: settings["file_mb"] * mib,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))
    home, workdir = settings["home"], settings["workdir"]
    # Copied before dropping root, so that files the grader alone may read (umask 077) are copied too.
    if settings.get("submission"):
        shutil.copytree(settings["submission"], workdir, symlinks=True, dirs_exist_ok=True)
    else:
        os.makedirs(workdir, exist_ok=True)
    if os.getuid() == 0:
        uid, gid = settings["uid"], settings["gid"]
        for folder, dirs, files in os.walk(home):
            for name in [folder, *(os.path.join(folder, entry) for entry in dirs + files)]:
                os.lchown(name, uid, gid)
        os.chmod(home, 0o700)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        try:
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise RuntimeError("root could be regained after dropping privileges")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def main(argv: list[str]) -> None:
    settings = json.loads(argv[1])
    if argv[2] != "--" or len(argv) < 4:
        raise SystemExit("usage: launch.py SETTINGS_JSON -- KERNEL_ARGV...")
    kernel = argv[3:]
    try:
        confine(settings)
        os.chdir(settings["workdir"])
        os.execv(kernel[0], kernel)
    except Exception as error:
        print(f"grading sandbox: the kernel could not be started: {type(error).__name__}: {error}", file=sys.stderr)
        os._exit(FAILED)


if __name__ == "__main__":
    main(sys.argv)
