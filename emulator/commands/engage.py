"""``refersion-emulator engage``: run an Engage audience's syncs to Refersion, in-process."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import IO, Any

from emulator.commands.options import (
    EXIT_FAILED,
    EXIT_OK,
    add_emulator_options,
    in_process_config,
    mapping_from_args,
)
from emulator.errors import InputError
from emulator.journal.rendering import Style, format_trace
from emulator.segment.engage.plan import EngagePlan, parse_plan

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "engage"
HELP = "simulate an Engage audience's initial and incremental syncs to Refersion"
_MAX_INPUT_BYTES = 50 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_emulator_options(parser)
    parser.add_argument("file", help="plan file: audience definition and snapshots; - reads stdin")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    plan = _read_plan(args.file)
    return asyncio.run(_engage(args, plan, stdout))


async def _engage(args: argparse.Namespace, plan: EngagePlan, stdout: IO[str]) -> int:
    from emulator.server.runners.engage_runner import run_plan

    report = await run_plan(plan, base=in_process_config(args), mapping=mapping_from_args(args))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2), file=stdout)
    else:
        _print_report(report.to_dict(), Style(color=stdout.isatty()), stdout)
    return EXIT_OK if report.passed else EXIT_FAILED


def _read_plan(name: str) -> EngagePlan:
    if name == "-":
        data = sys.stdin.buffer.read(_MAX_INPUT_BYTES + 1)
    else:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror})") from None
    if len(data) > _MAX_INPUT_BYTES:
        raise InputError(f"{name}: larger than {_MAX_INPUT_BYTES // 2**20} MB")
    return parse_plan("<stdin>" if name == "-" else name, data)


def _print_report(report: dict[str, Any], style: Style, out: IO[str]) -> None:
    audience = report["audience"]
    print(
        style.bold(
            f"{audience['computationClass']} {audience['key']} ({audience['name']!r}, "
            f"{audience['computationId']}, space {audience['spaceId']})"
        ),
        file=out,
    )
    number = 0
    for sync in report["syncs"]:
        info = sync["sync"]
        changes = ", ".join(
            f"{c['change']} {c['userId'] or c['anonymousId']}" for c in info["changes"]
        )
        print(
            style.bold(
                f"sync {info['sync']} ({info['kind']}) at {info['at']}: "
                f"{info['messages']} identify call(s)" + (f" — {changes}" if changes else "")
            ),
            file=out,
        )
        for event in sync["events"]:
            number += 1
            for line in format_trace(event, index=number, style=style):
                print(f"  {line}", file=out)
    print(f"affiliates in the fake Refersion account: {len(report['affiliates'])}", file=out)
    verdict = style.good("PASS") if report["passed"] else style.bad("FAIL")
    print(f"{verdict} {report['file']}", file=out)
    for failure in report["failures"]:
        print(style.bad(f"  - {failure}"), file=out)
