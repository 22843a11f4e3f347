"""How far each ``# NBVAL_CHECK_OUTPUT`` cell of the labs is from printing something else.

``python -m bench.checked_cells run --name default [--labs 10_keras ...]`` executes the solutions (a copy; the
repository is not touched) in this process's environment and records, for every checked cell:

- each tolerance comparison: ``torch.allclose`` / ``numpy.allclose`` as ``max |a - b| / (atol + rtol |b|)``, and
  every ``<``, ``<=``, ``>``, ``>=`` written in the cell as ``left / right`` (a verdict flips at ratio 1);
- each number printed with a format (``f"{value:.2f}"``): the value before rounding;
- the cell's text output.

Run it under the settings a student's or CI's machine may have, then compare::

    python -m bench.checked_cells run --name default
    OMP_NUM_THREADS=1 python -m bench.checked_cells run --name threads1
    TF_ENABLE_ONEDNN_OPTS=0 python -m bench.checked_cells run --name onednn_off --labs 10_keras
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python -m bench.checked_cells run --name avx2
    python -m bench.checked_cells report

``report`` prints one line per comparison: its worst ratio over the runs and the margin to the flip (a
``True`` needs ratio < 1: margin 1 / ratio; a ``False`` needs ratio > 1: margin = ratio), and per printed
number the spread over the runs and its distance to the nearest rounding boundary. Text outputs that differ
between runs are listed. Records go to build/checked_cells/NAME.json (``--records`` for another folder).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from labkit.grader.course import lab_names, notebook_path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "build" / "checked_cells"

# Run in the kernel before the lab: patch the tolerance checks and rewrite checked cells so that their
# comparisons and formatted numbers are recorded (the cell's own output is unchanged).
INSTRUMENT = r"""
import ast as _ast, json as _json, math as _math
_RECORD = {"cell": None, "items": []}

def _ratio(a, b, rtol, atol):
    import numpy as np
    a, b = (np.asarray(v.detach().cpu().double() if hasattr(v, "detach") else v, dtype=float) for v in (a, b))
    return float(np.max(np.abs(a - b) / (atol + rtol * np.abs(b)))) if a.size else 0.0

def _record(kind, value, detail=""):
    if _RECORD["cell"] is not None:
        _RECORD["items"].append({"cell": _RECORD["cell"], "kind": kind, "value": value, "detail": detail})

def _patch():
    import numpy as np
    import torch
    original_torch, original_numpy = torch.allclose, np.allclose
    def torch_allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
        verdict = original_torch(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        _record("allclose", _ratio(a, b, rtol, atol), str(verdict))
        return verdict
    def numpy_allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
        verdict = original_numpy(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        _record("allclose", _ratio(a, b, rtol, atol), str(bool(verdict)))
        return verdict
    torch.allclose, np.allclose = torch_allclose, numpy_allclose

def _compare(left, op, right):
    import operator
    verdict = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op](left, right)
    try:
        ratio = float(left) / float(right) if op in "<=" else float(right) / float(left)
        _record("compare", ratio, f"{op} {bool(verdict)}")
    except (TypeError, ValueError, ZeroDivisionError, RuntimeError):
        pass
    return verdict

def _formatted(value, spec):
    try:
        number = float(value)
        if spec and spec[-1] in "f%e" and _math.isfinite(number):
            _record("format", number, spec)
    except (TypeError, ValueError, RuntimeError):
        pass
    return value

class _Rewrite(_ast.NodeTransformer):
    OPS = {_ast.Lt: "<", _ast.LtE: "<=", _ast.Gt: ">", _ast.GtE: ">="}
    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in self.OPS:
            call = _ast.Call(_ast.Name("_compare", _ast.Load()),
                             [node.left, _ast.Constant(self.OPS[type(node.ops[0])]), node.comparators[0]], [])
            return _ast.copy_location(call, node)
        return node
    def visit_FormattedValue(self, node):
        self.generic_visit(node)
        if node.format_spec is not None and len(node.format_spec.values) == 1:
            spec = node.format_spec.values[0]
            if isinstance(spec, _ast.Constant):
                node.value = _ast.Call(_ast.Name("_formatted", _ast.Load()), [node.value, spec], [])
        return node

class _OnlyChecked(_ast.NodeTransformer):
    def visit_Module(self, node):
        return _ast.fix_missing_locations(_Rewrite().visit(node)) if _RECORD["cell"] is not None else node

def _pre_run(info):
    source = info.raw_cell
    _RECORD["cell"] = source.split("\n", 2)[1][:60] if "# NBVAL_CHECK_OUTPUT" in source else None

def _dump(path):
    with open(path, "w") as file:
        _json.dump(_RECORD["items"], file)

_patch()
get_ipython().events.register("pre_run_cell", _pre_run)
get_ipython().ast_transformers.append(_OnlyChecked())
"""


def text_of(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            parts.append(output["text"])
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
    return "".join(parts)


def run(name: str, labs: list[str], records: Path = RECORDS) -> None:
    records.mkdir(parents=True, exist_ok=True)
    out = records / f"{name}.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    with tempfile.TemporaryDirectory() as scratch:
        for lab in labs:
            source = notebook_path(ROOT / "solutions", lab)
            folder = Path(scratch) / lab
            shutil.copytree(source.parent, folder)
            notebook = nbformat.read(folder / source.name, as_version=4)
            items = Path(scratch) / f"{lab}.json"
            notebook.cells.insert(0, nbformat.v4.new_code_cell(INSTRUMENT))
            notebook.cells.append(nbformat.v4.new_code_cell(f"_dump({str(items)!r})"))
            print(f"{name}: {lab} ...", flush=True)
            NotebookClient(notebook, timeout=1800, resources={"metadata": {"path": str(folder)}}).execute()
            outputs = {
                cell.source.split("\n", 2)[1][:60]: text_of(cell)
                for cell in notebook.cells
                if cell.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in cell.source
            }
            results[lab] = {
                "items": json.loads(items.read_text()),
                "outputs": outputs,
                "env": {k: v for k, v in os.environ.items() if k in ENV_KEYS},
            }
            out.write_text(json.dumps(results, indent=1))


ENV_KEYS = ("OMP_NUM_THREADS", "TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def boundary_distance(value: float, spec: str) -> float:
    """Distance from ``value`` to the nearest value where ``format(value, spec)`` changes, in the value's units."""
    if spec.endswith("e"):
        return math.inf  # the scientific figures are not compared (none in checked cells)
    decimals = int(spec.strip(".f%")[-1]) if spec.strip(".f%") else 6
    scale = 10**decimals * (100 if spec.endswith("%") else 1)
    scaled = value * scale
    return abs(scaled - (math.floor(scaled) + 0.5)) / scale


def report(records: Path = RECORDS) -> None:
    runs = {path.stem: json.loads(path.read_text()) for path in sorted(records.glob("*.json"))}
    print("runs:", ", ".join(runs))
    labs = sorted({lab for results in runs.values() for lab in results})
    for lab in labs:
        print(f"\n== {lab}")
        per_item: dict[tuple, list] = defaultdict(list)
        for results in runs.values():
            counts: dict[tuple, int] = defaultdict(int)
            for item in results.get(lab, {}).get("items", []):
                key = (
                    item["cell"],
                    item["kind"],
                    item["detail"].split()[0]
                    if item["kind"] == "compare"
                    else ("" if item["kind"] == "allclose" else item["detail"]),
                )
                counts[key] += 1
                per_item[(*key, counts[key])].append(item)
        for (cell, kind, detail, n), items in per_item.items():
            values = [item["value"] for item in items]
            if kind == "format":
                spread = max(values) - min(values)
                distance = min(boundary_distance(v, detail) for v in values)
                margin = distance / spread if spread else math.inf
                print(
                    f"  {cell[:44]:44s} #{n} {detail:>5s} value {values[0]:.6g} spread {spread:.2e}, "
                    f"to rounding boundary {distance:.2e} (x{margin:.3g})"
                )
            else:
                verdicts = {item["detail"].split()[-1] for item in items}
                worst = max(values) if "True" in verdicts else min(values)
                margin = (1 / worst if worst else math.inf) if "True" in verdicts else worst
                flag = "  <-- below 10x" if margin < 10 or len(verdicts) > 1 else ""
                print(
                    f"  {cell[:44]:44s} #{n} {kind} {detail:2s} {sorted(verdicts)} worst ratio {worst:.3g} "
                    f"margin x{margin:.3g}{flag}"
                )
        texts: dict[str, set] = defaultdict(set)
        for results in runs.values():
            for cell, text in results.get(lab, {}).get("outputs", {}).items():
                texts[cell].add(text)
        for cell, seen in texts.items():
            if len(seen) > 1:
                print(f"  OUTPUT DIFFERS: {cell}: " + " | ".join(repr(t) for t in seen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run")
    runner.add_argument("--name", required=True)
    runner.add_argument("--labs", nargs="*", default=lab_names(ROOT / "solutions"))
    reporter = commands.add_parser("report")
    for command in (runner, reporter):
        command.add_argument("--records", type=Path, default=RECORDS, help="folder of the runs' records")
    args = parser.parse_args()
    if args.command == "run":
        run(args.name, args.labs, args.records)
    else:
        report(args.records)


if __name__ == "__main__":
    main()
