"""The ``refersion-emulator`` command line.

``main(argv)`` parses; each command (a module in :mod:`emulator.commands`) writes to the
streams it is given and returns the exit code: 0 success, 1 a contract or expectation failed,
2 a usage or input error with one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import IO

from emulator.commands.options import EXIT_USAGE
from emulator.errors import EmulatorError, InputError

__all__ = ["main", "run"]

# Imported when used: ``serve`` need not load Hypothesis (``check``, ``generate``), which
# is a quarter of its start-up (BENCHMARKS.md).
COMMANDS = ("serve", "send", "replay", "check", "generate", "engage", "assumptions")
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


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"emulator.commands.{name}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with ``only`` that one command (it parses the same)."""
    parser = _Parser(prog="refersion-emulator", description=DESCRIPTION)
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        command = _command(name)
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
        named = argv[0] if argv and argv[0] in COMMANDS else None
        args = build_parser(named).parse_args(list(argv))
        code: int = _command(args.command).run(args, stdout=stdout, stderr=stderr)
    except EmulatorError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE
    return code
