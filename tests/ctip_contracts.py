"""Two contract types for import-linter (configured in pyproject.toml, ``[tool.importlinter]``).

import-linter (on grimp) already sees every static form of import: absolute, relative
(``from ..storage import tables``), package (``from ctip import storage``) and function-local.
What it cannot see is an import by name at run time, and it has no per-layer allow-list of
third-party libraries. These two small types add exactly that, and nothing else:

- ``layers_with_dynamic`` is import-linter's own ``layers`` contract, checked over the import
  graph plus the dynamic imports of the package: ``importlib.import_module("ctip.x")``,
  ``importlib.import_module(f"ctip.x.{name}")`` (counted as an import of ``ctip.x``) and
  ``__import__("ctip.x")``. A dynamic import whose name does not start with a literal module
  path cannot be checked, so it breaks the contract.
- ``allowlist``: each module of ``source_modules`` (minus ``exclude_modules``) may directly
  import the standard library, its own top-level part of the package, and what
  ``allowed_modules`` names (internal modules or top-level third-party packages); anything
  else breaks the contract. With ``only_external = true`` only third-party imports are
  checked (the layers contract orders the package's own). Dynamic imports count too.

Run them by hand from the repository root with ``PYTHONPATH=tests lint-imports``
(tests/test_architecture.py does the same).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from functools import cache
from pathlib import Path

import grimp
from importlinter.application import contract_utils, output
from importlinter.contracts.layers import LayersContract
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules

UNCHECKABLE = "<a name computed at run time>"


# --- dynamic imports ------------------------------------------------------------------------


def _module_file(module: str) -> Path | None:
    root, _, rest = module.partition(".")
    spec = importlib.util.find_spec(root)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    parts = rest.split(".") if rest else []
    candidate = base.joinpath(*parts)
    if candidate.with_suffix(".py").is_file() and parts:
        return candidate.with_suffix(".py")
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py"
    return None


def _literal_prefix(node: ast.expr) -> str | None:
    """The module path a dynamic import names: a string literal, or the literal start of an
    f-string up to its last dot (``f"ctip.cli.{area}"`` -> ``ctip.cli``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            head = first.value.rsplit(".", 1)[0] if "." in first.value else ""
            return head or None
    return None


def _is_dynamic_import(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "import_module":
        return isinstance(func.value, ast.Name) and func.value.id == "importlib"
    if isinstance(func, ast.Name):
        return func.id in {"import_module", "__import__"}
    return False


@cache
def _dynamic_imports_in(module: str) -> tuple[tuple[int, str, str], ...]:
    """(line, named module or UNCHECKABLE, line text) of each dynamic import in ``module``."""
    path = _module_file(module)
    if path is None:
        return ()
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.Call) and _is_dynamic_import(node) and node.args):
            continue
        name = _literal_prefix(node.args[0])
        if name is not None and name.startswith("."):  # relative to this module's package
            level = len(name) - len(name.lstrip("."))
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            name = f"{base}.{name.lstrip('.')}".rstrip(".")
        found.append((node.lineno, name or UNCHECKABLE, lines[node.lineno - 1].strip()))
    return tuple(found)


def add_dynamic_imports(graph: grimp.ImportGraph, root: str) -> list[str]:
    """Add every dynamic import of ``root``'s modules to ``graph``; return the uncheckable ones."""
    uncheckable = []
    for module in sorted(m for m in graph.modules if m == root or m.startswith(root + ".")):
        for line, name, text in _dynamic_imports_in(module):
            if name == UNCHECKABLE:
                uncheckable.append(f"{module}:{line}: {text}")
                continue
            target = name if name.split(".")[0] == root else name.split(".")[0]
            while target not in graph.modules and "." in target:
                target = target.rpartition(".")[0]  # the nearest module of the package we know
            graph.add_import(importer=module, imported=target, line_number=line,
                             line_contents=text)
    return uncheckable


# --- contracts ------------------------------------------------------------------------------


class LayersWithDynamicImports(LayersContract):
    """import-linter's layers contract, over the static and the dynamic imports."""

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        uncheckable = []
        for container in self.containers or []:  # type: ignore[attr-defined]
            uncheckable += add_dynamic_imports(graph, str(container).split(".")[0])
        check = super().check(graph, verbose)
        if uncheckable:
            check.kept = False
            check.metadata["uncheckable"] = uncheckable
        return check

    def render_broken_contract(self, check: ContractCheck) -> None:
        super().render_broken_contract(check)
        _render_uncheckable(check)


def _render_uncheckable(check: ContractCheck) -> None:
    for where in check.metadata.get("uncheckable", []):
        output.print_error(
            f"{where}: a dynamic import of a name computed at run time cannot be checked; "
            "name the module with a literal (an f-string may end in a variable part).",
            bold=False,
        )
        output.new_line()


class AllowListContract(Contract):
    """Modules may directly import only the standard library, their own top-level part of the
    package and what ``allowed_modules`` names."""

    type_name = "allowlist"

    source_modules = fields.ListField(subfield=fields.ModuleExpressionField())
    exclude_modules = fields.ListField(subfield=fields.ModuleExpressionField(), required=False)
    allowed_modules = fields.ListField(subfield=fields.StringField(), required=False)
    only_external = fields.BooleanField(required=False, default=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )
    broken_contract_guidance = fields.TextField(required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        sources = {
            m.name for m in module_expressions_to_modules(graph, self.source_modules)  # type: ignore[arg-type]
        }
        roots = {name.split(".")[0] for name in sources}
        uncheckable = []
        for root in sorted(roots):
            uncheckable += add_dynamic_imports(graph, root)
        import_removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        excluded = {
            m.name
            for m in module_expressions_to_modules(graph, self.exclude_modules or [])  # type: ignore[arg-type]
        }
        allowed = [str(a) for a in (self.allowed_modules or [])]  # type: ignore[attr-defined]

        only_external = str(self.only_external).lower() == "true"  # type: ignore[attr-defined]

        def is_allowed(importer: str, imported: str) -> bool:
            top = imported.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                return True
            if top == importer.split(".")[0]:  # the package's own modules
                if only_external or imported == top:  # (its root module is the base)
                    return True
                if imported.split(".")[:2] == importer.split(".")[:2]:  # its own part
                    return True
            return any(imported == a or imported.startswith(a + ".") for a in allowed)

        source_modules = set()
        for name in sources:
            source_modules |= {name} | set(graph.find_descendants(name))
        source_modules -= {
            m for m in source_modules
            if any(m == x or m.startswith(x + ".") for x in excluded)
        }
        illegal = []
        for importer in sorted(source_modules):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if is_allowed(importer, imported):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = tuple(d["line_number"] for d in details)
                illegal.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(
            kept=not illegal and not uncheckable,
            warnings=list(import_removal.warnings),
            ignored_import_count=import_removal.ignored_import_count,
            metadata={"illegal": illegal, "uncheckable": uncheckable},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["illegal"]:
            lines = ", ".join(f"l.{n}" for n in item["lines"])
            output.print_error(
                f"{item['importer']} imports {item['imported']} ({lines}): not on the allow-list "
                "of this contract.",
                bold=False,
            )
            output.new_line()
        _render_uncheckable(check)
        if self.broken_contract_guidance:  # type: ignore[attr-defined]
            output.print(str(self.broken_contract_guidance))  # type: ignore[attr-defined]
