"""The import rules of ARCHITECTURE.md, checked on the source so they cannot drift."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import emulator

PACKAGE = Path(emulator.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


_TYPE_CHECKING = {"TYPE_CHECKING", "typing.TYPE_CHECKING"}
# The edges: they may import the server (the pytest plugin does so lazily, when used).
_EDGES = {"cli.py", "pytest_plugin.py"}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:``, which are never imported at run time."""
    nodes: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and ast.unparse(node.test) in _TYPE_CHECKING:
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return nodes


def core_files() -> list[Path]:
    return [
        p
        for p in PACKAGE.rglob("*.py")
        if not {"server", "commands"} & set(p.relative_to(PACKAGE).parts) and p.name not in _EDGES
    ]


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_never_imports_aiohttp_or_the_server(path: Path) -> None:
    bad = {
        name
        for name in imported_modules(path)
        if name.split(".")[0] == "aiohttp" or name.startswith("emulator.server")
    }
    assert bad == set()


@pytest.mark.parametrize(
    ("folder", "allowed"),
    [
        (
            "mapping",
            {
                "emulator.mapping",
                "emulator.assumptions",
                "emulator.config",
                "emulator.countries",
                "emulator.emails",
                "emulator.errors",
                "emulator.secrets_mask",
            },
        ),
        (
            "refersion",
            {
                "emulator.refersion",
                "emulator.assumptions",
                "emulator.config",
                "emulator.countries",
                "emulator.emails",
                "emulator.errors",
            },
        ),
    ],
)
def test_mapping_and_fake_stay_independent(folder: str, allowed: set[str]) -> None:
    for path in (PACKAGE / folder).glob("*.py"):
        own = {
            name
            for name in imported_modules(path)
            if name.startswith("emulator") and not any(name.startswith(a) for a in allowed)
        }
        assert own == set(), f"{path.name} imports {own}"


def test_the_assumption_registry_is_a_leaf() -> None:
    """The mapping, the fake and the Segment side all read it, so it may import none of them."""
    for path in (PACKAGE / "assumptions").glob("*.py"):
        own = {
            name
            for name in imported_modules(path)
            if name.startswith("emulator")
            and not name.startswith(("emulator.assumptions", "emulator.errors"))
        }
        assert own == set(), f"{path.name} imports {own}"


def test_contracts_know_nothing_of_the_rest() -> None:
    names = imported_modules(PACKAGE / "contracts.py")
    assert {n for n in names if n.startswith("emulator")} <= {
        "emulator.contract_fast_path",
        "emulator.contract_fast_path.FastPath",
        "emulator.contract_fast_path.schema_certainly_valid",
        "emulator.emails",
        "emulator.emails.email_problem",
        "emulator.errors",
        "emulator.errors.ConfigError",
        "emulator.secrets_mask",
        "emulator.secrets_mask.mask_secret",
    }


def test_the_command_line_imports_the_server_only_when_a_command_runs() -> None:
    probe = "import sys, emulator.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "aiohttp" not in loaded
