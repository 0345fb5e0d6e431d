"""The import rules of ARCHITECTURE.md, checked on the source so they cannot drift.

Every module belongs to one *area*: a concept package (``emulator.segment``), its HTTP
adapters (``emulator.segment.http``), an edge (``emulator.server``) or a shared leaf
(``emulator.errors``). ``ALLOWED`` says which other areas each area may import; names are
compared whole, so ``emulator.mapping_loader`` is never mistaken for ``emulator.mapping``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import emulator

PACKAGE = Path(emulator.__file__).parent

_LEAVES = (
    "access",
    "clock",
    "countries",
    "errors",
    "json_limits",
    "junit",
    "refersion_endpoints",
    "secrets_mask",
    "version",
)
_CORE = ("contract_checks", "journal", "segment", "destination", "fake_refersion", "faults")

# Which areas each area may import besides itself. The face (``emulator``) loads its public
# names lazily; the server, commands, CLI and pytest plugin are the edges that assemble the rest.
ALLOWED: dict[str, frozenset[str]] = {
    "emulator": frozenset(
        {
            "emulator.assumptions",
            "emulator.config",
            "emulator.destination",
            "emulator.errors",
            "emulator.server",
            "emulator.version",
        }
    ),
    "emulator.__main__": frozenset({"emulator.cli"}),
    **{f"emulator.{leaf}": frozenset({"emulator.errors"}) for leaf in _LEAVES},
    # The assumption registry is plain data every side reads; it imports only errors.
    "emulator.assumptions": frozenset({"emulator.errors"}),
    "emulator.config": frozenset(
        {"emulator.access", "emulator.assumptions", "emulator.errors", "emulator.faults"}
    ),
    "emulator.contract_checks": frozenset({"emulator.errors", "emulator.secrets_mask"}),
    "emulator.journal": frozenset(
        {"emulator.contract_checks", "emulator.errors", "emulator.json_limits"}
    ),
    "emulator.segment": frozenset(
        {
            "emulator.assumptions",
            "emulator.clock",
            "emulator.config",
            "emulator.contract_checks",
            "emulator.errors",
            "emulator.journal",
            "emulator.json_limits",
            "emulator.secrets_mask",
        }
    ),
    "emulator.destination": frozenset(
        {
            "emulator.assumptions",
            "emulator.config",
            "emulator.countries",
            "emulator.errors",
            "emulator.secrets_mask",
        }
    ),
    "emulator.fake_refersion": frozenset(
        {
            "emulator.assumptions",
            "emulator.config",
            "emulator.countries",
            "emulator.errors",
            "emulator.refersion_endpoints",
        }
    ),
    "emulator.faults": frozenset({"emulator.errors", "emulator.refersion_endpoints"}),
    "emulator.cases": frozenset(
        {
            "emulator.assumptions",
            "emulator.config",
            "emulator.destination",
            "emulator.errors",
            "emulator.journal",
            "emulator.segment",
        }
    ),
    "emulator.strategies": frozenset(
        {"emulator.contract_checks", "emulator.countries", "emulator.segment"}
    ),
    "emulator.check": frozenset(
        {
            "emulator.assumptions",
            "emulator.errors",
            "emulator.journal",
            "emulator.junit",
            "emulator.strategies",
        }
    ),
    "emulator.web": frozenset({"emulator.errors", "emulator.json_limits"}),
    "emulator.segment.http": frozenset(
        {
            "emulator.assumptions",
            "emulator.clock",
            "emulator.config",
            "emulator.contract_checks",
            "emulator.journal",
            "emulator.json_limits",
            "emulator.secrets_mask",
            "emulator.segment",
            "emulator.web",
        }
    ),
    "emulator.destination.http": frozenset(
        {
            "emulator.assumptions",
            "emulator.config",
            "emulator.contract_checks",
            "emulator.destination",
            "emulator.errors",
            "emulator.journal",
            "emulator.json_limits",
            "emulator.secrets_mask",
            "emulator.web",
        }
    ),
    "emulator.fake_refersion.http": frozenset(
        {
            "emulator.assumptions",
            "emulator.config",
            "emulator.fake_refersion",
            "emulator.json_limits",
            "emulator.web",
        }
    ),
    "emulator.faults.http": frozenset(
        {"emulator.fake_refersion.http", "emulator.faults", "emulator.web"}
    ),
    "emulator.cli": frozenset({"emulator.commands", "emulator.errors"}),
    "emulator.pytest_plugin": frozenset(
        {
            "emulator.assumptions",
            "emulator.config",
            "emulator.destination",
            "emulator.errors",
            "emulator.server",
        }
    ),
}
_EVERYTHING = frozenset(ALLOWED) | {"emulator.server", "emulator.commands"}
ALLOWED["emulator.server"] = _EVERYTHING - {
    "emulator.commands",
    "emulator.cli",
    "emulator.pytest_plugin",
}
ALLOWED["emulator.commands"] = _EVERYTHING - {"emulator.cli", "emulator.pytest_plugin"}

_EDGES = frozenset(
    {"emulator.server", "emulator.commands", "emulator.cli", "emulator.pytest_plugin"}
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def area(module: str) -> str:
    """The area a module name belongs to: ``emulator.X`` or ``emulator.X[.Y].http``."""
    parts = module.split(".")
    if "http" in parts:
        return ".".join(parts[: parts.index("http") + 1])
    return ".".join(parts[:2])


def imports(path: Path) -> set[str]:
    """The ``emulator`` modules and ``aiohttp`` that ``path`` imports.

    ``from package import name`` counts as importing ``package.name`` when that is a module.
    Imports under ``if TYPE_CHECKING:`` count too: a circle there is still a circle.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import of {node.module}"
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in MODULES else node.module)
    return {n for n in names if n.split(".")[0] in {"emulator", "aiohttp"}}


def _is_edge_or_adapter(module: str) -> bool:
    return (
        area(module) in _EDGES or area(module).endswith(".http") or area(module) == "emulator.web"
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_what_its_area_may(module: str) -> None:
    own = area(module)
    assert own in ALLOWED, f"{module}: area {own} is not in ARCHITECTURE.md's table"
    outside = {
        name
        for name in imports(MODULES[module])
        if name.startswith("emulator") and area(name) != own and area(name) not in ALLOWED[own]
    }
    assert outside == set(), f"{module} ({own}) imports {sorted(outside)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _is_edge_or_adapter(m)))
def test_the_core_never_imports_aiohttp(module: str) -> None:
    assert "aiohttp" not in {n.split(".")[0] for n in imports(MODULES[module])}


def test_the_areas_name_every_package() -> None:
    assert {area(m) for m in MODULES} == set(ALLOWED)


def test_the_area_match_is_exact() -> None:
    # A prefix match would let emulator.mapping_loader pass as emulator.mapping.
    assert area("emulator.journal_store") == "emulator.journal_store"
    assert area("emulator.journal_store") not in ALLOWED
    assert area("emulator.destination.http.receiver") == "emulator.destination.http"


def _cycles() -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), TYPE_CHECKING included."""
    graph = {
        m: sorted(n for n in imports(p) if n in MODULES and n != m) for m, p in MODULES.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_import_circle_at_any_level() -> None:
    assert _cycles() == []


def test_the_command_line_imports_the_server_only_when_a_command_runs() -> None:
    probe = "import sys, emulator.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "aiohttp" not in loaded
