"""Render journal traces for a person: hops in order, a field-lineage table, problems with fixes.

:func:`explain` turns one trace (``Trace.to_dict()``) into plain data — where each Refersion
field came from, and every rejection, warning, drop and contract violation with its code and a
one-line fix — for ``--json``; :func:`format_trace` prints the same for a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from emulator.journal.fixes import ASSUMPTION_WARNING_FIXES, WARNING_FIXES, fix_for_reason

__all__ = ["GOOD_OUTCOMES", "Style", "explain", "field_label", "format_trace"]

GOOD_OUTCOMES = frozenset(
    {"created", "already_exists", "deleted", "not_found", "delivered", "skipped"}
)
# Hops the destination adds while Segment's delivery attempt is on the wire: shown under it.
_DESTINATION_HOPS = frozenset({"receive", "auth", "mapping", "refersion", "answer"})
_VALUE_WIDTH = 32
_FIELD_WIDTH = 36


class Style:
    """ANSI colours on a terminal, nothing when piped."""

    def __init__(self, *, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def good(self, text: str) -> str:
        return self._wrap("32", text)

    def bad(self, text: str) -> str:
        return self._wrap("31", text)

    def warn(self, text: str) -> str:
        return self._wrap("33", text)

    def hint(self, text: str) -> str:
        return self._wrap("36", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def field_label(source: str) -> str:
    """A lineage source for people: ``/traits/address/zip`` → ``traits.address.zip``."""
    if source.startswith("settings:"):
        return f"(assumed {source.removeprefix('settings:')})"
    if not source.startswith("/"):
        return f"({source})"
    parts = [p.replace("~1", "/").replace("~0", "~") for p in source[1:].split("/")]
    return ".".join(parts)


def explain(trace: Mapping[str, Any]) -> dict[str, Any]:
    """What each Refersion field became and why, and every problem with its fix."""
    mapping = _last_hop(trace, "mapping")
    detail: Mapping[str, Any] = (mapping.get("detail") or {}) if mapping else {}
    lineage = [
        {
            "segment": field_label(str(entry.get("source", ""))),
            "pointer": entry.get("source"),
            "refersion": entry.get("target"),
            "rule": entry.get("rule"),
            "value": entry.get("value"),
        }
        for entry in detail.get("lineage", [])
    ]
    problems: list[dict[str, Any]] = []
    if detail.get("kind") == "rejection":
        problems.append(
            {
                "kind": "rejection",
                "code": detail.get("reason"),
                "message": detail.get("message"),
                "field": _label_or_none(detail.get("field")),
                "fix": detail.get("fix"),
            }
        )
    elif trace.get("outcome") not in GOOD_OUTCOMES and trace.get("reason"):
        problems.append(
            {
                "kind": str(trace.get("outcome")),
                "code": trace.get("reason"),
                "message": _last_failed_summary(trace),
                "field": None,
                "fix": fix_for_reason(str(trace.get("reason"))),
            }
        )
    for warning in detail.get("warnings", []):
        problems.append(
            {
                "kind": "warning",
                "code": warning.get("code"),
                "message": warning.get("message"),
                "field": _label_or_none(warning.get("field")),
                "fix": WARNING_FIXES.get(str(warning.get("code"))),
            }
        )
    for note in trace.get("assumptions", []):
        # A note marked as a warning (another user's affiliate deleted, a string replaced) is
        # a problem to read.
        if isinstance(note, dict) and note.get("warning"):
            problems.append(
                {
                    "kind": "warning",
                    "code": f"assumption {note.get('id')}={note.get('variant')}",
                    "message": note.get("note"),
                    "field": None,
                    "fix": ASSUMPTION_WARNING_FIXES.get(
                        str(note.get("id")),
                        f"run with --assume {note.get('id')}=… to see every variant "
                        "(refersion-emulator assumptions)",
                    ),
                }
            )
    for violation in trace.get("violations", []):
        problems.append(
            {
                "kind": "violation",
                "code": violation.get("contract"),
                "message": f"{violation.get('pointer') or '/'} ({violation.get('rule')}): "
                f"{violation.get('message')}",
                "field": None,
                "fix": None,
            }
        )
    return {"lineage": lineage, "problems": problems}


def format_trace(trace: Mapping[str, Any], *, index: int, style: Style) -> list[str]:
    """Lines describing one trace (as produced by ``Trace.to_dict``)."""
    head = (
        f"event {index}  {trace.get('type') or '?'}  userId={trace.get('userId')}  "
        f"messageId={trace.get('messageId')}"
    )
    lines = [style.bold(head)]
    in_delivery = False
    for hop in trace.get("hops", []):
        name = str(hop.get("name"))
        in_delivery = (in_delivery and name in _DESTINATION_HOPS) or name == "delivery"
        indent = "    " if in_delivery and name != "delivery" else "  "
        mark = {True: style.good("✓"), False: style.bad("✗"), None: style.dim("·")}[hop.get("ok")]
        lines.append(f"{indent}{mark} {name:<10} {_summary(hop)}")
    explained = explain(trace)
    lines.extend(_lineage_table(explained["lineage"], style))
    lines.extend(_problem_lines(explained["problems"], style))
    lines.extend(_assumption_lines(trace.get("assumptions", []), style))
    outcome = str(trace.get("outcome"))
    shown = style.good(outcome) if outcome in GOOD_OUTCOMES else style.bad(outcome)
    reason = f" ({trace['reason']})" if trace.get("reason") else ""
    lines.append(f"  outcome: {shown}{reason}")
    if not trace.get("violations"):
        lines.append(f"  contracts: {style.good('no violations')}")
    return lines


def _summary(hop: Mapping[str, Any]) -> str:
    detail = hop.get("detail") or {}
    if hop.get("name") == "mapping" and detail.get("kind") == "rejection":
        # The sentence and its fix follow in the problems; the hop line names the reason.
        return f"rejected: {detail.get('reason')}"
    return str(hop.get("summary"))


def _lineage_table(rows: list[dict[str, Any]], style: Style) -> list[str]:
    if not rows:
        return []
    cells = [
        (_clip(str(r["segment"]), _FIELD_WIDTH), str(r["refersion"]), _value(r["value"]), r["rule"])
        for r in rows
    ]
    header = ("Segment field", "Refersion field", "value", "rule")
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(3)]
    lines = [style.bold("  fields")]
    for number, cell in enumerate([header, *cells]):
        source, target, value, rule = cell
        text = f"    {source:<{widths[0]}}  → {target:<{widths[1]}}  {value:<{widths[2]}}  {rule}"
        lines.append(style.dim(text) if number == 0 else text)
    return lines


def _problem_lines(problems: list[dict[str, Any]], style: Style) -> list[str]:
    lines = []
    for problem in problems:
        kind, code = problem["kind"], problem["code"]
        text = f"{kind} {code}: {problem['message']}"
        if kind == "warning":
            lines.append("  " + style.warn(f"! {text}"))
        else:
            lines.append("  " + style.bad(f"✗ {text}"))
        if problem["fix"]:
            lines.append("      " + style.hint(f"fix: {problem['fix']}"))
    return lines


def _assumption_lines(notes: Any, style: Style) -> list[str]:
    """``assumed`` and one line per registry assumption the event relied on."""
    if not isinstance(notes, list) or not notes:
        return []
    lines = [style.bold("  assumed") + style.dim("  (docs/assumptions.md; switch with --assume)")]
    for note in notes:
        if not isinstance(note, dict):
            continue
        text = f"{note.get('id')}={note.get('variant')}: {note.get('note')}"
        if note.get("alternative"):
            text += style.dim(f"; otherwise {note['alternative']}")
        lines.append("    " + (style.warn(f"! {text}") if note.get("warning") else text))
    return lines


def _value(value: Any) -> str:
    if isinstance(value, str) and value.startswith("<generated"):
        return value
    return _clip(json.dumps(value, ensure_ascii=False), _VALUE_WIDTH)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _label_or_none(pointer: Any) -> str | None:
    return field_label(pointer) if isinstance(pointer, str) and pointer else None


def _last_hop(trace: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    hops = [hop for hop in trace.get("hops", []) if hop.get("name") == name]
    return hops[-1] if hops else None


def _last_failed_summary(trace: Mapping[str, Any]) -> str | None:
    failed = [hop for hop in trace.get("hops", []) if hop.get("ok") is False]
    return str(failed[-1].get("summary")) if failed else None
