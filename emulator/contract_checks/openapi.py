"""The OpenAPI 3.1 document of every HTTP surface, with the contracts it references inlined.

``contracts/openapi.json`` references the JSON Schemas beside it by relative path
(``"$ref": "segment/message.json"``), so no body schema is written twice. The served copy is
self-contained: each referenced contract becomes ``components/schemas/<dir>.<name>`` (with
its own cross-file and ``$defs`` references rewritten to point there), because tools that
read a document from a URL cannot follow paths relative to the repository.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from emulator.contract_checks.contract_set import (
    CONTRACT_BASE_URI,
    OPENAPI_FILE,
    contracts_directory,
)
from emulator.errors import ConfigError

__all__ = ["HTTP_METHODS", "bundled_document", "component_name", "operations", "source_document"]

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_COMPONENTS = "#/components/schemas/"


def source_document(directory: Path | None = None) -> dict[str, Any]:
    """``openapi.json`` as kept in the repository, with relative contract references."""
    path = (directory or contracts_directory()) / OPENAPI_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"OpenAPI document {path}: cannot read it as JSON: {exc}") from exc
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3.1"):
        raise ConfigError(f"OpenAPI document {path}: expected an object with openapi 3.1.x")
    return document


def bundled_document(
    *, server_url: str | None = None, version: str | None = None, directory: Path | None = None
) -> dict[str, Any]:
    """The self-contained document: contracts inlined; ``servers`` and version when given."""
    document = copy.deepcopy(_bundled(directory or contracts_directory()))
    if server_url is not None:
        document["servers"] = [{"url": server_url, "description": "this emulator"}]
    if version is not None:
        document["info"]["version"] = version
    return document


def operations(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Every documented operation as ``(METHOD, path template)``."""
    return {
        (method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in HTTP_METHODS
    }


def component_name(contract_path: str) -> str:
    """``segment/message.json`` → ``segment.message`` (a legal component key)."""
    return contract_path.removesuffix(".json").replace("/", ".")


@functools.cache
def _bundled(directory: Path) -> dict[str, Any]:
    document = source_document(directory)
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    pending = sorted(set(_file_refs(document)))
    while pending:
        file = pending.pop()
        name = component_name(file)
        if name in schemas:
            continue
        contract = _read_contract(directory, file)
        pending.extend(_file_refs(contract))
        schemas[name] = contract
    bundled: dict[str, Any] = _rewrite(document, own=None)
    bundled["components"]["schemas"] = {
        name: _rewrite(schema, own=name if "x-contract" in schema else None)
        for name, schema in schemas.items()
    }
    return bundled


def _read_contract(directory: Path, file: str) -> dict[str, Any]:
    path = directory / file
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"OpenAPI document: cannot read the contract {file}: {exc}") from exc
    # Embedded, a contract is a plain schema object of the document: its own base URI would
    # make "#/components/..." references resolve against the wrong resource.
    schema.pop("$schema", None)
    schema.pop("$id", None)
    schema["x-contract"] = file.removesuffix(".json")
    return dict(schema)


def _file_refs(node: Any) -> Iterator[str]:
    """The contract files referenced from ``node`` (relative paths or contract ``$id``s)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and not value.startswith("#"):
                yield _contract_file(value)
            else:
                yield from _file_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _file_refs(item)


def _contract_file(ref: str) -> str:
    return ref.partition("#")[0].removeprefix(CONTRACT_BASE_URI)


def _rewrite(node: Any, *, own: str | None) -> Any:
    """References to contracts become component references; ``own`` is the enclosing one."""
    if isinstance(node, list):
        return [_rewrite(item, own=own) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _rewritten_ref(value, own)
        if key == "$ref" and isinstance(value, str)
        else _rewrite(value, own=own)
        for key, value in node.items()
    }


def _rewritten_ref(ref: str, own: str | None) -> str:
    file, _, fragment = ref.partition("#")
    if not file:
        # Inside a contract, "#/$defs/x" meant that contract's root.
        return f"{_COMPONENTS}{own}{fragment}" if own is not None else ref
    return f"{_COMPONENTS}{component_name(_contract_file(file))}{fragment}"
