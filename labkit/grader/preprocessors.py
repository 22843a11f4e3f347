"""nbgrader preprocessors of the course; they run in nbgrader's process, never in the student's kernel.

``nbgrader_config.py`` puts them in ``Autograde.autograde_preprocessors``:

- :class:`BoundedExecute` replaces nbgrader's ``Execute``: it starts the kernel in the grading sandbox
  (:mod:`labkit.grader.sandbox`; grading stops where the sandbox cannot start, unless the grader set
  ``COURSE_GRADING_UNSANDBOXED=1``), runs only the cells grading needs
  (:mod:`labkit.grader.needed`), within a time budget for the whole submission (an endless loop costs at most
  the rest of it, not a timeout per cell), keeps at most so much output per cell, and when the kernel dies
  (``os._exit``, a crash) marks the cells it could not run instead of failing the whole submission. Cells
  that do not run get an error output, so their tests earn 0 and the feedback says why.
- :class:`VerifyChecks` takes the answers the hidden tests recorded (:mod:`labkit.grader.record`) out of the
  test cells and has a fresh process replay the checks (:mod:`labkit.grader.verdict`). A test cell whose
  check fails there gets an error output, so it earns 0 whatever the kernel said. It also fails every check
  if files of the grading environment (labkit, torch, numpy, the ``.pth`` files and top-level modules on
  ``sys.path``) changed while the student's code ran.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Bool, Enum, Integer

from labkit.grader import MIME
from labkit.grader.needed import cells_to_run
from labkit.grader.sandbox import UNSANDBOXED, SandboxedKernelManager, check_available, unsandboxed_accepted

#: Watched for changes while a submission runs: these packages' code, and what sits on sys.path's top level.
WATCHED_PACKAGES = ("labkit", "torch", "numpy", "nbgrader", "IPython", "ipykernel")
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pth")


def _error(ename: str, message: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=message, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {message}"]
    )


def _note(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stderr", text=text)


class BoundedExecute(Execute):
    """nbgrader's Execute with a time budget per submission, only the needed cells, capped output, kernel deaths."""

    budget = Integer(90, help="Seconds of execution for one submission, all cells together.").tag(config=True)
    skip_unneeded = Bool(
        True, help="Run only graded and student cells and the cells they depend on (labkit.grader.needed)."
    ).tag(config=True)
    max_output_chars = Integer(100_000, help="Characters of output kept per cell.").tag(config=True)
    max_outputs = Integer(200, help="Outputs kept per cell.").tag(config=True)
    max_answers = Integer(1000, help="Recorded answers kept per cell.").tag(config=True)
    # After a cell's reply, its last outputs may come late on a busy machine: wait, and never fail the notebook.
    iopub_timeout = Integer(30, allow_none=False).tag(config=True)
    raise_on_iopub_timeout = Bool(False).tag(config=True)
    # The kernel's state is not needed after the last cell: kill it rather than wait seconds for a clean exit.
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate").tag(config=True)

    def __init__(self, *args, **kwargs):
        # Every kernel grading starts is sandboxed (labkit.grader.sandbox) unless the grader accepted the risk.
        self._sandboxed = "kernel_manager_class" not in kwargs and not unsandboxed_accepted()
        if "kernel_manager_class" not in kwargs:
            kwargs["kernel_manager_class"] = SandboxedKernelManager if self._sandboxed else AsyncKernelManager
        super().__init__(*args, **kwargs)

    def preprocess(self, nb: NotebookNode, resources: dict, km=None):
        if self._sandboxed:
            check_available()  # SandboxUnavailable: stop with the cause and the way to accept the risk
        elif unsandboxed_accepted():
            self.log.warning(
                "Grading WITHOUT the sandbox (%s=1): the student's code runs with your rights", UNSANDBOXED
            )
        self._to_run = cells_to_run(nb.cells) if self.skip_unneeded else set(range(len(nb.cells)))
        self._deadline = time.monotonic() + self.budget
        self._stopped: str | None = None
        self.timeout_func = self._cell_timeout
        return super().preprocess(nb, resources, km)

    def _cell_timeout(self, cell: NotebookNode) -> int:
        return max(1, int(min(self.timeout or self.budget, self._deadline - time.monotonic())))

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code":
            return cell, resources
        if index not in self._to_run:
            cell.outputs = [_note("[not run while grading: no graded cell depends on this cell]\n")]
            return cell, resources
        if self._stopped is None and time.monotonic() >= self._deadline:
            self._stopped = f"the submission used up its {self.budget} s of execution time"
        if self._stopped is not None:
            cell.outputs = [_error("NotRun", f"This cell was not run while grading: {self._stopped}.")]
            return cell, resources
        self._kept = {"chars": 0, "outputs": 0, "answers": 0, "dropped": 0}
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = "the kernel died (os._exit, a crash or out of memory) in an earlier cell"
            cell.outputs.append(_error("DeadKernelError", "The kernel died while running this cell."))
        except CellTimeoutError as error:
            cell.outputs.append(_error("CellTimeoutError", str(error).splitlines()[0]))
        if self._kept["dropped"]:
            cell.outputs.append(_note(f"[{self._kept['dropped']} characters of output dropped while grading]\n"))
        return cell, resources

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        data = content.get("data") or {}
        if msg.get("msg_type") == "error":
            return super().output(outs, msg, display_id, cell_index)
        kept = self._kept
        if MIME in data:
            if kept["answers"] >= self.max_answers:
                return None
            kept["answers"] += 1
            return super().output(outs, msg, display_id, cell_index)
        size = len(content.get("text", "")) + sum(
            len(v if isinstance(v, str) else json.dumps(v)) for v in data.values()
        )
        if kept["chars"] + size > self.max_output_chars or kept["outputs"] >= self.max_outputs:
            kept["dropped"] += size
            return None
        kept["chars"] += size
        kept["outputs"] += 1
        return super().output(outs, msg, display_id, cell_index)


def checks_called(source: str) -> list[str]:
    """``labkit.checks.labNN.check_name`` of each check a test cell calls (``labNN.check_name(...)``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "labkit.checks":
            modules.update({alias.asname or alias.name: f"labkit.checks.{alias.name}" for alias in node.names})
        elif isinstance(node, ast.Import):
            modules.update(
                {alias.asname: alias.name for alias in node.names if alias.asname and alias.name.startswith("labkit.")}
            )
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in modules
            and node.func.attr.startswith("check_")
        ):
            found.append(f"{modules[node.func.value.id]}.{node.func.attr}")
    return found


def environment_snapshot() -> dict[str, tuple[int, int, int]]:
    """(inode, size, ctime) of the grading environment's code files (see the module's docstring)."""
    snapshot = {}
    roots = []
    for name in WATCHED_PACKAGES:  # found, not imported: importing torch here would cost seconds per submission
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots.extend(Path(location) for location in spec.submodule_search_locations)
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for file in files:
                if file.endswith(_CODE_SUFFIXES):
                    path = os.path.join(folder, file)
                    stat = os.stat(path)
                    snapshot[path] = (stat.st_ino, stat.st_size, stat.st_ctime_ns)
    for entry in sys.path:
        if entry and os.path.isdir(entry):
            for item in os.scandir(entry):
                if item.name.endswith(_CODE_SUFFIXES):
                    stat = item.stat()
                    snapshot[item.path] = (stat.st_ino, stat.st_size, stat.st_ctime_ns)
    return snapshot


def _changed_files(before: dict, after: dict) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def _check_modules(nb: NotebookNode) -> list[str]:
    return sorted(
        {check.rsplit(".", 1)[0] for cell in nb.cells if is_grade(cell) for check in checks_called(cell.source)}
    )


class SnapshotEnvironment(NbGraderPreprocessor):
    """Before the kernel runs: record the environment's code files, start the verdict process (it imports meanwhile)."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        import compileall

        # The kernel would write labkit's missing bytecode: write it now, so that any change later is tampering.
        for location in importlib.util.find_spec("labkit").submodule_search_locations:
            compileall.compile_dir(location, quiet=2)
        resources["labkit_environment"] = environment_snapshot()
        scratch = tempfile.mkdtemp(prefix="labkit-verdict-")
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", "labkit.grader.verdict", *_check_modules(nb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=scratch,
            env={key: value for key, value in os.environ.items() if key != "NBGRADER_EXECUTION"},
        )
        # The empty working folder goes with the process object (after the verdict, or at exit if grading failed).
        weakref.finalize(process, shutil.rmtree, scratch, True)
        resources["labkit_verdict"] = process
        return nb, resources


class VerifyChecks(NbGraderPreprocessor):
    """Decide every hidden test again outside the kernel, from the recorded answers only."""

    timeout = Integer(60, help="Seconds the verdict process may take once given the answers.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        requests, cells = [], []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            answers = [out for out in cell.get("outputs", []) if MIME in out.get("data", {})]
            cell.outputs = [out for out in cell.get("outputs", []) if MIME not in out.get("data", {})]
            if not is_grade(cell) or any(out.output_type == "error" for out in cell.outputs):
                continue
            for check in checks_called(cell.source):
                mine = [out.data[MIME] for out in answers if isinstance(out.data[MIME], dict)]
                mine = [item for item in mine if item.get("check") == check]
                mine.sort(key=lambda item: item.get("call") if isinstance(item.get("call"), int) else -1)
                if [item.get("call") for item in mine] != list(range(len(mine))):
                    cell.outputs.append(_error("AssertionError", "The hidden test's answers were recorded twice."))
                    continue
                requests.append({"check": check, "answers": [str(item.get("answer")) for item in mine]})
                cells.append(cell)
        changed = []
        if "labkit_environment" in resources:
            changed = _changed_files(resources["labkit_environment"], environment_snapshot())
        process = resources.pop("labkit_verdict", None)
        if changed:
            if process is not None:
                process.kill()
            verdicts = [
                f"files of the grading environment changed while this submission ran: {', '.join(changed[:5])}"
            ] * len(requests)
            self.log.warning("Submission changed the grading environment: %s", changed[:20])
        else:
            verdicts = self._verdicts(requests, process)
        for cell, request, verdict in zip(cells, requests, verdicts):
            if verdict is not None and not any(out.output_type == "error" for out in cell.outputs):
                message = f"hidden test {request['check'].rsplit('.', 1)[1]} (decided outside the notebook): {verdict}"
                cell.outputs.append(_error("AssertionError", message))
        return nb, resources

    def _verdicts(self, requests: list[dict], process: subprocess.Popen | None) -> list[str | None]:
        if process is None:  # run without SnapshotEnvironment: start the verdict process now
            process = subprocess.Popen(
                [sys.executable, "-P", "-m", "labkit.grader.verdict"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tempfile.gettempdir(),
                env={key: value for key, value in os.environ.items() if key != "NBGRADER_EXECUTION"},
            )
        try:
            stdout, stderr = process.communicate(json.dumps(requests), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return [f"the verdict process did not finish within {self.timeout} s"] * len(requests)
        try:
            verdicts = json.loads(stdout)
        except json.JSONDecodeError:
            verdicts = None
        if process.returncode != 0 or not isinstance(verdicts, list) or len(verdicts) != len(requests):
            self.log.error("The verdict process failed:\n%s", stderr[-4000:])
            return [f"the verdict process failed: {stderr.strip()[-500:]}"] * len(requests)
        return verdicts
