"""Compiled contract checks (jsonschema-rs) that only ever confirm what jsonschema would say.

jsonschema stays the reference: it produces every
:class:`~emulator.contract_checks.contract_set.Violation`.
This fast path answers one question, "does this instance certainly satisfy the contract?",
about 100 times faster, so the valid exchanges of the hot path skip the reference. Anything
it cannot vouch for goes to the reference: a "no", a value JSON cannot carry (tuples, NaN,
integers beyond 64 bits, lone surrogates, non-string keys), or any error it raises. Formats
are checked by the reference's own format checker, so both agree on what an email is.
tests/test_contract_fast_path.py checks that both give the same verdict on every fixture,
every exchange of the fixture corpus, and generated messages for every contract.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker

__all__ = ["FastPath", "is_plain_json", "schema_certainly_valid"]

# Format verdicts are pure functions of the string; an email is checked at several hops.
_FORMAT_CACHE = 4096
_INT64 = range(-(2**63), 2**63)
_DRAFT = "draft 2020-12"


class FastPath:
    """One compiled validator per contract; :meth:`certainly_valid` is the only question."""

    __slots__ = ("_validators",)

    def __init__(
        self, schemas: Mapping[str, Mapping[str, Any]], *, format_checker: FormatChecker
    ) -> None:
        # The bindings take plain dicts.
        plain = {name: dict(schema) for name, schema in schemas.items()}
        registry = jsonschema_rs.Registry([(schema["$id"], schema) for schema in plain.values()])
        # Every format the reference checks gets the reference's check; any other format a
        # schema names is one the reference ignores, and so does the callback.
        named = {*format_checker.checkers, *_formats(plain)}
        formats = {name: _format_check(format_checker, name) for name in named}
        self._validators = {
            name: jsonschema_rs.validator_for(
                schema, registry=registry, validate_formats=True, formats=formats
            )
            for name, schema in plain.items()
        }

    def certainly_valid(self, name: str, instance: Any) -> bool:
        """True only when ``instance`` satisfies contract ``name``; False means "ask jsonschema"."""
        if not is_plain_json(instance):
            return False
        try:
            return bool(self._validators[name].is_valid(instance))
        except Exception:  # noqa: BLE001  # whatever the fast path trips on, the reference decides
            return False


def schema_certainly_valid(schema: Any) -> bool:
    """True only when ``Draft202012Validator.check_schema(schema)`` would pass.

    The meta-schema is checked with the formats ``check_schema`` checks (``regex`` with
    Python's ``re``), so a pattern Python cannot compile is never vouched for.
    """
    return _meta_schema().certainly_valid(_DRAFT, schema)


@functools.cache
def _meta_schema() -> FastPath:
    return FastPath(
        {_DRAFT: Draft202012Validator.META_SCHEMA},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def is_plain_json(value: Any) -> bool:
    """Whether ``value`` is exactly what JSON text can carry, with nothing to reinterpret.

    Exact types only (no subclasses, no tuples), string keys, finite floats, 64-bit integers,
    and strings that are valid Unicode (a lone surrogate from ``"\\ud800"`` is not), so the
    compiled validator sees the same values jsonschema does.
    """
    # Containers are expanded in place and only nested ones are stacked: this runs on every
    # exchange, and most values are strings directly inside an object.
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not (_keys_are_plain(item) and _stack_children(item.values(), stack)):
                return False
        elif kind is list:
            if not _stack_children(item, stack):
                return False
        elif kind is str:
            if not (item.isascii() or _is_unicode(item)):
                return False
        elif not _is_plain_scalar(item, kind):
            return False
    return True


def _keys_are_plain(item: dict[Any, Any]) -> bool:
    # A loop, not all() over a generator: this runs for every object of every exchange, and
    # the generator doubled the cost of the whole check.
    for key in item:
        if type(key) is not str or not (key.isascii() or _is_unicode(key)):
            return False
    return True


def _stack_children(children: Iterable[Any], stack: list[Any]) -> bool:
    """Check the scalar children in place and push the containers; False at the first bad one."""
    for child in children:
        kind = type(child)
        if kind is str:
            if not (child.isascii() or _is_unicode(child)):
                return False
        elif kind is dict or kind is list:
            stack.append(child)
        elif not _is_plain_scalar(child, kind):
            return False
    return True


def _is_plain_scalar(value: Any, kind: type) -> bool:
    if kind is int:
        return value in _INT64
    if kind is float:
        return math.isfinite(value)
    return kind is bool or value is None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _format_check(checker: FormatChecker, name: str) -> Callable[[str], bool]:
    @functools.lru_cache(maxsize=_FORMAT_CACHE)
    def check(value: str) -> bool:
        return checker.conforms(value, name)

    return check


def _formats(node: Any) -> Iterator[str]:
    """Every ``format`` named anywhere in the schemas."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "format" and isinstance(value, str):
                yield value
            else:
                yield from _formats(value)
    elif isinstance(node, list):
        for item in node:
            yield from _formats(item)
