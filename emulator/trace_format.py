"""Render journal traces for a person: one line per hop, outcome, violations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Style", "format_trace"]

_GOOD = {"created", "already_exists", "deleted", "not_found", "delivered", "skipped"}


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

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def format_trace(trace: Mapping[str, Any], *, index: int, style: Style) -> list[str]:
    """Lines describing one trace (as produced by ``Trace.to_dict``)."""
    head = (
        f"event {index}  {trace.get('type') or '?'}  userId={trace.get('userId')}  "
        f"messageId={trace.get('messageId')}"
    )
    lines = [style.bold(head)]
    for hop in trace.get("hops", []):
        mark = {True: style.good("✓"), False: style.bad("✗"), None: style.dim("·")}[hop["ok"]]
        lines.append(f"  {mark} {hop['name']:<10} {hop['summary']}")
        lines.extend(_hop_details(hop, style))
    outcome = str(trace.get("outcome"))
    shown = style.good(outcome) if outcome in _GOOD else style.bad(outcome)
    reason = f" ({trace['reason']})" if trace.get("reason") else ""
    lines.append(f"  outcome: {shown}{reason}")
    violations = trace.get("violations", [])
    if not violations:
        lines.append(f"  contracts: {style.good('no violations')}")
    for v in violations:
        pointer = v["pointer"] or "/"
        lines.append(
            style.bad(f"  violation: {v['contract']} at {pointer} ({v['rule']}): {v['message']}")
        )
    return lines


def _hop_details(hop: Mapping[str, Any], style: Style) -> list[str]:
    detail = hop.get("detail") or {}
    lines = []
    for warning in detail.get("warnings", []):
        lines.append(style.dim(f"      warning {warning['code']}: {warning['message']}"))
    if hop["name"] == "mapping" and detail.get("fix"):
        lines.append(f"      fix: {detail['fix']}")
    for entry in detail.get("lineage", []):
        lines.append(
            style.dim(
                f"      {entry['source'] or '(settings)'} → {entry['target']}  [{entry['rule']}]"
            )
        )
    return lines
