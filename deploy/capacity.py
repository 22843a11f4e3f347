"""Capacity of a node for the class: each lab's kernel, run all, peak memory and CPU-seconds.

    python deploy/capacity.py [LAB ...] [--out build/capacity.json]
    python deploy/capacity.py 01_occlusion --students 10 --graded   # 10 kernels at once, the graded cells only

Runs each solution notebook (``solutions/NN_name``) top to bottom in a fresh kernel, as a student's "Run all"
does, and samples the kernel's process tree every 0.2 s: peak resident memory (RSS, summed over the tree) and
CPU-seconds (user + system) at the end. CPU-seconds do not depend on how busy the machine is; wall time does,
so it is printed but not used for sizing. The table of students per node in the README comes from these
figures (see the README's section on serving a class).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def measure(notebook: Path, timeout: int = 1800, graded: bool = False) -> dict:
    """Run ``notebook`` in a fresh kernel; its peak RSS (MiB), CPU-seconds and wall seconds. ``graded``: only
    the cells grading runs (the graded cells and what they need, ``labkit.grader.needed``), as a student who runs
    the setup and the exercises does."""
    book = nbformat.read(notebook, as_version=4)
    if graded:
        from labkit.grader.needed import cells_to_run

        keep = cells_to_run(book.cells)
        book.cells = [cell for index, cell in enumerate(book.cells) if index in keep]
    client = NotebookClient(
        book,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    peak, cpu, done = [0.0], {}, threading.Event()

    def sample(process: psutil.Process) -> None:
        while not done.is_set():
            rss = 0
            for member in tree(process):
                try:
                    rss += member.memory_info().rss
                    times = member.cpu_times()
                    cpu[member.pid] = times.user + times.system + times.children_user + times.children_system
                except psutil.NoSuchProcess:
                    pass
            peak[0] = max(peak[0], rss / 2**20)
            time.sleep(0.2)

    begin = time.monotonic()
    with client.setup_kernel():
        process = psutil.Process(client.km.provisioner.process.pid)
        sampler = threading.Thread(target=sample, args=(process,), daemon=True)
        sampler.start()
        error = None
        try:
            for index, cell in enumerate(client.nb.cells):
                client.execute_cell(cell, index)
        except Exception as exception:  # a failing cell still gives the figures up to it
            error = f"{type(exception).__name__}: {str(exception).splitlines()[0][:200]}"
        time.sleep(0.5)
        done.set()
        sampler.join()
    return {
        "notebook": str(notebook.relative_to(REPO)),
        "peak_rss_mib": round(peak[0]),
        "cpu_s": round(sum(cpu.values()), 1),
        "wall_s": round(time.monotonic() - begin, 1),
        "error": error,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="lab folders (default: all of solutions/)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "capacity.json")
    parser.add_argument("--students", type=int, default=1, help="kernels at once (each lab)")
    parser.add_argument("--graded", action="store_true", help="only the cells grading runs")
    arguments = parser.parse_args()
    labs = arguments.labs or sorted(path.name for path in (REPO / "solutions").iterdir() if path.name[:2].isdigit())
    results = json.loads(arguments.out.read_text()) if arguments.out.exists() else {}
    for lab in labs:
        (notebook,) = sorted((REPO / "solutions" / lab).glob("*.ipynb"))
        key = (
            lab
            + (f" x{arguments.students}" if arguments.students > 1 else "")
            + (" graded" if arguments.graded else "")
        )
        begin = time.monotonic()
        with ThreadPoolExecutor(arguments.students) as pool:
            runs = list(pool.map(partial(measure, graded=arguments.graded), [notebook] * arguments.students))
        results[key] = (
            {
                "runs": runs,
                "wall_all_s": round(time.monotonic() - begin, 1),
                "load_1min": round(psutil.getloadavg()[0], 1),
            }
            if arguments.students > 1
            else {**runs[0], "load_1min": round(psutil.getloadavg()[0], 1)}
        )
        print(json.dumps({key: results[key]}), flush=True)
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
