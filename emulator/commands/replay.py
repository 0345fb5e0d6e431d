"""``refersion-emulator replay``: run a corpus of fixtures and compare with their expectations."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from emulator.cases.payloads import Case
from emulator.cases.writer import observed_expectation, with_expect
from emulator.commands.case_output import case_json
from emulator.commands.options import (
    EXIT_FAILED,
    EXIT_OK,
    add_emulator_options,
    in_process_config,
    mapping_from_args,
)
from emulator.commands.send import read_cases
from emulator.errors import InputError
from emulator.journal.rendering import Style
from emulator.junit import JUnitCase, junit_xml

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "replay"
HELP = "run a corpus of fixtures and compare with their expectations"
_SUITE = "refersion-emulator replay"
_OUTCOMES_WIDTH = 28
_STATUSES = ("PASS", "FAIL", "UPDATED")


@dataclass(slots=True)
class _Row:
    label: str
    path: Path
    status: str  # PASS, FAIL or UPDATED
    seconds: float
    failures: list[str]
    outcomes: list[str]
    report: dict[str, Any]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_emulator_options(parser)
    parser.add_argument(
        "paths", nargs="+", help="fixture directories (searched for *.json) or files"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--junit-xml", metavar="PATH", help="also write a JUnit XML report")
    parser.add_argument(
        "--update",
        action="store_true",
        help="rewrite the expectations of failing fixtures to what happened, showing the diff",
    )


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    return asyncio.run(_replay(args, stdout))


async def _replay(args: argparse.Namespace, stdout: IO[str]) -> int:
    from emulator.server.runners.case_runner import run_case

    fixtures = [(label, path, _fixture_case(path)) for label, path in _fixture_files(args.paths)]
    base = in_process_config(args)
    mapping = mapping_from_args(args)
    style = Style(color=stdout.isatty())
    rows: list[_Row] = []
    for label, path, case in fixtures:
        started = time.perf_counter()
        result = await run_case(case, base=base, mapping=mapping)
        seconds = time.perf_counter() - started
        status = "PASS" if result.passed else "FAIL"
        stale = not result.passed or case.expect is None
        if args.update and stale and len(result.events) == len(case.events):
            diff = _update(path, result.events, result.affiliates)
            if not args.json:
                _print_diff(diff, style, stdout)
            status = "UPDATED"
        outcomes = [str(event.get("outcome")) for event in result.events]
        rows.append(
            _Row(label, path, status, seconds, result.failures, outcomes, case_json(result))
        )
    if args.junit_xml:
        _write_junit(Path(args.junit_xml), rows)
    failed = sum(1 for row in rows if row.status == "FAIL")
    if args.json:
        print(json.dumps(_json_report(rows), indent=2), file=stdout)
    else:
        _print_table(rows, style, stdout)
    return EXIT_FAILED if failed else EXIT_OK


def _fixture_files(paths: list[str]) -> list[tuple[str, Path]]:
    """``(label, path)`` of every fixture; labels are relative to the directory given."""
    found: list[tuple[str, Path]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not files:
                raise InputError(f"{name}: no fixtures (*.json) in this directory")
            found.extend((str(p.relative_to(path)), p) for p in files)
        elif path.is_file():
            found.append((name, path))
        else:
            raise InputError(f"{name}: no such file or directory")
    return found


def _fixture_case(path: Path) -> Case:
    [case] = read_cases(str(path))
    if case.format != "fixture":
        raise InputError(
            f"{path}: not a fixture (no events); save a payload as one with send --save-fixture"
        )
    return case


def _update(path: Path, events: list[dict[str, Any]], affiliates: list[dict[str, Any]]) -> str:
    """Rewrite the fixture's expectations to what happened; return the unified diff."""
    old = path.read_text(encoding="utf-8")
    previous = json.loads(old).get("expect")
    expect = observed_expectation(
        events, affiliates, previous=previous if isinstance(previous, dict) else None
    )
    new = with_expect(str(path), old, expect)
    try:
        path.write_text(new, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path} (before)",
        tofile=f"{path} (updated)",
    )
    return "".join(lines)


def _print_diff(diff: str, style: Style, out: IO[str]) -> None:
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            line = style.good(line)
        elif line.startswith("-") and not line.startswith("---"):
            line = style.bad(line)
        print(line, file=out)


def _print_table(rows: list[_Row], style: Style, out: IO[str]) -> None:
    width = max(len(row.label) for row in rows)
    for row in rows:
        mark = {"PASS": style.good, "FAIL": style.bad, "UPDATED": style.warn}[row.status]
        outcomes = ", ".join(row.outcomes)
        if len(outcomes) > _OUTCOMES_WIDTH:
            outcomes = outcomes[: _OUTCOMES_WIDTH - 1] + "…"
        line = f"{mark(f'{row.status:<7}')} {row.label:<{width}}  {outcomes:<{_OUTCOMES_WIDTH}}"
        pinned = row.report.get("assumptions")
        if pinned:
            line += style.dim(" pins " + ", ".join(f"{k}={v}" for k, v in pinned.items()))
        if row.status != "PASS" and row.failures:
            more = f" (+{len(row.failures) - 1} more)" if len(row.failures) > 1 else ""
            was = "was: " if row.status == "UPDATED" else ""
            line += "  " + style.bad(was + row.failures[0]) + more
        print(line.rstrip(), file=out)
    relied = _assumptions_relied_on(rows)
    if relied:
        # Most relied on first, ties by name: the same run prints the same line every time.
        ordered = sorted(relied.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{name} ×{count}" for name, count in ordered)
        print(style.dim(f"assumed (docs/assumptions.md): {shown}"), file=out)
    counts = {status: sum(1 for r in rows if r.status == status) for status in _STATUSES}
    summary = f"{len(rows)} fixtures: {counts['PASS']} passed, {counts['FAIL']} failed"
    if counts["UPDATED"]:
        summary += f", {counts['UPDATED']} updated"
    seconds = sum(row.seconds for row in rows)
    print(f"{summary} ({seconds:.2f} s)", file=out)


def _assumptions_relied_on(rows: list[_Row]) -> Counter[str]:
    """How many events relied on each ``id=variant``, over every fixture replayed."""
    counts: Counter[str] = Counter()
    for row in rows:
        events = row.report.get("events", [])
        for event in events:
            used = {f"{n.get('id')}={n.get('variant')}" for n in event.get("assumptions", [])}
            counts.update(used)
    return counts


def _json_report(rows: list[_Row]) -> dict[str, Any]:
    words = {"PASS": "passed", "FAIL": "failed", "UPDATED": "updated"}
    counts = {words[status]: sum(1 for r in rows if r.status == status) for status in _STATUSES}
    return {
        "passed": counts["failed"] == 0,
        "summary": {"total": len(rows), **counts},
        "fixtures": [
            {
                "fixture": row.label,
                "path": str(row.path),
                "status": row.status,
                "seconds": round(row.seconds, 3),
                "failures": row.failures,
                "outcomes": row.outcomes,
                "case": row.report,
            }
            for row in rows
        ],
    }


def _write_junit(path: Path, rows: list[_Row]) -> None:
    cases = [
        JUnitCase(
            name=row.label,
            seconds=row.seconds,
            failure="\n".join(row.failures) if row.status == "FAIL" else None,
            classname="fixtures",
        )
        for row in rows
    ]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(junit_xml(_SUITE, cases), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the JUnit report ({exc.strerror})") from None
