"""``refersion-emulator send``: push payload files through the whole pipeline in-process."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from ..fixtures import Case, parse_cases
from ..trace_format import Style, format_trace
from .options import EXIT_FAILED, EXIT_OK, add_emulator_options, config_from_args

__all__ = ["HELP", "NAME", "add_arguments", "read_cases", "run"]

NAME = "send"
HELP = "push payload files through the whole pipeline"
_MAX_INPUT_BYTES = 50 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_emulator_options(parser)
    parser.add_argument("files", nargs="+", help="payload or fixture files; - reads stdin")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    return asyncio.run(_send(args, stdout))


async def _send(args: argparse.Namespace, stdout: IO[str]) -> int:
    from ..server.case_runner import run_case

    cases = [case for name in args.files for case in read_cases(name)]
    overrides: dict[str, Any] = {"port": 0, "retry_initial_backoff": 0.05}
    if args.retry_budget is None:
        # Keep an unreachable destination from holding the command for four hours.
        overrides["retry_budget"] = 5.0
    base = config_from_args(args, **overrides)
    results = [await run_case(case, base=base) for case in cases]
    passed = all(r.passed for r in results)
    if args.json:
        payload = {"passed": passed, "cases": [r.to_dict() for r in results]}
        print(json.dumps(payload, indent=2), file=stdout)
    else:
        style = Style(color=stdout.isatty())
        for result in results:
            _print_case(result.to_dict(), style, stdout)
    return EXIT_OK if passed else EXIT_FAILED


def read_cases(name: str) -> list[Case]:
    """The cases in file ``name`` (``-`` for stdin); :class:`InputError` names what is wrong."""
    if name == "-":
        data = sys.stdin.buffer.read(_MAX_INPUT_BYTES + 1)
        label = "<stdin>"
    else:
        path = Path(name)
        try:
            if path.is_dir():
                raise InputError(f"{name}: is a directory; expected a file")
            if path.stat().st_size > _MAX_INPUT_BYTES:
                raise InputError(f"{name}: larger than {_MAX_INPUT_BYTES // 2**20} MB")
            # Read at most the limit: a device or a growing file has no honest size.
            with path.open("rb") as file:
                data = file.read(_MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror})") from None
        label = name
    if len(data) > _MAX_INPUT_BYTES:
        raise InputError(f"{label}: larger than {_MAX_INPUT_BYTES // 2**20} MB")
    return parse_cases(label, data)


def _print_case(result: dict[str, Any], style: Style, out: IO[str]) -> None:
    title = result["file"] + (f" — {result['description']}" if result["description"] else "")
    print(style.bold(title), file=out)
    for index, event in enumerate(result["events"], start=1):
        for line in format_trace(event, index=index, style=style):
            print(line, file=out)
    if result["affiliates"]:
        print(f"  affiliates in the fake Refersion account: {len(result['affiliates'])}", file=out)
    verdict = style.good("PASS") if result["passed"] else style.bad("FAIL")
    print(f"{verdict} {result['file']}", file=out)
    for failure in result["failures"]:
        print(style.bad(f"  - {failure}"), file=out)
    print(file=out)
