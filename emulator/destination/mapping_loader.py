"""Load a user's mapping from a ``package.module:callable`` spec (``--mapping``, pytest plugin)."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from typing import Any, cast

from emulator.destination.mapping import Mapping
from emulator.errors import InputError

__all__ = ["load_mapping"]

_SPEC = re.compile(r"(?P<module>[^\W\d]\w*(?:\.[^\W\d]\w*)*):(?P<attr>[^\W\d]\w*(?:\.[^\W\d]\w*)*)")


def load_mapping(spec: str, *, search_path: str | None = None) -> Mapping:
    """Import ``module:attribute`` and check it can be called as ``fn(message, settings=…)``.

    ``search_path`` (the current directory, for the CLI) is put first on ``sys.path`` so a
    module next to the user's files imports as it would with ``python -m``. Raises
    :class:`~emulator.errors.InputError` naming the spec and the problem.
    """
    match = _SPEC.fullmatch(spec.strip())
    if match is None:
        raise InputError(
            f"mapping {spec!r}: expected package.module:callable, e.g. myteam.mapping:map_message"
        )
    module_name, attribute = match["module"], match["attr"]
    if search_path is not None and search_path not in sys.path:
        sys.path.insert(0, search_path)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InputError(f"mapping {spec!r}: cannot import {module_name!r} ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - any error in the user's module is reported as input
        raise InputError(
            f"mapping {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    target: Any = module
    owner = module_name
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise InputError(f"mapping {spec!r}: {owner!r} has no attribute {part!r}")
        target = getattr(target, part)
        owner = f"{owner}.{part}"
    if not callable(target):
        raise InputError(
            f"mapping {spec!r}: {attribute!r} is a {type(target).__name__}, not a callable"
        )
    _check_signature(spec, target)
    return cast(Mapping, target)


def _check_signature(spec: str, target: Any) -> None:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return  # builtins and some C callables have no signature to check
    try:
        signature.bind(object(), settings=object())
    except TypeError as exc:
        raise InputError(
            f"mapping {spec!r}: cannot be called as fn(message, *, settings) ({exc})"
        ) from None
