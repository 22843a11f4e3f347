"""Which cells of a lab grading must run: the graded and student cells, and the cells they depend on.

A lab's demos (widgets, long tables, live training, figures) teach but are not graded. While grading, a cell
runs only if it is a graded or student cell (nbgrader solution or grade cell) or defines or changes a name
that a cell which runs later uses. The analysis reads the code (IPython syntax included) and is conservative:

- a cell *uses* every name it reads anywhere (function bodies included), so a student's function that
  reads a notebook global keeps the cell that defines it;
- a cell *defines* the names it binds at top level (assignments, imports, ``def``, ``class``, ``for``,
  ``with``) and *changes* the objects it assigns into (``model.x = ...``, ``x[0] = ...``, ``torch.pi = 3``)
  or calls a method of at top level (``model.eval()``); calling a function of a module the notebook imports
  with ``import ...`` (``torch.manual_seed(0)``, ``plt.rcParams.update(...)``) does not change that module:
  it only moves library state (random numbers, figure style) that a graded cell, comparing the student's
  function with the reference in the same kernel, does not depend on;
- a star import, ``global``/``exec``/``globals()`` or a cell that cannot be parsed counts as defining
  everything; an earlier definition of a name is kept too (a later one may be conditional).
"""

from __future__ import annotations

import ast
import builtins
import symtable
from collections.abc import Iterable

from nbformat import NotebookNode

_BUILTINS = frozenset(dir(builtins)) | {"display", "get_ipython", "In", "Out", "_", "__", "___"}
#: Names whose use means "anything may be defined or read here".
_ANYTHING = frozenset({"exec", "eval", "globals", "locals", "vars", "__import__", "get_ipython"})


def _read_globals(table: symtable.SymbolTable) -> set[str]:
    """Names a function/class/comprehension scope (and those inside it) reads from the notebook's globals."""
    module = False
    names = {
        symbol.get_name() for symbol in table.get_symbols() if symbol.is_referenced() and (module or symbol.is_global())
    }
    # A name read by a comprehension is global in it; the comprehension's own variables are local.
    for child in table.get_children():
        names |= _read_globals(child)
    return names


class _FirstUse(ast.NodeVisitor):
    """Whether each name is first read or first bound by the cell's top-level code, in evaluation order."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}

    def visit_Name(self, node: ast.Name) -> None:
        self.first.setdefault(node.id, "read" if isinstance(node.ctx, ast.Load) else "bound")

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.first.setdefault(node.target.id, "read")
        self.visit(node.value)
        self.visit(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    def _definition(self, node: ast.AST, name: str | None) -> None:
        arguments = getattr(node, "args", None)
        for child in [*getattr(node, "decorator_list", []), *getattr(node, "bases", [])]:
            self.visit(child)
        if isinstance(arguments, ast.arguments):
            for default in [*arguments.defaults, *arguments.kw_defaults]:
                if default is not None:
                    self.visit(default)
        if name is not None:
            self.first.setdefault(name, "bound")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._definition(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._definition(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._definition(node, None)

    def _comprehension(self, node: ast.AST) -> None:
        self.visit(node.generators[0].iter)  # the rest runs in the comprehension's own scope

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self.first.setdefault(alias.asname or alias.name.split(".")[0], "bound")

    visit_ImportFrom = visit_Import  # type: ignore[assignment]


def _declares_global(table: symtable.SymbolTable) -> bool:
    if table.get_type() != "module" and any(symbol.is_declared_global() for symbol in table.get_symbols()):
        return True
    return any(_declares_global(child) for child in table.get_children())


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed(tree: ast.Module, modules: frozenset[str] = frozenset()) -> set[str]:
    """Names whose objects a top-level statement assigns into or calls a method of (not a function of ``modules``)."""
    changed = set()
    for statement in tree.body:
        targets: list[ast.AST] = []
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = statement.targets if isinstance(statement, (ast.Assign, ast.Delete)) else [statement.target]
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            if isinstance(statement.value.func, ast.Attribute) and _root(statement.value.func) not in modules:
                targets = [statement.value.func]
        elif isinstance(statement, (ast.With, ast.For, ast.If, ast.While, ast.Try)):
            body = ast.Module(body=list(ast.iter_child_nodes(statement)), type_ignores=[])
            changed |= _changed(body, modules)
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, (ast.Attribute, ast.Subscript)):
                    root = _root(node)
                    if root is not None:
                        changed.add(root)
    return changed


def python_source(source: str) -> str:
    """A cell's source with IPython syntax (``%magic``, ``!cmd``, ``x?``) turned into Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def module_names(sources: Iterable[str]) -> frozenset[str]:
    """Names the cells bind only to modules, with ``import a.b`` or ``import a.b as c`` (not ``from a import b``)."""
    imported, rebound = set(), set()
    for source in sources:
        try:
            code = python_source(source)
            tree, table = ast.parse(code), symtable.symtable(code, "<cell>", "exec")
        except (SyntaxError, ValueError):
            continue
        imported |= {
            alias.asname or alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        rebound |= {symbol.get_name() for symbol in table.get_symbols() if symbol.is_assigned()}
        rebound |= {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
    return frozenset(imported - rebound)


def cell_names(source: str, modules: frozenset[str] = frozenset()) -> tuple[set[str], set[str], bool]:
    """(names defined or changed, names used, whether the cell may define anything) of one code cell.

    ``modules``: names bound to modules in the notebook, whose functions a call does not change.
    """
    try:
        code = python_source(source)
        tree = ast.parse(code)
        table = symtable.symtable(code, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set(), set(), True
    defined = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_assigned() or symbol.is_imported()}
    order = _FirstUse()
    order.visit(tree)
    used = {name for name, how in order.first.items() if how == "read"}
    for child in table.get_children():
        used |= _read_globals(child)
    star = any(isinstance(node, ast.ImportFrom) and node.names[0].name == "*" for node in ast.walk(tree))
    anything = star or bool(used & _ANYTHING) or _declares_global(table)
    return defined | _changed(tree, modules), used - _BUILTINS, anything


def is_graded_cell(cell: NotebookNode) -> bool:
    """A cell nbgrader grades or the student writes (solution or grade cell)."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("solution") or meta.get("grade"))


def cells_to_run(cells: Iterable[NotebookNode]) -> set[int]:
    """Indices of the code cells grading must run (see the module's docstring)."""
    cells = list(cells)
    modules = module_names(cell.source for cell in cells if cell.cell_type == "code")
    keep: set[int] = set()
    needed: set[str] = set()
    for index in reversed(range(len(cells))):
        cell = cells[index]
        if cell.cell_type != "code":
            continue
        defined, used, anything = cell_names(cell.source, modules)
        if is_graded_cell(cell) or anything or defined & needed:
            keep.add(index)
            needed |= used
    return keep
