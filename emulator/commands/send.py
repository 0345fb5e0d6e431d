"""``refersion-emulator send``: push payload files through the whole pipeline in-process."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import secrets
import sys
from pathlib import Path
from typing import IO, Any

from emulator.cases.payloads import Case, parse_cases
from emulator.cases.redaction import Redactor
from emulator.cases.saving import fixture_from_run, saved_message, to_save, write_fixture
from emulator.commands.case_output import case_json, print_case
from emulator.commands.options import (
    EXIT_FAILED,
    EXIT_OK,
    add_emulator_options,
    in_process_config,
    mapping_from_args,
)
from emulator.config import EmulatorConfig
from emulator.errors import InputError
from emulator.journal.reconcile import reconcile_events
from emulator.journal.rendering import Style

__all__ = ["HELP", "NAME", "add_arguments", "read_cases", "run"]

NAME = "send"
HELP = "push payload files through the whole pipeline"
_MAX_INPUT_BYTES = 50 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_emulator_options(parser)
    parser.add_argument("files", nargs="+", help="payload or fixture files; - reads stdin")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--save-fixture",
        metavar="PATH",
        help="save the payload as a fixture expecting what happened (personal data redacted)",
    )
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="with --save-fixture: keep emails, names, addresses, phones, IPs and user ids",
    )


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    return asyncio.run(_send(args, stdout, stderr))


async def _send(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from emulator.server.runners.case_runner import run_case

    cases = [case for name in args.files for case in read_cases(name)]
    if args.save_fixture is not None:
        if len(cases) != 1:
            raise InputError(f"--save-fixture takes one payload file, got {len(cases)}")
        if Path(args.save_fixture).exists():
            raise InputError(f"{args.save_fixture}: already exists; choose a new path")
    elif args.no_redact:
        raise InputError("--no-redact only applies with --save-fixture")
    base = in_process_config(args)
    mapping = mapping_from_args(args)
    results = [await run_case(case, base=base, mapping=mapping) for case in cases]
    passed = all(r.passed for r in results)
    reconciliation = reconcile_events(event for r in results for event in r.events)
    if args.json:
        payload = {
            "passed": passed,
            "cases": [case_json(r) for r in results],
            "reconciliation": reconciliation.to_dict(),
        }
        print(json.dumps(payload, indent=2), file=stdout)
    else:
        style = Style(color=stdout.isatty())
        for result in results:
            print_case(result, style, stdout)
        print(f"reconciliation: {reconciliation.equation()}", file=stdout)
    if args.save_fixture is not None:
        saved = await _save_fixture(args, cases[0], base, results[0].events)
        print(saved, file=stderr if args.json else stdout)
    return EXIT_OK if passed else EXIT_FAILED


async def _save_fixture(
    args: argparse.Namespace, case: Case, base: EmulatorConfig, observed: list[dict[str, Any]]
) -> str:
    """Write the fixture; return the line to print about it."""
    from emulator.server.runners.case_runner import run_case

    redactor = None if args.no_redact else Redactor(seed=secrets.randbits(64))
    saved = to_save(case, redactor)
    # The expectation comes from running what is saved, so the fixture passes as written.
    rerun = await run_case(
        dataclasses.replace(saved, expect=None), base=base, mapping=mapping_from_args(args)
    )
    fixture = fixture_from_run(
        case,
        saved,
        destination=base.destination,
        # The variants the outcome was observed under, so replay judges it under the same.
        assumptions={**base.assumptions.chosen, **case.assumptions},
        observed=observed,
        rerun_events=rerun.events,
        rerun_affiliates=rerun.affiliates,
        redacted=redactor is not None,
    )
    path = Path(args.save_fixture)
    write_fixture(path, fixture)
    return saved_message(path, redactor)


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
