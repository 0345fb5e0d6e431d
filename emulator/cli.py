"""The ``refersion-emulator`` command line.

``main(argv)`` parses; each command (a module in :mod:`emulator.commands`) writes to the
streams it is given and returns the exit code: 0 success, 1 a contract or expectation failed,
2 a usage or input error with one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import IO

from emulator.commands import assumptions, check, engage, generate, replay, send, serve
from emulator.commands.options import EXIT_USAGE
from emulator.errors import EmulatorError, InputError

__all__ = ["main", "run"]

COMMANDS: tuple[ModuleType, ...] = (serve, send, replay, check, generate, engage, assumptions)
DESCRIPTION = (
    "A local testing and contract emulator for the Segment → Refersion destination: a Segment "
    "side, the destination's mapping and a fake Refersion API v2, every hop journaled and "
    "checked against the contracts. 'refersion-emulator COMMAND --help' describes a command."
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]  # raises instead of exiting
        raise InputError(f"{self.prog}: {message}")


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, which the build reads from
    ``emulator/version.py`` (the one place it is written); looked up only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import version

        print(f"{parser.prog} {version('segment-refersion-emulator')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="refersion-emulator", description=DESCRIPTION)
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        # A command's own description, when it sets none, is its one-line help as a sentence.
        description = f"{command.HELP[0].upper()}{command.HELP[1:]}."
        command.add_arguments(
            commands.add_parser(command.NAME, help=command.HELP, description=description)
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv, stdout=sys.stdout, stderr=sys.stderr)
    except BrokenPipeError:
        # The reader (`| head`) has all it wanted. Point stdout at /dev/null so the flush at
        # exit cannot raise again, and leave without a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def run(argv: Sequence[str], *, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        args = build_parser().parse_args(list(argv))
        command = next(c for c in COMMANDS if args.command == c.NAME)
        code: int = command.run(args, stdout=stdout, stderr=stderr)
    except EmulatorError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE
    return code
