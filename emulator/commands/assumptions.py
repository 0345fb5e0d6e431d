"""``refersion-emulator assumptions``: the open points, their variants and the default of each."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import IO

from emulator.assumptions import ASSUMPTIONS
from emulator.commands.options import EXIT_OK

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "assumptions"
HELP = "list what the emulator assumes where no public source says, with the variants of each"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the registry as JSON")


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    del stderr
    if args.json:
        print(
            json.dumps([entry.to_dict() for entry in ASSUMPTIONS.values()], indent=2), file=stdout
        )
        return EXIT_OK
    for entry in ASSUMPTIONS.values():
        print(f"{entry.id}  ({entry.side})", file=stdout)
        print(
            textwrap.fill(entry.statement, 96, initial_indent="  ", subsequent_indent="  "),
            file=stdout,
        )
        for variant in entry.variants:
            mark = "*" if variant.name == entry.default else " "
            line = f"{mark} {variant.name}: {variant.does}"
            print(
                textwrap.fill(line, 96, initial_indent="   ", subsequent_indent="       "),
                file=stdout,
            )
        print(file=stdout)
    print(
        "* = default. Choose another with --assume ID=VARIANT (repeatable); why each default "
        "was chosen and what would settle it: docs/assumptions.md",
        file=stdout,
    )
    return EXIT_OK
