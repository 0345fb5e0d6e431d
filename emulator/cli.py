"""The ``refersion-emulator`` command line.

``main(argv)`` parses; each command (a module in :mod:`emulator.commands`) writes to the
streams it is given and returns the exit code: 0 success, 1 a contract or expectation failed,
2 a usage or input error with one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import IO

from emulator.commands import assumptions, check, engage, generate, replay, send, serve
from emulator.commands.options import EXIT_USAGE
from emulator.errors import EmulatorError, InputError

__all__ = ["main", "run"]

COMMANDS: tuple[ModuleType, ...] = (serve, send, replay, check, generate, engage, assumptions)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]  # raises instead of exiting
        raise InputError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="refersion-emulator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.add_arguments(commands.add_parser(command.NAME, help=command.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv, stdout=sys.stdout, stderr=sys.stderr)


def run(argv: Sequence[str], *, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        args = build_parser().parse_args(list(argv))
        command = next(c for c in COMMANDS if args.command == c.NAME)
        code: int = command.run(args, stdout=stdout, stderr=stderr)
    except EmulatorError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE
    return code
