"""Contracts: the JSON Schemas under ``contracts/`` and the violations they report."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, cast

from email_validator import EmailNotValidError, validate_email
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import (
    WEAK_MATCHES,
    SchemaError,
    ValidationError,
    best_match,
    relevance,
)
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from emulator.contract_checks.fast_path import FastPath, schema_certainly_valid
from emulator.errors import ConfigError
from emulator.secrets_mask import mask_secret

__all__ = [
    "CONTRACT_BASE_URI",
    "OPENAPI_FILE",
    "ContractObserver",
    "ContractSet",
    "Violation",
    "contracts_directory",
    "default_contracts",
]

CONTRACT_BASE_URI = "https://refersion-emulator.local/contracts/"
"""A contract's ``$id`` is this plus its path under ``contracts/``; cross-file ``$ref``s use it."""
OPENAPI_FILE = "openapi.json"
"""The OpenAPI document beside the contracts (not a contract itself; see .openapi)."""

# The package root: the wheel ships the contracts as emulator/_contracts; a clone has
# contracts/ beside the package.
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_MAX_VALUE_JSON = 200
_MAX_SHOWN = 60
_MAX_MESSAGE = 300
_MAX_LISTED_OPTIONS = 6
_MAX_SHOWN_DEPTH = 64
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]+")
_JSON_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "boolean"),
    ((int, float), "number"),
    (str, "string"),
    (Mapping, "object"),
    (list, "array"),
)


@dataclass(frozen=True, slots=True)
class Violation:
    """One way an instance breaks a contract, located the way ``jsonschema.best_match`` would.

    ``pointer`` is the RFC 6901 JSON Pointer of the offending value (``""`` for the root),
    ``rule`` the JSON Schema keyword that failed (or ``nesting`` for an instance too deeply
    nested to check). ``value`` is the offending value with secrets (``writeOnly``
    properties) masked; when its JSON exceeds 200 characters it is a truncated JSON string.
    """

    contract: str
    pointer: str
    value: Any
    rule: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The violation as JSON-ready data, for the journal, reports and HTTP answers."""
        return {
            "contract": self.contract,
            "pointer": self.pointer,
            "value": self.value,
            "rule": self.rule,
            "message": self.message,
        }


ContractObserver: TypeAlias = Callable[[str, list[Violation]], None]
"""Told the contract name and the violations of each check (empty when it passed)."""


class ContractSet:
    """Compiled contracts, one Draft 2020-12 validator per schema file.

    Build it with :meth:`load`; validators are compiled once, so :meth:`validate` is cheap
    enough for every exchange the emulator sees. With a :class:`FastPath`, an instance it
    vouches for is valid without asking jsonschema, which still reports every violation.
    """

    __slots__ = ("_fast", "_observer", "_schemas", "_secret_keys", "_validators")

    def __init__(
        self,
        *,
        schemas: Mapping[str, Mapping[str, Any]],
        validators: Mapping[str, Any],
        secret_keys: frozenset[str],
        observer: ContractObserver | None = None,
        fast: FastPath | None = None,
    ) -> None:
        self._schemas = dict(schemas)
        self._validators = dict(validators)
        self._secret_keys = secret_keys
        self._observer = observer
        self._fast = fast

    @classmethod
    def load(cls, directory: Path | None = None) -> ContractSet:
        """Load and compile every ``*.json`` under ``directory`` (default: the bundled set).

        Raises :class:`ConfigError` naming the file when a schema is not JSON, is not a valid
        draft 2020-12 schema, has an ``$id`` that does not match its path, or has a ``$ref``
        that cannot be resolved offline.
        """
        root = directory if directory is not None else contracts_directory()
        paths = sorted(p for p in root.rglob("*.json") if p != root / OPENAPI_FILE)
        if not paths:
            raise ConfigError(f"no contracts (*.json files) found under {root}")
        schemas = {_contract_name(root, path): _read_schema(root, path) for path in paths}
        files = {_contract_name(root, path): path for path in paths}
        registry: Registry[Any] = Registry().with_resources(
            (schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas.values()
        )
        for name, schema in schemas.items():
            _check_refs(files[name], schema, registry)
        checker = _format_checker()
        validators = {
            name: Draft202012Validator(schema, registry=registry, format_checker=checker)
            for name, schema in schemas.items()
        }
        secret_keys = frozenset(
            key for schema in schemas.values() for key in _write_only_properties(schema)
        )
        fast = FastPath(schemas, format_checker=checker)
        return cls(schemas=schemas, validators=validators, secret_keys=secret_keys, fast=fast)

    @property
    def names(self) -> tuple[str, ...]:
        """Every contract name (its path under ``contracts/`` without ``.json``), sorted."""
        return tuple(sorted(self._schemas))

    def schema(self, name: str) -> Mapping[str, Any]:
        """A copy of the schema of contract ``name``."""
        return copy.deepcopy(self._schemas[self._known(name)])

    def observed(self, observer: ContractObserver) -> ContractSet:
        """The same compiled contracts, reporting every :meth:`validate` to ``observer``.

        ``observer(name, violations)`` is called after each check; the set is shared, so one
        emulator can count its own checks without recompiling or touching another's counts.
        """
        return ContractSet(
            schemas=self._schemas,
            validators=self._validators,
            secret_keys=self._secret_keys,
            observer=observer,
            fast=self._fast,
        )

    @property
    def fast_path(self) -> FastPath | None:
        """The compiled validators that vouch for valid instances (None: jsonschema alone)."""
        return self._fast

    def reference(self) -> ContractSet:
        """The same contracts checked by jsonschema alone, without the compiled fast path."""
        return ContractSet(
            schemas=self._schemas,
            validators=self._validators,
            secret_keys=self._secret_keys,
            observer=self._observer,
        )

    def is_valid(self, name: str, instance: Any) -> bool:
        """Whether ``instance`` satisfies contract ``name``."""
        if self._fast is not None and self._fast.certainly_valid(self._known(name), instance):
            return True
        try:
            return bool(self._validators[self._known(name)].is_valid(instance))
        except RecursionError:
            return False

    def validate(self, name: str, instance: Any) -> list[Violation]:
        """Every violation of contract ``name`` by ``instance``; empty when it is valid.

        The first violation is the one ``jsonschema.best_match`` picks; the rest follow shallow
        before deep, then in document order, ``oneOf``/``anyOf`` last among equals. A failed
        ``oneOf``/``anyOf`` is reported at its most relevant branch failure, as ``best_match``
        does, so the pointer names the deepest offending value. An instance nested too deeply
        for jsonschema (which renders values with ``repr``) yields one ``nesting`` violation.
        """
        violations = self._violations(name, instance)
        if self._observer is not None:
            self._observer(name, violations)
        return violations

    def _violations(self, name: str, instance: Any) -> list[Violation]:
        if self._fast is not None and self._fast.certainly_valid(self._known(name), instance):
            return []
        try:
            errors = list(self._validators[self._known(name)].iter_errors(instance))
        except RecursionError:
            return [_too_deep(name, instance)]
        if not errors:
            return []
        headline = max(errors, key=relevance)
        rest = sorted((error for error in errors if error is not headline), key=_reading_order)
        violations: dict[tuple[str, str, str], Violation] = {}
        for error in [headline, *rest]:
            violation = self._violation(name, best_match([error]))
            violations.setdefault(_finding(violation), violation)
        return list(violations.values())

    def _known(self, name: str) -> str:
        if name not in self._validators:
            known = ", ".join(self.names)
            raise ConfigError(f"unknown contract {name!r}; known contracts: {known}")
        return name

    def _violation(self, contract: str, error: ValidationError) -> Violation:
        path = list(error.absolute_path)
        value, text = self._render(error.instance, path[-1] if path else None)
        return Violation(
            contract=contract,
            pointer="".join(f"/{_escape_token(token)}" for token in path),
            value=value if len(text) <= _MAX_VALUE_JSON else _truncate(text, _MAX_VALUE_JSON),
            rule=str(error.validator),
            message=_truncate(self._message(error, _truncate(text, _MAX_SHOWN)), _MAX_MESSAGE),
        )

    def _render(self, instance: Any, key: str | int | None) -> tuple[Any, str]:
        """The instance with secrets masked, and its JSON text."""
        try:
            masked = self._masked(instance, key, _MAX_SHOWN_DEPTH)
            return masked, json.dumps(masked, ensure_ascii=False)
        except (RecursionError, TypeError, ValueError):
            # Too deep, or not JSON (validate() also accepts Python objects): describe it instead.
            summary = f"<{_json_type(instance)} that cannot be shown>"
            return summary, json.dumps(summary)

    def _masked(self, value: Any, key: str | int | None, depth: int) -> Any:
        if isinstance(value, str):
            return mask_secret(value) if key in self._secret_keys else value
        if isinstance(value, dict | list) and depth == 0:
            raise ValueError("nested too deeply to show")
        if isinstance(value, dict):
            return {k: self._masked(v, k, depth - 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self._masked(item, None, depth - 1) for item in value]
        return value

    def _message(self, error: ValidationError, shown: str) -> str:
        """One sentence naming the field, the rule and ``shown``, the masked, shortened value."""
        where = _field_label(list(error.absolute_path))
        # The stubs type these as "value or Unset"; a raised error always has them set.
        rule, expected, instance = error.validator, error.validator_value, cast(Any, error.instance)
        expected = cast(Any, expected)
        match rule:
            case "required":
                return (
                    str(error.message) if where == "the document" else f"{error.message} in {where}"
                )
            case "type":
                types = expected if isinstance(expected, list) else [expected]
                return f"{where} must be of type {' or '.join(types)}, got {shown}"
            case "enum":
                return f"{where} must be one of {_options(expected)}, got {shown}"
            case "const":
                return f"{where} must be {json.dumps(expected)}, got {shown}"
            case "minLength" | "maxLength":
                bound = "at least" if rule == "minLength" else "at most"
                length = _count(expected, "character")
                return f"{where} must be {bound} {length} long, got {len(instance)}"
            case "minItems" | "maxItems":
                bound = "at least" if rule == "minItems" else "at most"
                return f"{where} must have {bound} {_count(expected, 'item')}, got {len(instance)}"
            case "minimum" | "maximum":
                bound = "at least" if rule == "minimum" else "at most"
                return f"{where} must be {bound} {expected}, got {shown}"
            case "pattern":
                return f"{where} must match the pattern {expected}, got {shown}"
            case "format":
                return f"{where} must be a valid {expected}, got {shown}"
            case "not":
                what = _schema_summary(expected)
                return f"{where} must not match {what}, got {shown}"
            case "additionalProperties":
                extra = ", ".join(repr(key) for key in _unexpected_properties(error))
                return f"{where} has properties the contract does not allow: {extra}"
            case "oneOf" | "anyOf" if error.context:
                reasons = dict.fromkeys(self._branch_message(sub) for sub in error.context)
                return f"{where} matches none of the allowed shapes: {'; '.join(reasons)}"
            case "oneOf":
                return f"{where} must match exactly one of the allowed shapes, but matches several"
        return f"{where}: {error.message}"

    def _branch_message(self, error: ValidationError) -> str:
        path = list(error.absolute_path)
        text = self._render(error.instance, path[-1] if path else None)[1]
        return self._message(error, _truncate(text, _MAX_SHOWN))


# Keywords that judge the value at the pointer itself: when two layers of one contract (a
# schema and one it refers to) both fail the same keyword there, that is one finding, reported
# once, so a trace and the per-contract counts agree on how many problems an event has.
_VALUE_RULES = frozenset(
    {
        "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    }
)  # fmt: skip


def _finding(violation: Violation) -> tuple[str, str, str]:
    """What makes two violations of one check the same finding. Other keywords (``required``,
    ``additionalProperties``, …) name different members at one pointer in their message."""
    if violation.rule in _VALUE_RULES:
        return (violation.pointer, violation.rule, "")
    return (violation.pointer, violation.rule, violation.message)


@functools.cache
def default_contracts() -> ContractSet:
    """The bundled contracts, loaded once per process."""
    return ContractSet.load()


def _too_deep(contract: str, instance: Any) -> Violation:
    return Violation(
        contract=contract,
        pointer="",
        value=f"<{_json_type(instance)} that cannot be shown>",
        rule="nesting",
        message="the document is nested too deeply to check against the contract",
    )


def contracts_directory() -> Path:
    """The bundled ``contracts/`` directory."""
    # A wheel carries the schemas inside the package; a source checkout keeps them at the top.
    for candidate in (_PACKAGE_DIR / "_contracts", _PACKAGE_DIR.parent / "contracts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        f"no contracts directory: looked for {_PACKAGE_DIR / '_contracts'} "
        f"and {_PACKAGE_DIR.parent / 'contracts'}"
    )


def _contract_name(root: Path, path: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def _read_schema(root: Path, path: Path) -> dict[str, Any]:
    """Parse one schema file and check it is a draft 2020-12 schema with the expected ``$id``."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"contract {path}: cannot read it as JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise ConfigError(f"contract {path}: a schema must be a JSON object")
    draft = Draft202012Validator.META_SCHEMA["$id"]
    if schema.get("$schema") != draft:
        raise ConfigError(f"contract {path}: '$schema' must be {draft!r}")
    expected_id = f"{CONTRACT_BASE_URI}{path.relative_to(root).as_posix()}"
    if schema.get("$id") != expected_id:
        raise ConfigError(f"contract {path}: '$id' must be {expected_id!r}")
    if schema_certainly_valid(schema):
        return schema
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        raise ConfigError(
            f"contract {path}: not a valid draft 2020-12 schema at {where}: {exc.message}"
        ) from exc
    return schema


def _check_refs(path: Path, schema: Mapping[str, Any], registry: Registry[Any]) -> None:
    """Fail at load, not mid-validation, when a ``$ref`` points outside the contract set."""
    resolver = registry.resolver(base_uri=schema["$id"])
    for ref in _refs(schema):
        try:
            resolver.lookup(ref)
        except Unresolvable as exc:
            raise ConfigError(f"contract {path}: $ref {ref!r} cannot be resolved: {exc}") from exc


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _write_only_properties(node: Any) -> Iterator[str]:
    """Names of properties declared ``writeOnly``: secrets such as Refersion's password."""
    if isinstance(node, Mapping):
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            for key, subschema in properties.items():
                if isinstance(subschema, Mapping) and subschema.get("writeOnly") is True:
                    yield key
        for value in node.values():
            yield from _write_only_properties(value)
    elif isinstance(node, list):
        for item in node:
            yield from _write_only_properties(item)


def _format_checker() -> FormatChecker:
    """jsonschema's checker, with real checks for the formats the contracts use.

    Without optional extras jsonschema accepts any string containing "@" as an email and does
    not check "uri" at all.
    """
    checker = FormatChecker()
    checker.checks("email")(_is_email)
    checker.checks("uri")(_is_uri)
    return checker


def _is_email(instance: object) -> bool:
    # Syntax only, no DNS. The contracts are a third judge beside the mapping and the fake
    # Refersion, so they keep their own check (and cache) rather than share either one's.
    return not isinstance(instance, str) or _email_is_valid(instance)


@functools.lru_cache(maxsize=4096)
def _email_is_valid(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _is_uri(instance: object) -> bool:
    return not isinstance(instance, str) or _URI.fullmatch(instance) is not None


def _reading_order(error: ValidationError) -> tuple[int, tuple[tuple[int, int, str], ...], bool]:
    # Array indexes and property names never share a position, but keep the key total anyway.
    tokens = tuple((0, t, "") if isinstance(t, int) else (1, 0, str(t)) for t in error.path)
    return len(tokens), tokens, error.validator in WEAK_MATCHES


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _escape_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _field_label(path: Sequence[str | int]) -> str:
    if not path:
        return "the document"
    label = ""
    for token in path:
        label += f"[{token}]" if isinstance(token, int) else (f".{token}" if label else token)
    return f"'{label}'"


def _options(values: Sequence[Any]) -> str:
    if len(values) <= _MAX_LISTED_OPTIONS:
        return ", ".join(json.dumps(value) for value in values)
    return f"the {len(values)} allowed values"


def _schema_summary(schema: Any) -> str:
    if isinstance(schema, Mapping) and isinstance(schema.get("description"), str):
        return str(schema["description"])
    return f"the schema {_truncate(json.dumps(schema), _MAX_SHOWN)}"


def _unexpected_properties(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    allowed = schema.get("properties", {})
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    return [key for key in instance if key not in allowed]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
