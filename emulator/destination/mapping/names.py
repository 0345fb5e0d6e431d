"""Names: firstName/lastName, first_name/last_name, or ``name`` split at its first whitespace."""

from __future__ import annotations

from emulator.destination.mapping.findings import Problem, WarningLog
from emulator.destination.mapping.model import LineageEntry
from emulator.destination.mapping.values import json_type, quote, stripped_text

__all__ = ["NAME_KEYS", "resolve_names"]

NAME_KEYS = ("firstName", "lastName", "first_name", "last_name", "name")


def resolve_names(
    traits: dict[str, object], findings: WarningLog
) -> tuple[LineageEntry, LineageEntry] | Problem:
    """The ``first_name`` and ``last_name`` entries, or why there cannot be both.

    A complete first+last pair wins over ``name``; ``name`` fills in when the pair is
    incomplete and splits into two parts, or supplies the first name next to a lone last name.
    """
    for key in NAME_KEYS:
        value = traits.get(key)
        if value is not None and not isinstance(value, str):
            return Problem(
                "name_not_string",
                f"traits.{key} must be a string, not {json_type(value)}.",
                f"send traits.{key} as a string",
                f"/traits/{key}",
            )
    first = _pick(traits, "firstName", "first_name", "first_name", findings)
    last = _pick(traits, "lastName", "last_name", "last_name", findings)
    if first is not None and last is not None:
        return first, last
    name = stripped_text(traits.get("name"))
    at_last = findings.variant("name-split") == "last-whitespace"
    parts = _split(name, at_last=at_last) if name is not None else []
    if len(parts) == 2 and name is not None:
        because = "" if first is None and last is None else " (the first/last pair is incomplete)"
        where = "last" if at_last else "first"
        other = _split(name, at_last=not at_last)
        findings.assume(
            "name-split",
            f"name split at the {where} whitespace: {quote(parts[0])} + {quote(parts[1])}",
            None
            if other == parts
            else f"the other split gives {quote(other[0])} + {quote(other[1])}",
        )
        return (
            LineageEntry(
                "/traits/name",
                "first_name",
                f"name split at {where} whitespace → first part{because}",
                parts[0],
            ),
            LineageEntry(
                "/traits/name",
                "last_name",
                f"name split at {where} whitespace → the rest{because}",
                parts[1],
            ),
        )
    if len(parts) == 1 and first is None and last is not None:
        return LineageEntry(
            "/traits/name", "first_name", "one-word name → first_name", parts[0]
        ), last
    if first is not None:
        missing = "/traits/lastName" if first.source == "/traits/firstName" else "/traits/last_name"
        return Problem(
            "name_incomplete",
            f"{_describe(first.source)} {quote(first.value)} has no last name: "
            f"{_describe(missing)} is missing and traits.name is not two words.",
            f"send {missing.removeprefix('/traits/')} or a two-word name",
            missing,
        )
    if last is not None:
        missing = "/traits/firstName" if last.source == "/traits/lastName" else "/traits/first_name"
        return Problem(
            "name_incomplete",
            f"{_describe(last.source)} {quote(last.value)} has no first name: "
            f"{_describe(missing)} and traits.name are missing.",
            f"send {missing.removeprefix('/traits/')} or a two-word name",
            missing,
        )
    if name is not None:
        return Problem(
            "name_incomplete",
            f"traits.name {quote(name)} is one word, and Refersion needs a last name too.",
            "send lastName or a two-word name",
            "/traits/name",
        )
    return Problem(
        "missing_name",
        "traits carries no name: Refersion needs name, or firstName and lastName.",
        "add traits.name, or traits.firstName and traits.lastName",
        "/traits/name",
    )


def _pick(
    traits: dict[str, object], camel: str, snake: str, target: str, findings: WarningLog
) -> LineageEntry | None:
    camel_value = stripped_text(traits.get(camel))
    snake_value = stripped_text(traits.get(snake))
    snake_wins = findings.variant("trait-case") == "snake-case-wins"
    if (
        camel_value is not None
        and snake_value is not None
        and snake_value != camel_value
        and snake_wins
    ):
        findings.warn(
            "conflicting_traits",
            f"traits.{camel} {quote(camel_value)} and traits.{snake} {quote(snake_value)} "
            f"differ; traits.{snake} is sent as {target}.",
            f"/traits/{camel}",
        )
        findings.assume(
            "trait-case", f"traits.{snake} wins over traits.{camel}", "camelCase would win"
        )
        rule = f"{snake} → {target} (snake_case wins over {camel})"
        return LineageEntry(f"/traits/{snake}", target, rule, snake_value)
    if camel_value is not None:
        rule = f"{camel} → {target}"
        if snake_value is not None and snake_value != camel_value:
            findings.warn(
                "conflicting_traits",
                f"traits.{camel} {quote(camel_value)} and traits.{snake} {quote(snake_value)} "
                f"differ; traits.{camel} is sent as {target}.",
                f"/traits/{snake}",
            )
            findings.assume(
                "trait-case", f"traits.{camel} wins over traits.{snake}", "snake_case would win"
            )
            rule += f" (camelCase wins over {snake})"
        return LineageEntry(f"/traits/{camel}", target, rule, camel_value)
    if snake_value is not None:
        return LineageEntry(f"/traits/{snake}", target, f"{snake} → {target}", snake_value)
    return None


def _split(name: str, *, at_last: bool) -> list[str]:
    return name.rsplit(maxsplit=1) if at_last else name.split(maxsplit=1)


def _describe(pointer: str) -> str:
    return "traits." + pointer.removeprefix("/traits/")
