"""A static scan of a submission's own code for what tampering with the grading looks like.

The verdict does not depend on it (:mod:`labkit.grader.verdict` decides outside the kernel); the flags are for
the instructor, who reads the code they point at. A flag is not proof: a student may have a reason. Scanned:
every code cell that is not a locked or graded cell of the source (those are overwritten by nbgrader
anyway), i.e. the solution cells and any cell the student added or changed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from nbformat import NotebookNode

from labkit.grader.needed import python_source

#: Calls that change or reach into the interpreter, by their dotted name.
SUSPICIOUS_CALLS = {
    "setattr": "setattr() changes an attribute by name",
    "delattr": "delattr() removes an attribute by name",
    "exec": "exec() runs code built at run time",
    "eval": "eval() runs code built at run time",
    "compile": "compile() builds code at run time",
    "__import__": "__import__() imports by name",
    "globals": "globals() reaches the notebook's namespace",
    "vars": "vars() reaches a namespace",
    "get_ipython": "get_ipython() reaches the kernel",
    "importlib.reload": "importlib.reload() re-imports a module",
    "importlib.import_module": "importlib.import_module() imports by name",
    "sys._getframe": "sys._getframe() reads the caller's variables",
    "inspect.currentframe": "inspect.currentframe() reads the caller's variables",
    "inspect.stack": "inspect.stack() reads the caller's variables",
    "gc.get_objects": "gc.get_objects() reaches every object",
    "gc.get_referrers": "gc.get_referrers() reaches other objects",
    "os._exit": "os._exit() kills the kernel",
    "sys.exit": "sys.exit() stops the program",
    "os.system": "os.system() runs a shell command",
    "subprocess.run": "subprocess runs a command",
    "subprocess.Popen": "subprocess runs a command",
    "torch.save": "torch.save() writes a file",
    "open": "open() reads or writes a file",
}
#: Names and attributes whose mere mention is worth a look.
SUSPICIOUS_NAMES = {
    "sys.modules": "sys.modules (the table of imported modules)",
    "builtins": "builtins (Python's built-in functions)",
    "__builtins__": "__builtins__ (Python's built-in functions)",
    "__code__": "__code__ (a function's compiled code)",
    "__globals__": "__globals__ (a function's module namespace)",
    "__dict__": "__dict__ (an object's attribute table)",
    "f_locals": "f_locals (a frame's variables)",
    "f_back": "f_back (the calling frame)",
    "f_globals": "f_globals (a frame's module namespace)",
    "_FORBIDDEN": "labkit.grader.references._FORBIDDEN (the switched-off references)",
    "NBGRADER_EXECUTION": "NBGRADER_EXECUTION (whether nbgrader is grading)",
    "os.environ": "os.environ (environment variables)",
    "labkit.checks": "labkit.checks (the hidden tests' checks)",
    "labkit.grader.references": "labkit.grader.references (the reference switch)",
    "labkit.grader": "labkit.grader (the grading machinery)",
    "post_run_cell": "a post_run_cell hook (runs code after every cell)",
    "pre_run_cell": "a pre_run_cell hook (runs code before every cell)",
}


@dataclass(frozen=True)
class Flag:
    """One suspicious line: the cell (grade_id or index), the line, and what it does."""

    cell: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.cell}:{self.line}: {self.what}"


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def imported_names(source: str) -> set[str]:
    """The names a cell's imports bind (``import torch`` -> torch)."""
    try:
        tree = ast.parse(python_source(source))
    except (SyntaxError, ValueError):
        return set()
    return {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }


def scan_source(source: str, cell: str = "cell", modules: set[str] | frozenset[str] = frozenset()) -> list[Flag]:
    """The flags of one cell's code (IPython syntax allowed; shell escapes and magics are flagged).

    ``modules``: names imported by other cells of the notebook (assigning into them is flagged too).
    """
    flags = []
    for number, text in enumerate(source.splitlines(), 1):
        if text.lstrip().startswith(("!", "%")):
            flags.append(Flag(cell, number, "a shell command or magic (! or %)"))
    try:
        tree = ast.parse(python_source(source))
    except (SyntaxError, ValueError):
        return flags
    modules = set(modules)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            prefix = f"{node.module}." if isinstance(node, ast.ImportFrom) and node.module else ""
            for alias in node.names:
                modules.add(alias.asname or alias.name.split(".")[0])
                name = prefix + alias.name
                for key, what in SUSPICIOUS_NAMES.items():
                    if name == key or name.startswith(key + "."):
                        flags.append(Flag(cell, node.lineno, f"imports {what}"))
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in SUSPICIOUS_CALLS:
                flags.append(Flag(cell, line, SUSPICIOUS_CALLS[name]))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, (ast.Attribute, ast.Subscript)):
                        root = _dotted(part.value if isinstance(part, ast.Subscript) else part)
                        base = root.split(".")[0] if root else None
                        if base in modules:
                            verb = "deletes" if isinstance(node, ast.Delete) else "assigns to"
                            flags.append(Flag(cell, line, f"{verb} {root} of the imported module {base}"))
                            break
        if isinstance(node, (ast.Attribute, ast.Name)):
            name = _dotted(node) if isinstance(node, ast.Attribute) else node.id
            attribute = node.attr if isinstance(node, ast.Attribute) else node.id
            for key, what in SUSPICIOUS_NAMES.items():
                if name == key or attribute == key:
                    flags.append(Flag(cell, line, f"uses {what}"))
    return sorted(set(flags), key=lambda flag: (flag.line, flag.what))


def _cell_name(cell: NotebookNode, index: int) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"


def scan_notebook(submitted: NotebookNode, source: NotebookNode | None = None) -> list[Flag]:
    """Flags of every code cell of ``submitted`` the student wrote (solution cells, added or edited cells).

    Cells identical to a cell of ``source`` (the lab's nbgrader source or release) are the course's own and
    are skipped, as are the source's locked and test cells (nbgrader replaces them with the source's).
    """
    source_cells = source.cells if source is not None else []
    own = {cell.source for cell in source_cells}
    restored = set()
    for cell in source_cells:
        meta = cell.metadata.get("nbgrader", {})
        if (meta.get("locked") or meta.get("grade")) and not meta.get("solution"):
            restored.add(meta.get("grade_id"))
    flags = []
    modules = set().union(*(imported_names(cell.source) for cell in submitted.cells if cell.cell_type == "code"))
    for index, cell in enumerate(submitted.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or cell.source in own or meta.get("grade_id") in restored - {None}:
            continue
        flags.extend(scan_source(cell.source, _cell_name(cell, index), modules))
    return flags
